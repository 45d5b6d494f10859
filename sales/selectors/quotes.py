"""Reads of deal line items, quotes and their approvals, all through the access layer: a quote (and
its lines and approvals) is visible exactly when its deal is. Each page's reads are a fixed number of
queries however many lines, quotes or approvals there are."""
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from accounts.access import can_edit, get_visible_or_404, user_access, visible

from ..models import (
    ApprovalDecision,
    DocumentNumbering,
    NumberCounter,
    OpportunityLine,
    Quote,
    QuoteApproval,
    QuoteStatus,
)
from .history import with_customer_visible

__all__ = [
    "QUOTE_LIST_SIZE", "approvals_inbox", "deal_lines", "deal_quotes", "document_numbering_overview",
    "quote_for", "quote_list", "quote_page", "quote_print_page", "quotes_visible_to",
]

QUOTE_LIST_SIZE = 50

_QUOTE_RELATED = ("opportunity__customer", "opportunity__contact", "opportunity__owner__team", "created_by",
                  "submitted_by")


def quotes_visible_to(user):
    return visible(user, Quote.objects.all())


def quote_for(user, pk, *, write=False):
    """The quote `pk` with its deal, customer, contact and rep if the user may see it (404 otherwise;
    403 for write=True when the deal is visible but not editable)."""
    return get_visible_or_404(user, Quote.objects.select_related(*_QUOTE_RELATED), pk, write=write)


def _lines(quote):
    return list(quote.lines.select_related("product").order_by("order", "id"))


def quote_page(user, quote):
    """What a quote's page shows: lines, the approval trail (every round, oldest first), whether the
    user may edit the quote, which pending approvals the user may decide, and whether the user is
    barred from deciding any (they set its discount or submitted it). Four queries."""
    approvals = list(quote.approvals.select_related("approver", "approver_role", "decided_by")
                     .order_by("requested_at", "id"))
    my_roles = set(user.roles.values_list("pk", flat=True))
    superuser = user_access(user).is_superuser
    # Whoever set the discount or submitted the quote decides none of its approvals (sales.services).
    excluded = user.pk in quote.priced_by or user.pk == quote.submitted_by_id
    decidable = [a for a in approvals if a.decision == ApprovalDecision.PENDING and quote.status == QuoteStatus.PENDING
                 and not excluded
                 and (superuser or a.approver_id == user.pk or (a.approver_role_id and a.approver_role_id in my_roles))]
    lines = _lines(quote)
    return {"quote": quote, "opportunity": quote.opportunity, "lines": lines, "approvals": approvals,
            "decidable": decidable, "excluded_approver": excluded, "can_edit": can_edit(user, quote.opportunity),
            "lines_total": sum((line.total for line in lines), 0),
            "expired": bool(quote.valid_until and quote.valid_until < timezone.localdate())}


def quote_print_page(user, pk):
    """The quote `pk` (404 if the user may not see it) and what its print page shows: the quote page,
    and whether the customer's details (address, phones, the contact) may be shown. Those are the
    customer's data: shown only to whoever may see the customer, not to everyone who sees the deal
    (a wider sales scope, or a share of the deal). Asked within the quote's own query."""
    from crm.models import Customer

    customers = visible(user, Customer.objects.filter(pk=OuterRef("opportunity__customer_id")))
    quotes = Quote.objects.select_related(*_QUOTE_RELATED).annotate(customer_visible=Exists(customers))
    quote = get_visible_or_404(user, quotes, pk)
    return {**quote_page(user, quote), "customer_details": quote.customer_visible}


def quote_list(user, *, status=""):
    """The visible quotes, newest first (ordered by -pk, for crm.lib.paging.older_page), optionally of one
    status, with their deal, customer and rep."""
    quotes = with_customer_visible(quotes_visible_to(user), user, "opportunity__customer").select_related(
        "opportunity__customer", "opportunity__owner")
    if status in QuoteStatus.values:
        quotes = quotes.filter(status=status)
    return quotes.order_by("-pk")


def approvals_inbox(user):
    """Pending approvals of quotes awaiting approval that are routed to the user or to one of the
    user's roles (any, for a superuser), of quotes the user may see and neither priced nor submitted;
    oldest first."""
    pending = (QuoteApproval.objects.filter(decision=ApprovalDecision.PENDING, quote__status=QuoteStatus.PENDING)
               .exclude(quote__priced_by__contains=[user.pk]).exclude(quote__submitted_by=user))
    if not user_access(user).is_superuser:
        pending = pending.filter(Q(approver=user) | Q(approver_role__in=user.roles.values("pk")))
    pending = pending.select_related("quote__opportunity__customer", "quote__opportunity__owner", "approver_role")
    pending = with_customer_visible(visible(user, pending), user, "quote__opportunity__customer")
    return list(pending.order_by("requested_at", "id"))


def deal_lines(opportunity):
    """The deal's product lines in order, with their products (one query)."""
    return list(OpportunityLine.objects.filter(opportunity=opportunity).select_related("product")
                .order_by("order", "id"))


def deal_quotes(user, opportunity):
    """The deal's quotes the user may see, newest first (one query)."""
    return list(quotes_visible_to(user).filter(opportunity=opportunity).order_by("-pk"))


def document_numbering_overview(day=None):
    """Each numbered document kind with its pattern and the number the next one will get (without
    taking it)."""
    day = day or timezone.localdate()
    patterns = {n.kind: n.pattern for n in DocumentNumbering.objects.all()}
    rows = []
    for kind, label in DocumentNumbering.Kind.choices:
        pattern = patterns.get(kind, DocumentNumbering.DEFAULTS[kind])
        rows.append({"kind": kind, "label": label, "pattern": pattern,
                     "next": _preview(kind, pattern, day)})
    return rows


def _preview(kind, pattern, day):
    from ..services.numbering import format_number  # the numbering's own formatter (imported late: no cycle)

    prefix = format_number(pattern, day, None)
    last = NumberCounter.objects.filter(kind=kind, prefix=prefix).values_list("last", flat=True).first() or 0
    return format_number(pattern, day, last + 1)
