"""What the pages of a deal, a quote and a contract show of their history (accounts.history): the
record's own events and those of what hangs off it (ticked gate items and line items; quote lines
and approvals; instalments and payments), deletions included; and whether the reader may see the
customer and contact a deal names. Every name passes the access layer; a fixed number of queries."""
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from accounts.access import visible
from accounts.history import KINDS, child_title, hanging_off, history, of_record

from ..models import GateTick, Instalment, OpportunityLine, Payment, QuoteApproval, QuoteLine

__all__ = ["contract_history", "customer_seen", "deal_history", "quote_history", "with_customer_visible"]

HISTORY_SIZE = 30

ACTIONS = {
    "opportunity_create": _("created the deal"), "opportunity_move": _("moved the deal to another stage"),
    "opportunity_update": _("edited the deal"), "opportunity_probability": _("set the win probability"),
    "quote_create": _("created the quote"), "quote_update": _("edited the quote"),
    "quote_submit": _("submitted the quote for approval"), "approval_decide": _("decided on the quote's approval"),
    "quote_withdraw": _("withdrew the quote"), "quote_mark_sent": _("marked the quote sent"),
    "quote_mark_accepted": _("marked the quote accepted"), "contract_create": _("created the contract"),
    "contract_cancel": _("cancelled the contract"), "customer_merge": _("moved with a merge of customers"),
    "customer_merge_undo": _("moved back by undoing a merge of customers"),
}
# Gate items read better ticked and unticked than added and deleted.
TICKS = {"insert": _("ticked %(name)s"), "delete": _("unticked %(name)s")}


def customer_seen(user, opportunity):
    """{"customer_visible", "contact_visible"}: whether `user` may open the customer and the contact a
    deal names. A deal can be visible (its sales scope, or a share) when its customer is not: its
    page then names neither. One query."""
    from crm.models import Customer

    contact = opportunity.contact
    wanted = {opportunity.customer_id, *([contact.customer_id] if contact is not None else [])}
    seen = set(visible(user, Customer.objects.filter(pk__in=wanted)).values_list("pk", flat=True))
    return {"customer_visible": opportunity.customer_id in seen,
            "contact_visible": contact is not None and contact.customer_id in seen}


def with_customer_visible(queryset, user, customer="customer"):
    """`queryset` (of deals, quotes, contracts...) with `customer_visible`: whether `user` may open the
    customer its `customer` path names. Lists and exports show a customer's name only then, as a deal's
    page does (customer_seen); one correlated EXISTS in the same query, evaluated for the rows read."""
    from crm.models import Customer

    seen = visible(user, Customer.objects.filter(pk=OuterRef(f"{customer}_id")))
    return queryset.annotate(customer_visible=Exists(seen))


def _titled(events):
    for event in events:
        if event["own"]:
            event["title"] = ACTIONS.get(event["action"]) or KINDS[event["kind"]]
        elif event["model"] is GateTick and event["kind"] in TICKS:
            event["title"] = TICKS[event["kind"]] % {"name": event["record"]}
        else:
            event["title"] = child_title(event)
    return events


def deal_history(user, opportunity):
    """The deal's changes, its gate items ticked and unticked, its line items; newest first."""
    return _titled(history(user, [
        of_record(opportunity), *hanging_off(GateTick, "opportunity", opportunity.pk, every_event=True),
        *hanging_off(OpportunityLine, "opportunity", opportunity.pk, every_event=True)], limit=HISTORY_SIZE))


def quote_history(user, quote):
    """The quote's changes, its lines, its approvals asked and decided; newest first."""
    return _titled(history(user, [
        of_record(quote), *hanging_off(QuoteLine, "quote", quote.pk, every_event=True),
        *hanging_off(QuoteApproval, "quote", quote.pk, every_event=True)], limit=HISTORY_SIZE))


def contract_history(user, contract, instalments=None):
    """The contract's changes, its payment plan, its payments recorded and deleted; newest first.
    `instalments`: the contract's instalments when the caller has them (else one query more)."""
    ids = [i.pk for i in instalments] if instalments is not None else list(
        Instalment.objects.filter(contract=contract).values_list("pk", flat=True))
    return _titled(history(user, [
        of_record(contract), *hanging_off(Instalment, "contract", contract.pk, every_event=True),
        *hanging_off(Payment, "instalment", ids, every_event=True)], limit=HISTORY_SIZE))
