"""What the admin's access check (设置 › 访问说明) can look up. The app that owns a kind of record
registers how to find one from what the admin types, e.g. in crm/settings_sections.py:

    register_checkable("customer", Customer, customers_for_access_check,
                       placeholder=_("Customer id or part of the name"))

`finder(term, *, viewer, limit)` returns at most `limit` records `viewer` may see themselves (through the
access layer), so the check never reveals a record outside the asker's own scope; `records_by_id_or_name`
is the usual way to write one. The check then explains the record with `access_explain`, which works
on any model the access layer knows. accounts names no business table: only what was registered.
"""
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Checkable", "checkables", "records_by_id_or_name", "records_matching", "register_checkable"]


@dataclass(frozen=True)
class Checkable:
    key: str
    model: type
    finder: Callable
    placeholder: str = ""
    order: int = 100

    @property
    def label(self):
        return self.model._meta.verbose_name


_registry: dict[str, Checkable] = {}


def register_checkable(key, model, finder, *, placeholder="", order=100):
    """Offer records of `model` in the access check, found by `finder(term, *, viewer, limit)`."""
    _registry[key] = Checkable(key=key, model=model, finder=finder, placeholder=placeholder, order=order)
    return _registry[key]


def unregister_checkable(key):
    _registry.pop(key, None)


def checkables():
    return sorted(_registry.values(), key=lambda c: (c.order, c.key))


def records_matching(key, term, *, viewer, limit=20):
    """The records of kind `key` that `term` names and `viewer` may see ([] for a blank term)."""
    term = (term or "").strip()
    if not term or key not in _registry:
        return []
    return list(_registry[key].finder(term, viewer=viewer, limit=limit))


def records_by_id_or_name(queryset, term, *, limit=20, name_field="name"):
    """The record of `queryset` whose id is `term`, else those whose `name_field` contains it, by name."""
    from crm.lib.inputs import parse_id

    pk = parse_id(term)  # ASCII digits within bigint: "²" is a name to look for, not an id
    if pk is not None:
        by_id = list(queryset.filter(pk=pk))
        if by_id:
            return by_id
    return list(queryset.filter(**{f"{name_field}__icontains": term}).order_by(name_field, "pk")[:limit])
