"""Sales quotes: services (to be written)."""
