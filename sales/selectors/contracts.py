"""Reads of contracts and their payment plans, all through the access layer (a contract is visible
exactly when its deal is): the list with paid and outstanding sums, one contract's page, and the
contracts panel of a deal's page. Each in a fixed number of queries, however many rows."""
from decimal import Decimal

from django.db.models import DecimalField, Exists, ExpressionWrapper, F, Min, OuterRef, Prefetch, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from accounts.access import can_edit, get_visible_or_404, visible

from ..models import Contract, Instalment, InstalmentStatus, Payment, Quote, QuoteStatus, StageKind
from .history import contract_history, customer_seen, with_customer_visible

__all__ = ["contract_for", "contract_page", "contracts_of_deal", "contracts_visible_to", "payments_of"]

_MONEY = DecimalField(max_digits=16, decimal_places=2)


def _per_contract(queryset, expression):
    """A correlated subquery of one aggregate over the contract's instalments (no join, so no row
    multiplication when several are annotated)."""
    return Subquery(queryset.filter(contract=OuterRef("pk")).order_by().values("contract")
                    .annotate(value=expression).values("value")[:1])


def _with_sums(contracts):
    """Annotate paid_total (the instalments' paid), outstanding, has_overdue and next_due (the first
    open due date)."""
    instalments = Instalment.objects.all()
    return contracts.annotate(
        paid_total=Coalesce(_per_contract(instalments, Sum("paid")), Value(Decimal(0)), output_field=_MONEY),
        has_overdue=Exists(instalments.filter(contract=OuterRef("pk"), status=InstalmentStatus.OVERDUE)),
        next_due=_per_contract(instalments.exclude(status=InstalmentStatus.PAID), Min("due_on")),
    ).annotate(outstanding=ExpressionWrapper(F("amount") - F("paid_total"), output_field=_MONEY))


def contracts_visible_to(user, *, status=None, overdue=False):
    """The contracts the user may see, newest first, with paid_total, has_overdue and next_due, their
    deal and customer; narrowed to a status and to those with an overdue instalment when asked."""
    contracts = with_customer_visible(visible(user, Contract.objects.all()), user, "opportunity__customer")
    contracts = contracts.select_related("opportunity__customer")
    if status:
        contracts = contracts.filter(status=status)
    contracts = _with_sums(contracts)
    if overdue:
        contracts = contracts.filter(has_overdue=True)
    return contracts.order_by("-pk")


def contract_for(user, pk, *, write=False):
    """The contract `pk` if the user may see it (404 otherwise; 403 for write=True when the user may
    see but not edit its deal), with its deal, customer and quote."""
    qs = Contract.objects.select_related("opportunity__customer", "opportunity__contact", "opportunity__stage", "quote",
                                         "created_by")
    return get_visible_or_404(user, qs, pk, write=write)


def contract_page(user, contract):
    """What a contract's page shows: its instalments in order, each with its payments (and who
    recorded them), the paid and outstanding totals, whether the user may change it, its history
    (payments deleted included) and whether the user may see its customer."""
    payments = Payment.objects.select_related("recorded_by").order_by("received_on", "id")
    instalments = list(contract.instalments.prefetch_related(Prefetch("payments", queryset=payments))
                       .order_by("number"))
    paid = sum((i.paid for i in instalments), Decimal(0))
    return {
        "contract": contract, "instalments": instalments, "paid": paid,
        "history": contract_history(user, contract, instalments), **customer_seen(user, contract.opportunity),
        "outstanding": max(contract.amount - paid, Decimal(0)),
        "can_edit": can_edit(user, contract.opportunity),
    }


def contracts_of_deal(user, opportunity, *, editable=False):
    """The deal's panel: its contracts the user may see (with sums) and, when the user may edit the
    deal (`editable`), the newest accepted quote and whether a contract can be made (a won deal or
    an accepted quote). Two queries at most (one on a won deal)."""
    contracts = list(_with_sums(visible(user, Contract.objects.filter(opportunity=opportunity))).order_by("-pk"))
    accepted = None
    won = opportunity.stage.kind == StageKind.WON
    if editable and not won:  # a won deal needs no quote to make a contract
        accepted = (visible(user, Quote.objects.filter(opportunity=opportunity, status=QuoteStatus.ACCEPTED))
                    .order_by("-pk").first())
    return {
        "contracts": contracts, "accepted_quote": accepted,
        "can_create": editable and (won or accepted is not None),
    }


def payments_of(contract):
    """The payments recorded against the contract's instalments (the contract was read through the
    access layer by the caller), with their instalment."""
    return Payment.objects.filter(instalment__contract=contract).select_related("instalment")
