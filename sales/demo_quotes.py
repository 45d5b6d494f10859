"""The demo company's quotes, made through the services (numbers, totals, approvals and the audit trail
are real) and then dated when they happened: accepted quotes behind recent won deals (their contracts
come from them, sales.demo_contracts), sent quotes on deals lost since, and on open deals one sent,
one approved by the rep's manager and sent, one awaiting the rep's manager and the 销售总监 for two
days (so their reminders are due), one rejected by the 销售总监 with a comment, and one draft.
Safe to run twice: nothing is added once a quote exists."""
import datetime
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from crm.demo import backdate, backdate_created_events
from crm.lib.audit import event_model

from .models import (
    DocumentNumbering,
    NumberCounter,
    Opportunity,
    Product,
    Quote,
    QuoteApproval,
    StageKind,
)
from .services import (
    QUOTE_VALID_DAYS,
    approval_decide,
    opportunity_lines_save,
    quote_create,
    quote_mark_accepted,
    quote_mark_sent,
    quote_submit,
)
from .services.numbering import format_number, next_number

# On open deals: (rep index, deal index among the rep's open deals furthest on, [(product code, quantity,
# discount %)] or None to keep the deal's lines, what to do, days ago it was made)
PLAN = [
    (0, 0, [("ERP-STD", 1, 8), ("SVC-Y", 3, 5)], "sent", 6),
    (0, 1, [("ERP-PRO", 1, 30), ("SVC-Y", 2, 20)], "pending", 2),
    (1, 0, [("WMS", 2, 28)], "rejected", 9),
    (1, 1, [("ERP-STD", 1, 0)], "draft", 1),
    (2, 0, [("ERP-PRO", 1, 15), ("SVC-Y", 1, 0)], "approved_sent", 5),
]
WON_QUOTES, LOST_QUOTES = 2, 1  # per rep: recent won deals with an accepted quote, lost ones with a sent one
RECENT_DAYS = 150


def seed_quotes_demo(*, director, reps):
    """Quotes on the deals of `reps` (users, in order); `director` (a 销售总监) rejects one. Returns True
    when anything was added."""
    if Quote.objects.exists():
        return False
    products = {p.code: p for p in Product.objects.filter(is_active=True)}
    reps, counter = list(reps), _today_counter()
    made = []  # (quote, its story: {field: time})
    for rep in reps:
        made += [_past_quote(deal, rep, "accepted") for deal in _closed_deals(rep, StageKind.WON, WON_QUOTES)]
        made += [_past_quote(deal, rep, "sent") for deal in _closed_deals(rep, StageKind.LOST, LOST_QUOTES)]
    for rep_index, deal_index, lines, outcome, days_ago in PLAN:
        if rep_index >= len(reps):
            continue
        rep = reps[rep_index]
        deals = _open_deals(rep)
        wanted = [(products[code], quantity, discount) for code, quantity, discount in lines if code in products]
        if len(deals) <= deal_index or not wanted:
            continue
        deal = opportunity_lines_save(opportunity=deals[deal_index], by=rep, lines=[
            {"product": product, "quantity": Decimal(quantity), "discount_percent": Decimal(discount)}
            for product, quantity, discount in wanted])
        made.append(_open_quote(deal, rep, director, outcome, days_ago))
    if not made:
        return False
    _date(made, counter)
    return True


def _closed_deals(rep, kind, count):
    """The rep's latest deals of the project pipeline closed `kind` in the last months after
    negotiating (they reached the last open stage)."""
    since = timezone.now() - datetime.timedelta(days=RECENT_DAYS)
    deals = Opportunity.objects.filter(owner=rep, stage__kind=kind, closed_at__gte=since,
                                       pipeline__name="项目型销售").order_by("-closed_at")
    return [deal for deal in deals.prefetch_related("stage_visits__stage") if _negotiated(deal)][:count]


def _negotiated(deal):
    return any(visit.stage.name == "商务谈判" for visit in deal.stage_visits.all())


def _open_deals(rep):
    """The rep's open deals, furthest on first (the latest to get there first)."""
    return list(Opportunity.objects.filter(owner=rep, closed_at=None).select_related("stage")
                .order_by("-stage__order", "-stage_entered_at", "id"))


def _past_quote(deal, rep, outcome):
    """A quote made when the deal entered its negotiation, sent the next day; accepted a few days
    before a won deal closed."""
    negotiation = next(v.entered_at for v in deal.stage_visits.all() if v.stage.name == "商务谈判")
    created = negotiation + datetime.timedelta(hours=3)
    quote = quote_create(opportunity=deal, by=rep, title=f"{deal.name}报价")
    quote = quote_submit(quote=quote, by=rep)
    quote = quote_mark_sent(quote=quote, by=rep)
    story = {"created_at": created, "submitted_at": created, "decided_at": created,
             "sent_at": created + (deal.closed_at - created) / 4}
    if outcome == "accepted":
        quote = quote_mark_accepted(quote=quote, by=rep)
        story["accepted_at"] = deal.closed_at - (deal.closed_at - created) / 5
    return quote, story


def _open_quote(deal, rep, director, outcome, days_ago):
    created = max(timezone.now() - datetime.timedelta(days=days_ago, hours=2),
                  deal.created_at + datetime.timedelta(hours=4))
    created = min(created, timezone.now() - datetime.timedelta(minutes=30))
    later = (timezone.now() - created) / 4  # steps between the events of its story
    quote = quote_create(opportunity=deal, by=rep, title=f"{deal.name}报价")
    story = {"created_at": created}
    if outcome == "draft":
        return quote, story
    quote = quote_submit(quote=quote, by=rep)
    story.update(submitted_at=created, decided_at=created)
    approvals = sorted(quote.approvals.select_related("quote", "approver"), key=lambda a: a.approver_id is None)
    if outcome == "approved_sent":
        for approval in approvals:
            approval_decide(approval=approval, by=approval.approver or director, approve=True, comment="同意")
        quote = quote_mark_sent(quote=quote, by=rep)
        story.update(decided_at=created + later, sent_at=created + 2 * later, approvals=[created + later])
    elif outcome == "sent":
        quote = quote_mark_sent(quote=quote, by=rep)
        story["sent_at"] = created + later
    elif outcome == "rejected":
        # The manager's approval first: the 销售总监's rejection then ends the round.
        for approval in approvals:
            if approval.approver_id:
                approval_decide(approval=approval, by=approval.approver, approve=True, comment="同意，请总监审批")
            else:
                approval_decide(approval=approval, by=director, approve=False,
                                comment="折扣超出授权，请调整到 20% 以内后重新提交")
        story.update(decided_at=created + 2 * later, approvals=[created + later, created + 2 * later])
    return quote, story


def _date(made, counter):
    """Date each quote (and its approvals) as its story says, and number it by the day it was made, in
    the order they were made; today's counter goes back to `counter` (no quote of the demo is from today)."""
    columns = ["created_at", "submitted_at", "decided_at", "sent_at", "accepted_at"]
    dated, approvals, numbers = {}, {}, {}
    for quote, story in sorted(made, key=lambda pair: pair[1]["created_at"]):
        created = story["created_at"]
        numbers[quote.pk] = (next_number("quote", Quote, day=timezone.localdate(created)),)
        times = tuple(story.get(name) for name in columns)
        dated[quote.pk] = (*times, timezone.localdate(created) + datetime.timedelta(days=QUOTE_VALID_DAYS),
                           max(t for t in times if t))
        decisions = iter(story.get("approvals", []))
        for approval in quote.approvals.order_by("id"):
            approvals[approval.pk] = (created, next(decisions, None) if approval.decided_at else None)
    backdate(Quote, dated, [*columns, "valid_until", "updated_at"])
    backdate(QuoteApproval, approvals, ["requested_at", "decided_at"])
    # The number is the quote's from the start: in its history too, whose "created" entry dates from then.
    backdate(Quote, numbers, ["number"])
    backdate_created_events(Quote, list(numbers))
    with connection.cursor() as cursor:
        cursor.execute(f"""UPDATE "{event_model(Quote)._meta.db_table}" e SET number = q.number FROM sales_quote q
                           WHERE e.pgh_obj_id = q.id AND q.id = ANY(%s)""", [list(numbers)])
    _restore_counter(counter)


def _today_counter():
    """(prefix, last number) of today's quote counter (None: no quote numbered today yet)."""
    pattern = (DocumentNumbering.objects.filter(kind="quote").values_list("pattern", flat=True).first()
               or DocumentNumbering.DEFAULTS["quote"])
    prefix = format_number(pattern, timezone.localdate(), None)
    return prefix, NumberCounter.objects.filter(kind="quote", prefix=prefix).values_list("last", flat=True).first()


def _restore_counter(counter):
    prefix, last = counter
    if last is None:
        NumberCounter.objects.filter(kind="quote", prefix=prefix).delete()
    else:
        NumberCounter.objects.filter(kind="quote", prefix=prefix).update(last=last)
