"""Sales targets: forms (to be written)."""
