"""Sales contracts: services (to be written)."""
