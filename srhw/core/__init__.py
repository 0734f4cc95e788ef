"""The base every other package stands on: errors, all-or-nothing output, checkpoint I/O."""
