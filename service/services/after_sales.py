"""After-sales tickets of won deals: per pipeline, an admin turns on "on won, open a ticket" with a
type, a priority, the team it goes to and a checklist; sales calls `ticket_for_won_deal` (registered
with sales.services.on_won by service.apps) inside the transaction that wins the deal."""
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.access import user_access
from accounts.capabilities import Capability
from crm.lib.audit import audited

from ..models import AfterSalesRule, Ticket
from .tickets import ticket_create


def after_sales_rule_save(*, by, pipeline, **fields):
    """Create or change the after-sales rule of `pipeline` (fields: is_active, type, priority, team,
    checklist). Holders of service.settings:manage only. Returns it."""
    if not user_access(by).has(Capability.MANAGE_SERVICE):
        raise PermissionDenied
    with audited(by, "after_sales_rule_save"):
        rule, _created = AfterSalesRule.objects.update_or_create(pipeline=pipeline, defaults=fields)
    return rule


def ticket_for_won_deal(*, opportunity, by):
    """When the deal's pipeline has an active rule: an after-sales ticket for its customer and contact,
    linked to the deal, with the rule's checklist; once per deal and type (a deal won again after being
    reopened opens none). Written in the site's language, whoever won the deal. Returns it or None."""
    rule = (AfterSalesRule.objects.filter(pipeline_id=opportunity.pipeline_id, is_active=True)
            .select_related("type", "team").first())
    if rule is None or Ticket.objects.filter(opportunity=opportunity, type=rule.type).exists():
        return None
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("After-sales: %(deal)s") % {"deal": opportunity.name}
        description = _("Opened when the deal %(deal)s was won.") % {"deal": opportunity.name}
    return ticket_create(by=None, customer=opportunity.customer, contact=opportunity.contact, subject=subject,
                         description=description, type=rule.type, priority=rule.priority, channel="other",
                         team=rule.team, opportunity=opportunity, product=_only_product(opportunity),
                         checklist=rule.checklist_items())


def _only_product(opportunity):
    """The product of the deal when its lines name exactly one, else None."""
    from sales.models import OpportunityLine, Product

    ids = set(OpportunityLine.objects.filter(opportunity=opportunity).order_by().values_list("product_id", flat=True)
              .distinct()[:2])
    return Product.objects.get(pk=ids.pop()) if len(ids) == 1 else None
