"""Helpers of the contract and target tests: a won deal, an accepted quote (made directly, as the
quote pages would leave it), a contract with a given plan."""
import datetime
from decimal import Decimal

from django.utils import timezone

from sales import services
from sales.models import Quote, QuoteStatus, StageKind


def days(n, since=None):
    """The local date (as the services count days) `n` days from today or from `since`."""
    return (since or timezone.localdate()) + datetime.timedelta(days=n)


def win(deal, by):
    """Move the deal into its pipeline's won stage (as the rep would)."""
    return services.opportunity_move(opportunity=deal, stage=deal.pipeline.stages.get(kind=StageKind.WON), by=by)


def accepted_quote(deal, total, number="Q-TEST-001"):
    return Quote.objects.create(opportunity=deal, number=number, title=f"{deal.name}报价", total=Decimal(total),
                                list_total=Decimal(total), status=QuoteStatus.ACCEPTED)


def contract(deal, by, plan, **fields):
    """A contract for `deal` (won beforehand) whose amount is the plan's sum."""
    rows = [(due, Decimal(amount)) for due, amount in plan]
    return services.contract_create(
        by=by, opportunity=deal, title=fields.pop("title", "仓储系统合同"), amount=sum(a for _d, a in rows),
        signed_on=fields.pop("signed_on", days(-30)), instalments=rows, **fields)
