"""Sales contracts: views (to be written)."""
