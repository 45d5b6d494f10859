"""The demo company's quotes: product lines on a few open deals and quotes in different states, made
through the services so numbers, totals, approvals and the audit trail are real: one sent (approved
at once), one awaiting the rep's manager and the 销售总监, one rejected by the 销售总监 with a comment,
and one draft. Safe to run twice: nothing is added once a quote exists."""
from decimal import Decimal

from .models import Opportunity, Product, Quote
from .services import approval_decide, opportunity_lines_save, quote_create, quote_mark_sent, quote_submit

# (rep index, deal index among the rep's open deals, [(product code, quantity, discount %)], what to do)
PLAN = [
    (0, 0, [("ERP-STD", 1, 8), ("SVC-Y", 3, 5)], "sent"),
    (0, 1, [("ERP-PRO", 1, 30), ("SVC-Y", 2, 20)], "pending"),
    (1, 0, [("WMS", 2, 28)], "rejected"),
    (1, 1, [("ERP-STD", 1, 0)], "draft"),
]


def seed_quotes_demo(*, director, reps):
    """Lines and quotes on the open deals of `reps` (users, in order); `director` (a 销售总监) rejects
    one. Returns True when anything was added."""
    if Quote.objects.exists():
        return False
    products = {p.code: p for p in Product.objects.filter(is_active=True)}
    reps = list(reps)
    added = False
    for rep_index, deal_index, lines, outcome in PLAN:
        if rep_index >= len(reps):
            continue
        rep = reps[rep_index]
        deals = list(Opportunity.objects.filter(owner=rep, closed_at=None).order_by("id")[:deal_index + 1])
        wanted = [(products[code], quantity, discount) for code, quantity, discount in lines if code in products]
        if len(deals) <= deal_index or not wanted:
            continue
        deal = opportunity_lines_save(opportunity=deals[deal_index], by=rep, lines=[
            {"product": product, "quantity": Decimal(quantity), "discount_percent": Decimal(discount)}
            for product, quantity, discount in wanted])
        _make_quote(deal, rep, director, outcome)
        added = True
    return added


def _make_quote(deal, rep, director, outcome):
    quote = quote_create(opportunity=deal, by=rep, title=f"{deal.name}报价")
    if outcome == "draft":
        return quote
    quote = quote_submit(quote=quote, by=rep)
    if outcome == "sent":
        return quote_mark_sent(quote=quote, by=rep)
    if outcome == "rejected":
        # The manager's approval first: the 销售总监's rejection then ends the round.
        approvals = quote.approvals.select_related("quote", "approver")
        for approval in sorted(approvals, key=lambda a: a.approver_id is None):
            if approval.approver_id:
                approval_decide(approval=approval, by=approval.approver, approve=True, comment="同意，请总监审批")
            else:
                approval_decide(approval=approval, by=director, approve=False,
                                comment="折扣超出授权，请调整到 20% 以内后重新提交")
    return quote
