"""Sales contracts: selectors (to be written)."""
