"""Panels on the customer page that other areas fill in: sales (opportunities), service (tickets) and
marketing (campaigns) register a template here from their `AppConfig.ready()` and the 360° page renders
each one in its side column, in `order`.

    from crm.panels import register_panel
    register_panel("sales/partials/customer_opportunities.html", 10, key="opportunities",
                   context=lambda user, customer: {"opportunities": opportunities_of(user, customer)})

A panel registered under an existing `key` replaces that one: crm registers a placeholder per later
area, which says there is nothing yet, and the area's real panel takes its place. `context` (optional)
is called with the signed-in user and the customer and must read through the access layer; keep it to
a fixed number of queries.
"""
from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

__all__ = ["Panel", "panels_for", "register_panel", "registered_panels", "unregister_panel"]


@dataclass(frozen=True)
class Panel:
    key: str
    template_name: str
    order: int
    context: Callable | None = None


_registry: dict[str, Panel] = {}


def register_panel(template_name, order=100, *, key=None, context=None):
    """Show `template_name` on every customer page (lower `order` first). Returns the panel."""
    panel = Panel(key=key or template_name, template_name=template_name, order=order, context=context)
    _registry[panel.key] = panel
    return panel


def unregister_panel(key):
    _registry.pop(key, None)


def registered_panels():
    return sorted(_registry.values(), key=lambda p: (p.order, p.key))


def panels_for(user, customer):
    """The panels to render for one customer page: [{"key", "template_name", "data"}]."""
    return [
        {"key": p.key, "template_name": p.template_name, "data": p.context(user, customer) if p.context else {}}
        for p in registered_panels()
    ]


def _placeholder(title, icon, empty):
    return lambda user, customer: {"title": title, "icon": icon, "empty": empty}


# Until the later areas bring their own, the page says where their records will appear.
PLACEHOLDER = "crm/partials/panel_placeholder.html"
register_panel(PLACEHOLDER, 10, key="opportunities", context=_placeholder(
    _("Opportunities"), "graph-up-arrow", _("No opportunities yet.")))
register_panel(PLACEHOLDER, 20, key="tickets", context=_placeholder(
    _("Tickets"), "headset", _("No tickets yet.")))
register_panel(PLACEHOLDER, 30, key="campaigns", context=_placeholder(
    _("Campaigns"), "megaphone", _("No campaigns yet.")))
