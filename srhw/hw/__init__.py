"""The fit: parts, budgets, the one roofline, folding search and BRAM mapping, report renderers."""
