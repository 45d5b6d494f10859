"""Sales quotes: forms (to be written)."""
