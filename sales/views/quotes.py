"""Sales quotes: views (to be written)."""
