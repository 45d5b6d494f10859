"""Sales targets: services (to be written)."""
