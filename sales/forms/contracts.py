"""Sales contracts: forms (to be written)."""
