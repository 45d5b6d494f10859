"""Celery tasks of the sales app (thin wrappers over services, taking ids)."""
