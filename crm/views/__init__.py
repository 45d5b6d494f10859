"""Views of the customer core, one module per area; `crm/urls.py` wires them."""
