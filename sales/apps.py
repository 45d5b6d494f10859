from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "sales"
    verbose_name = _("Sales")

    def ready(self):
        from crm.panels import register_panel

        from . import services

        services.on_won(_customer_won)
        register_panel("sales/partials/customer_opportunities.html", 10, key="opportunities", context=_panel)


def _panel(user, customer):
    """The customer page's deals panel: the deals the user may see, and whether they may open one
    (on a customer they may change: opportunity_create refuses one shared read-only)."""
    from accounts.access import can_edit, user_access
    from accounts.capabilities import Module

    from . import selectors

    if not user_access(user).can_open(Module.SALES):
        return {"opportunities": [], "can_create": False}
    editable = getattr(customer, "user_can_edit", None)  # the customer page has asked already
    return {"opportunities": selectors.opportunities_of_customer(user, customer),
            "can_create": can_edit(user, customer) if editable is None else editable}


def _customer_won(*, opportunity, by):
    """A won deal makes its customer a won customer, dated today, with the deal's amount if it had none."""
    from crm.services.customers import customer_deal_won

    customer_deal_won(customer_id=opportunity.customer_id, on=opportunity.closed_at.date(), amount=opportunity.amount)
