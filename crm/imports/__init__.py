"""Importing legacy customer lists: read a file (read.py), find its header and data rows (layout.py),
map columns to fields (fields.py), clean each value (clean.py); the writes are in
crm/services/imports.py and run on Celery (crm/tasks.py)."""
