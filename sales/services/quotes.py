"""Writes of deal line items, quotes (报价单) and their discount approvals, and of the discount rules.

A quote is made from a deal (its lines copied), edited while it is a draft (or after a rejection, which
puts it back to draft), then submitted: every active discount rule its total discount passes asks one
approval, routed to the rep's manager or to the holders of a role. It is approved when all approvals
are, rejected as soon as one is; then sent and accepted. Each write is one audited transaction; quote
writes lock the quote's row and refuse a stale `version`.

Whoever set a quote's discount (made it, wrote the deal lines it was made from, or changed its prices
or discounts) or submitted it never approves it: their approval goes up the manager chain, or to the
role's other holders, or to the next rule up; with nobody left the submission is refused and says so."""
import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.access import user_access, visible
from accounts.services import audited

from ..models import (
    ApprovalDecision,
    DiscountRule,
    Opportunity,
    OpportunityLine,
    Product,
    Quote,
    QuoteApproval,
    QuoteLine,
    QuoteStatus,
)
from .deals import _require_configure, _require_edit, locked_deal
from .numbering import next_number

__all__ = [
    "QUOTE_VALID_DAYS", "QUOTE_EDITABLE_FIELDS", "approval_decide", "discount_rule_delete", "discount_rule_save",
    "excluded_approvers", "may_decide", "opportunity_lines_save", "quote_create", "quote_mark_accepted", "quote_mark_sent",
    "quote_submit", "quote_update", "quote_withdraw",
]

QUOTE_VALID_DAYS = 30
QUOTE_EDITABLE_FIELDS = ("title", "valid_until", "extra_discount_percent", "terms", "lines")
_CENT = Decimal("0.01")


# Lines ---------------------------------------------------------------------------------------------

def _clean_lines(lines, *, kept=()):
    """Check line dicts ({product, quantity, unit_price=None, discount_percent=0, description=""}) and
    return unsaved line kwargs in order. Products come from the active catalogue; `kept` are lines
    already on the document, whose products (even if retired since) and list prices stay."""
    lines = list(lines)
    known = {line.product_id: line.list_price for line in kept}
    wanted = {getattr(line["product"], "pk", line["product"]) for line in lines}
    products = {p.pk: p for p in Product.objects.filter(pk__in=wanted)}
    cleaned = []
    for index, line in enumerate(lines):
        product = products.get(getattr(line["product"], "pk", line["product"]))
        if product is None or not (product.is_active or product.pk in known):
            raise ValidationError(_("Line %(n)s: choose a product from the catalogue.") % {"n": index + 1})
        quantity = Decimal(line.get("quantity") or 0)
        discount = Decimal(line.get("discount_percent") or 0)
        list_price = known.get(product.pk, product.list_price)
        unit_price = line.get("unit_price")
        unit_price = list_price if unit_price in (None, "") else Decimal(unit_price)
        if quantity <= 0:
            raise ValidationError(_("Line %(n)s: the quantity must be more than 0.") % {"n": index + 1})
        if not 0 <= discount <= 100:
            raise ValidationError(_("Line %(n)s: a discount is between 0 and 100%%.") % {"n": index + 1})
        if unit_price < 0:
            raise ValidationError(_("Line %(n)s: the unit price cannot be negative.") % {"n": index + 1})
        cleaned.append({"product": product, "description": (line.get("description") or "").strip(),
                        "quantity": quantity, "list_price": list_price, "unit_price": unit_price,
                        "discount_percent": discount, "order": (index + 1) * 10})
    return cleaned


def _lines_total(lines):
    return sum((line.total for line in lines), Decimal(0))


def _pricing(lines, extra_discount=0):
    """What a document's prices and discounts are, to tell whether a change set them anew."""
    return (sorted((line.product_id, line.quantity, line.unit_price, line.discount_percent) for line in lines),
            Decimal(extra_discount or 0))


def _with(user_ids, user):
    return list(user_ids) if user is None or user.pk in user_ids else [*user_ids, user.pk]


def opportunity_lines_save(*, opportunity, by, lines, version=None):
    """Replace the deal's product lines. With lines, the deal's amount becomes their total; without,
    it stays as it was. Refused with a conflict when `version` is not the deal's current one."""
    _require_edit(opportunity, by)
    with audited(by, "opportunity_lines_save"):
        locked = locked_deal(opportunity, version)
        kept = list(locked.lines.all())
        cleaned = _clean_lines(lines, kept=kept)
        locked.lines.all().delete()
        new = OpportunityLine.objects.bulk_create([OpportunityLine(opportunity=locked, **line) for line in cleaned])
        if new:
            locked.amount = _lines_total(new)
        if _pricing(new) != _pricing(kept):
            locked.lines_priced_by = _with(locked.lines_priced_by, by)
        locked.version = F("version") + 1
        locked.save()
        locked.refresh_from_db()
    return locked


# Quotes --------------------------------------------------------------------------------------------

def _set_totals(quote, lines):
    """List total: Σ quantity × list price. Total: Σ line totals less the discount on the whole."""
    quote.list_total = sum((line.list_total for line in lines), Decimal(0))
    whole = Decimal(100) - (quote.extra_discount_percent or 0)
    quote.total = (_lines_total(lines) * whole / 100).quantize(_CENT, rounding=ROUND_HALF_UP)


def quote_create(*, opportunity, by, title=None, valid_until=None):
    """A draft quote for the deal, numbered by the quote numbering pattern, with the deal's lines (or
    none), valid for QUOTE_VALID_DAYS days unless a date is given."""
    _require_edit(opportunity, by)
    title = (title or "").strip() or _("Quote for %(deal)s") % {"deal": opportunity.name}
    valid_until = valid_until or timezone.localdate() + datetime.timedelta(days=QUOTE_VALID_DAYS)
    with audited(by, "quote_create"):
        quote = Quote(opportunity=opportunity, number=next_number("quote", Quote), title=title[:120],
                      valid_until=valid_until, currency=opportunity.currency, created_by=by,
                      priced_by=_with(opportunity.lines_priced_by, by))
        deal_lines = list(opportunity.lines.all())
        lines = [QuoteLine(quote=quote, product_id=line.product_id, description=line.description,
                           quantity=line.quantity, list_price=line.list_price, unit_price=line.unit_price,
                           discount_percent=line.discount_percent, order=line.order) for line in deal_lines]
        _set_totals(quote, lines)
        quote.save()
        QuoteLine.objects.bulk_create(lines)
    return quote


def _locked_quote(quote, version):
    locked = Quote.objects.select_for_update().select_related("opportunity").get(pk=quote.pk)
    if version is not None and locked.version != version:
        raise ValidationError(_("Someone else changed this quote meanwhile; reload it and try again."),
                              code="conflict")
    return locked


def _require_status(quote, *statuses, message):
    if quote.status not in statuses:
        raise ValidationError(message, code="status")


def _bump(quote, *fields):
    quote.version = F("version") + 1
    quote.save(update_fields=[*fields, "version", "updated_at"])
    quote.refresh_from_db()
    return quote


def quote_update(*, quote, by, version=None, **fields):
    """Change a draft (or rejected) quote: title, validity, the discount on the whole, terms and lines
    (replaced when given). A rejected quote goes back to draft. Totals are recomputed."""
    unknown = set(fields) - set(QUOTE_EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable here: {sorted(unknown)}")
    _require_edit(quote.opportunity, by)
    extra = fields.get("extra_discount_percent")
    if extra is not None and not 0 <= extra <= 100:
        raise ValidationError({"extra_discount_percent": _("A discount is between 0 and 100%.")})
    with audited(by, "quote_update"):
        locked = _locked_quote(quote, version)
        _require_status(locked, QuoteStatus.DRAFT, QuoteStatus.REJECTED,
                        message=_("Only a draft or a rejected quote can be changed."))
        extra_before = locked.extra_discount_percent
        for name in ("title", "valid_until", "extra_discount_percent", "terms"):
            if name in fields:
                value = fields[name]
                setattr(locked, name, value.strip() if isinstance(value, str) else value)
        if not locked.title:
            raise ValidationError({"title": _("Enter a title.")})
        kept = list(locked.lines.all())
        if "lines" in fields:
            cleaned = _clean_lines(fields["lines"], kept=kept)
            locked.lines.all().delete()
            lines = QuoteLine.objects.bulk_create([QuoteLine(quote=locked, **line) for line in cleaned])
        else:
            lines = kept
        if _pricing(lines, locked.extra_discount_percent) != _pricing(kept, extra_before):
            locked.priced_by = _with(locked.priced_by, by)
        _set_totals(locked, lines)
        locked.status = QuoteStatus.DRAFT
        return _bump(locked, "title", "valid_until", "extra_discount_percent", "terms", "list_total", "total",
                     "status", "priced_by")


def _boss_of(user):
    """Who approves above `user`: their manager, else the lead of their team (not themselves)."""
    if user.manager_id:
        return user.manager
    lead = user.team.lead if user.team_id else None
    return lead if lead is not None and lead.pk != user.pk else None


def _manager_of(opportunity):
    """Who approves for "the rep's manager": the deal owner's manager, else the lead of the owner's team."""
    owner = opportunity.owner
    return _boss_of(owner) if owner is not None else None


def excluded_approvers(quote, submitter=None):
    """The ids of the people who may not approve `quote`: whoever set its discount or submitted it."""
    submitter_id = submitter.pk if submitter is not None else quote.submitted_by_id
    return {*quote.priced_by, *([submitter_id] if submitter_id else [])}


def _manager_route(quote, rule, excluded):
    """The rep's manager, or the first one up the manager chain who neither set the discount nor
    submitted the quote (and still works here); None when the chain runs out."""
    manager = _manager_of(quote.opportunity)
    if manager is None:
        raise ValidationError(_("A discount over %(over)s%% needs the rep's manager, and the deal's owner has "
                                "no manager or team lead. Ask an administrator to set one.")
                              % {"over": rule.over_percent.normalize()})
    seen = set()
    while manager is not None and (manager.pk in excluded or not manager.is_active):
        seen.add(manager.pk)
        manager = _boss_of(manager)
        if manager is not None and manager.pk in seen:  # a loop in the chain
            manager = None
    if manager is None:
        return None
    if not visible(manager, Opportunity.objects.filter(pk=quote.opportunity_id)).exists():
        raise ValidationError(_("The rep's manager %(name)s cannot see this deal, so cannot approve it. "
                                "Ask an administrator to share it.") % {"name": manager.name})
    return manager, None


def _role_route(rule, excluded):
    """The rule's role, if an active holder is left who neither set the discount nor submitted it."""
    holders = rule.role.users.filter(is_active=True).exclude(pk__in=excluded)
    return (None, rule.role) if holders.exists() else None


def _route(quote, rule, above, excluded):
    """(approver, role) for one rule the discount passes: its own, else the next rule's up."""
    for step in (rule, *above):
        if step.approver == DiscountRule.Approver.ROLE:
            found = _role_route(step, excluded)
        else:
            found = _manager_route(quote, step, excluded)
        if found is not None:
            return found
    raise ValidationError(_("Nobody is left to approve a discount over %(over)s%%: everyone it would go to set "
                            "this discount or submitted the quote. Ask someone else to submit it, or an "
                            "administrator to name another approver.") % {"over": rule.over_percent.normalize()})


def _routes(quote, discount, excluded):
    """One (rule, approver, role) per distinct routing of the active rules the discount passes."""
    ladder = list(DiscountRule.objects.filter(is_active=True).select_related("role").order_by("over_percent", "id"))
    routes = {}
    for index, rule in enumerate(ladder):
        if rule.over_percent >= discount:
            break
        approver, role = _route(quote, rule, ladder[index + 1:], excluded)
        key = ("user", approver.pk) if approver is not None else ("role", role.pk)
        routes.setdefault(key, (rule, approver, role))
    return list(routes.values())


def quote_submit(*, quote, by, version=None):
    """Submit a draft quote with lines. Its total discount picks the approvals it needs (see the
    module docstring); with none it is approved at once, else it awaits them. Each submission asks
    fresh approvals; earlier ones stay as the trail."""
    _require_edit(quote.opportunity, by)
    with audited(by, "quote_submit"):
        locked = _locked_quote(quote, version)
        _require_status(locked, QuoteStatus.DRAFT, message=_("Only a draft quote can be submitted."))
        if not locked.lines.exists():
            raise ValidationError(_("Add at least one line before submitting the quote."))
        discount = locked.discount_percent
        routes = _routes(locked, discount, excluded_approvers(locked, by))
        now = timezone.now()
        QuoteApproval.objects.bulk_create([
            QuoteApproval(quote=locked, rule=rule, discount_percent=discount, approver=approver,
                          approver_role=role) for rule, approver, role in routes])
        locked.submitted_at, locked.submitted_by = now, by
        locked.status = QuoteStatus.PENDING if routes else QuoteStatus.APPROVED
        locked.decided_at = None if routes else now
        return _bump(locked, "submitted_at", "submitted_by", "status", "decided_at")


def may_decide(user, approval):
    """Whether `user` is who the approval is routed to (the person, or a holder of the role), and
    neither set the quote's discount nor submitted it (a superuser neither)."""
    if user.pk in excluded_approvers(approval.quote):
        return False
    if user_access(user).is_superuser:
        return True
    if approval.approver_id:
        return approval.approver_id == user.pk
    return user.roles.filter(pk=approval.approver_role_id).exists()


def approval_decide(*, approval, by, approve, comment=""):
    """Approve or reject one pending approval (a rejection needs a comment). One rejection rejects the
    quote and withdraws its other pending approvals; the last approval approves it."""
    if not visible(by, QuoteApproval.objects.filter(pk=approval.pk)).exists():
        raise QuoteApproval.DoesNotExist
    if by.pk in excluded_approvers(approval.quote):
        raise PermissionDenied(_("You set this discount or submitted the quote: someone else approves it."))
    if not may_decide(by, approval):
        raise PermissionDenied(_("This approval is routed to someone else."))
    comment = (comment or "").strip()
    if not approve and not comment:
        raise ValidationError({"comment": _("Say why you reject the quote.")})
    with audited(by, "approval_decide"):
        quote = _locked_quote(approval.quote, None)
        locked = QuoteApproval.objects.select_for_update().get(pk=approval.pk)
        if locked.decision != ApprovalDecision.PENDING or quote.status != QuoteStatus.PENDING:
            raise ValidationError(_("This approval has already been decided or withdrawn."), code="status")
        now = timezone.now()
        locked.decision = ApprovalDecision.APPROVED if approve else ApprovalDecision.REJECTED
        locked.comment, locked.decided_by, locked.decided_at = comment[:500], by, now
        locked.save(update_fields=["decision", "comment", "decided_by", "decided_at"])
        pending = quote.approvals.filter(decision=ApprovalDecision.PENDING)
        if not approve:
            pending.update(decision=ApprovalDecision.WITHDRAWN)
            quote.status, quote.decided_at = QuoteStatus.REJECTED, now
        elif not pending.exists():
            quote.status, quote.decided_at = QuoteStatus.APPROVED, now
        _bump(quote, "status", "decided_at")
    return locked


def quote_withdraw(*, quote, by, version=None):
    """Take a quote awaiting approval back to draft; its pending approvals are withdrawn."""
    _require_edit(quote.opportunity, by)
    with audited(by, "quote_withdraw"):
        locked = _locked_quote(quote, version)
        _require_status(locked, QuoteStatus.PENDING, message=_("Only a quote awaiting approval can be withdrawn."))
        locked.approvals.filter(decision=ApprovalDecision.PENDING).update(decision=ApprovalDecision.WITHDRAWN)
        locked.status = QuoteStatus.DRAFT
        return _bump(locked, "status")


def quote_mark_sent(*, quote, by, version=None):
    """An approved quote has gone to the customer."""
    _require_edit(quote.opportunity, by)
    with audited(by, "quote_mark_sent"):
        locked = _locked_quote(quote, version)
        _require_status(locked, QuoteStatus.APPROVED, message=_("Only an approved quote can be sent."))
        locked.status, locked.sent_at = QuoteStatus.SENT, timezone.now()
        return _bump(locked, "status", "sent_at")


def quote_mark_accepted(*, quote, by, version=None):
    """The customer accepted the quote (sent, or approved and handed over in person)."""
    _require_edit(quote.opportunity, by)
    with audited(by, "quote_mark_accepted"):
        locked = _locked_quote(quote, version)
        _require_status(locked, QuoteStatus.SENT, QuoteStatus.APPROVED,
                        message=_("Only a sent or approved quote can be accepted."))
        locked.status, locked.accepted_at = QuoteStatus.ACCEPTED, timezone.now()
        return _bump(locked, "status", "accepted_at")


# Discount rules (configuration) ---------------------------------------------------------------------

def discount_rule_save(*, by, rule=None, over_percent, approver, role=None, is_active=True):
    """Create or change a discount approval rule: over `over_percent` (0 to under 100) the rep's
    manager, or a holder of `role`, approves. Quotes already submitted keep their approvals."""
    _require_configure(by)
    if over_percent is None or not 0 <= over_percent < 100:
        raise ValidationError({"over_percent": _("Enter a percentage from 0 to under 100.")})
    if approver not in DiscountRule.Approver.values:
        raise ValidationError({"approver": _("Choose who approves.")})
    if approver == DiscountRule.Approver.ROLE and role is None:
        raise ValidationError({"role": _("Choose the role whose holders approve.")})
    with audited(by, "discount_rule_save"):
        rule = rule or DiscountRule()
        rule.over_percent, rule.approver, rule.is_active = over_percent, approver, is_active
        rule.role = role if approver == DiscountRule.Approver.ROLE else None
        rule.save()
    return rule


def discount_rule_delete(*, by, rule):
    """Delete a rule; approvals it routed stay (without their rule)."""
    _require_configure(by)
    with audited(by, "discount_rule_delete"):
        rule.delete()
