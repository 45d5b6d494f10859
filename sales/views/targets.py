"""Sales targets: views (to be written)."""
