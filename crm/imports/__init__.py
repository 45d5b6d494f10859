"""Importing legacy customer lists: read a file (read.py), find its header and data rows (layout.py),
map columns to fields (fields.py), clean each value (clean.py); the writes are in
crm/services/imports/, one module per step, and run on Celery (crm/tasks.py)."""
