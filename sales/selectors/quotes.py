"""Sales quotes: selectors (to be written)."""
