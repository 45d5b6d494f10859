from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "sales"
    verbose_name = _("Sales")

    def ready(self):
        from . import services

        services.on_won(_customer_won)


def _customer_won(*, opportunity, by):
    """A won deal makes its customer a won customer, dated today, with the deal's amount if it had none."""
    from crm.services.customers import customer_deal_won

    customer_deal_won(customer_id=opportunity.customer_id, on=opportunity.closed_at.date(), amount=opportunity.amount)
