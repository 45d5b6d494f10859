"""Writes to the customer core."""
from django.core.exceptions import PermissionDenied

from accounts.access import can_edit, user_access
from accounts.capabilities import Module
from accounts.services import audited

from .models import Customer


def customer_create(*, by, name, owner=None, team=None):
    """A new customer, owned by `by` in their team unless given otherwise."""
    if not user_access(by).can_open(Module.CUSTOMERS):
        raise PermissionDenied
    with audited(by, "customer_create"):
        return Customer.objects.create(
            name=name, owner=owner or by, team=team or (owner or by).team,
        )


def customer_update(*, customer, by, **fields):
    """Change a customer `by` may edit; anything else is refused before a write happens."""
    if not can_edit(by, customer):
        raise PermissionDenied
    with audited(by, "customer_update"):
        for key in ("name", "owner", "team"):
            if key in fields:
                setattr(customer, key, fields[key])
        customer.full_clean()
        customer.save()
    return customer
