"""Sales targets: selectors (to be written)."""
