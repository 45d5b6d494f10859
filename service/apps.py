from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceConfig(AppConfig):
    name = "service"
    verbose_name = _("Service")

    def ready(self):
        from crm.panels import register_panel
        from sales.services import on_won

        register_panel("service/partials/customer_tickets.html", 20, key="tickets", context=_panel)
        on_won(_won)


def _panel(user, customer):
    """The customer page's tickets panel: read-only for everyone who may see the customer; a link to a
    ticket only for those who may open it, and a button to open one for agents."""
    from accounts.access import user_access
    from accounts.capabilities import Module

    from . import selectors

    return {**selectors.tickets_of_customer(user, customer),
            "can_create": user_access(user).can_open(Module.SERVICE) and customer.archived_at is None}


def _won(*, opportunity, by):
    from .services.after_sales import ticket_for_won_deal

    ticket_for_won_deal(opportunity=opportunity, by=by)
