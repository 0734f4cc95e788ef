"""One exception for bad input: the CLI prints its message as one line and exits with code 2."""


class SrhwError(Exception):
    """A user-facing error: bad spec, wrong scale, corrupt file, impossible fit, ..."""
