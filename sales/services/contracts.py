"""Contracts (合同) and their payment plans (回款计划): a contract comes from a won deal or from an
accepted quote of the deal; its instalments add up to its amount; payments are recorded against an
instalment and never exceed what is outstanding. Every write is by someone who may edit the deal,
runs in one audited transaction and leaves the statuses right (one rule, `instalment_status_sql`).
The beat job `instalments_mark_overdue` turns unpaid instalments past due into overdue in one UPDATE."""
import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from accounts.services import audited

from ..models import (
    Contract,
    ContractStatus,
    Instalment,
    InstalmentStatus,
    Opportunity,
    Payment,
    QuoteStatus,
    StageKind,
)
from .deals import _require_edit
from .numbering import next_number

__all__ = [
    "contract_cancel", "contract_create", "contract_source_problem", "instalment_status_sql",
    "instalments_mark_overdue", "instalments_save", "payment_delete", "payment_record",
]

_CENT = Decimal("0.01")


def _yuan(amount):
    """An amount for a message: two decimals, grouped, in the active language's format."""
    return number_format(amount, 2, use_l10n=True, force_grouping=True)


def instalment_status_sql(today):
    """The status rule, as one SQL expression every write and the beat job use: paid ≥ amount → paid;
    else due_on before `today` → overdue; else something paid → partly paid; else awaiting payment."""
    return Case(
        When(paid__gte=F("amount"), then=Value(InstalmentStatus.PAID)),
        When(due_on__lt=today, then=Value(InstalmentStatus.OVERDUE)),
        When(paid__gt=0, then=Value(InstalmentStatus.PARTIAL)),
        default=Value(InstalmentStatus.DUE),
    )


def _restatus(contract, today=None):
    """Set the statuses of the contract's instalments by the rule, then the contract's own: completed
    when every instalment is paid, back in force when one is not (a cancelled contract stays so)."""
    Instalment.objects.filter(contract=contract).update(status=instalment_status_sql(today or timezone.localdate()))
    if contract.status == ContractStatus.CANCELLED:
        return
    open_left = Instalment.objects.filter(contract=contract).exclude(status=InstalmentStatus.PAID).exists()
    status = ContractStatus.ACTIVE if open_left else ContractStatus.COMPLETED
    if status != contract.status:
        contract.status = status
        contract.save(update_fields=["status", "updated_at"])


def contract_source_problem(opportunity, quote=None):
    """Why no contract can be made from this deal (and quote), as people read it; None when one can."""
    if quote is not None:
        if quote.opportunity_id != opportunity.pk:
            return _("The quote belongs to another deal.")
        if quote.status != QuoteStatus.ACCEPTED:
            return _("Only an accepted quote becomes a contract; quote %(number)s is not accepted.") % {
                "number": quote.number}
        return None
    if opportunity.stage.kind != StageKind.WON:
        return _("A contract needs a won deal or an accepted quote of the deal.")
    return None


def _money(value):
    return Decimal(value).quantize(_CENT)


def _plan_rows(instalments):
    """(due_on, amount, note) rows from tuples or dicts, each checked; ValidationError when one is not."""
    rows = []
    for entry in instalments:
        if isinstance(entry, dict):
            due_on, amount, note = entry.get("due_on"), entry.get("amount"), entry.get("note", "")
        else:
            due_on, amount, note = (*entry, "")[:3]
        if not isinstance(due_on, datetime.date) or amount is None:
            raise ValidationError(_("Each instalment needs a due date and an amount."))
        if _money(amount) <= 0:
            raise ValidationError(_("An instalment's amount must be more than 0."))
        rows.append({"pk": entry.get("pk") if isinstance(entry, dict) else None, "due_on": due_on,
                     "amount": _money(amount), "note": (note or "").strip()})
    if not rows:
        raise ValidationError(_("A payment plan needs at least one instalment."))
    return rows


def _check_total(rows, amount):
    total = sum((row["amount"] for row in rows), Decimal(0))
    if total != amount:
        raise ValidationError(
            _("The instalments add up to ¥%(total)s, but the contract is for ¥%(amount)s.")
            % {"total": _yuan(total), "amount": _yuan(amount)}, code="plan_total")


def contract_create(*, by, opportunity, quote=None, title, amount=None, signed_on, starts_on=None, ends_on=None,
                    terms="", instalments=None):
    """A numbered contract for a won deal, or from an accepted quote of the deal, made by someone who
    may edit the deal. The amount defaults to the quote's total, else the deal's. `instalments` is a
    list of (due_on, amount[, note]) adding up to the amount; without it the whole amount is one
    instalment due when the contract starts (or is signed)."""
    _require_edit(opportunity, by)
    opportunity = Opportunity.objects.select_related("stage").get(pk=opportunity.pk)
    problem = contract_source_problem(opportunity, quote)
    if problem:
        raise ValidationError(problem, code="source")
    amount = _money(amount if amount is not None else (quote.total if quote is not None else opportunity.amount))
    if amount <= 0:
        raise ValidationError({"amount": _("A contract's amount must be more than 0.")})
    if starts_on and ends_on and ends_on < starts_on:
        raise ValidationError({"ends_on": _("A contract cannot end before it starts.")})
    rows = _plan_rows(instalments if instalments is not None else [(starts_on or signed_on, amount)])
    _check_total(rows, amount)
    with audited(by, "contract_create"):
        contract = Contract.objects.create(
            opportunity=opportunity, quote=quote, number=next_number("contract", Contract), title=title.strip(),
            amount=amount, currency=quote.currency if quote is not None else opportunity.currency,
            signed_on=signed_on, starts_on=starts_on, ends_on=ends_on, terms=terms.strip(), created_by=by)
        Instalment.objects.bulk_create([
            Instalment(contract=contract, number=index, due_on=row["due_on"], amount=row["amount"], note=row["note"])
            for index, row in enumerate(sorted(rows, key=lambda r: r["due_on"]), start=1)])
        _restatus(contract)
    return contract


def _lock_in_force(contract):
    """The contract's row, locked (payments and plan changes of one contract wait for each other),
    unless it is cancelled."""
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    if contract.status == ContractStatus.CANCELLED:
        raise ValidationError(_("The contract is cancelled; its plan and payments can no longer change."),
                              code="cancelled")
    return contract


def instalments_save(*, by, contract, instalments):
    """Replace the contract's payment plan with `instalments`: dicts with due_on, amount, note and the
    pk of an instalment they change (none: a new one). Instalments left out are removed, but one with
    payments is never removed nor lowered below what was paid. The plan adds up to the contract's
    amount; instalments are numbered again by due date."""
    _require_edit(contract.opportunity, by)
    rows = _plan_rows(instalments)
    _check_total(rows, contract.amount)
    with audited(by, "instalments_save"):
        contract = _lock_in_force(contract)
        current = {i.pk: i for i in Instalment.objects.select_for_update().filter(contract=contract)}
        kept = {row["pk"] for row in rows if row["pk"]}
        if kept - set(current):
            raise ValidationError(_("The plan changed meanwhile; reload the page and try again."), code="conflict")
        _check_removals_and_lowerings(current, rows, kept)
        Instalment.objects.filter(pk__in=set(current) - kept).delete()
        # Numbers are unique per contract: move the kept ones out of the way before numbering again.
        Instalment.objects.filter(pk__in=kept).update(number=F("number") + 1000)
        ordered = sorted(rows, key=lambda r: (r["due_on"], r["pk"] or 0))
        for index, row in enumerate(ordered, start=1):
            instalment = current.get(row["pk"]) or Instalment(contract=contract)
            instalment.number, instalment.due_on = index, row["due_on"]
            instalment.amount, instalment.note = row["amount"], row["note"]
            instalment.save()
        _restatus(contract)
    return contract


def _check_removals_and_lowerings(current, rows, kept):
    for pk, instalment in current.items():
        if pk not in kept and instalment.paid > 0:
            raise ValidationError(
                _("Instalment %(number)s has payments and cannot be removed; delete its payments first.")
                % {"number": instalment.number}, code="has_payments")
    for row in rows:
        instalment = current.get(row["pk"])
        if instalment is not None and row["amount"] < instalment.paid:
            raise ValidationError(
                _("Instalment %(number)s cannot be lowered below the ¥%(paid)s already paid.")
                % {"number": instalment.number, "paid": _yuan(instalment.paid)}, code="below_paid")


def payment_record(*, by, instalment, amount, received_on, method="", note=""):
    """Record money received against an instalment: more than 0 and at most what is outstanding.
    The instalment's paid sum and status follow, and the contract is completed once all is paid."""
    _require_edit(instalment.contract.opportunity, by)
    amount = _money(amount)
    if amount <= 0:
        raise ValidationError({"amount": _("A payment must be more than 0.")})
    with audited(by, "payment_record"):
        contract = _lock_in_force(instalment.contract)
        locked = Instalment.objects.select_for_update().get(pk=instalment.pk)
        if amount > locked.outstanding:
            raise ValidationError({"amount": _(
                "Only ¥%(outstanding)s is outstanding on instalment %(number)s; ¥%(amount)s is too much.")
                % {"outstanding": _yuan(locked.outstanding), "number": locked.number,
                   "amount": _yuan(amount)}}, code="overpaid")
        payment = Payment.objects.create(instalment=locked, amount=amount, received_on=received_on,
                                         method=method.strip(), note=note.strip(), recorded_by=by)
        Instalment.objects.filter(pk=locked.pk).update(paid=F("paid") + amount)
        _restatus(contract)
    instalment.refresh_from_db()
    return payment


def payment_delete(*, by, payment):
    """Take back a payment recorded by mistake: the instalment's paid sum and status (and the
    contract's) are as if it had never been recorded."""
    instalment = payment.instalment
    _require_edit(instalment.contract.opportunity, by)
    with audited(by, "payment_delete"):
        contract = _lock_in_force(instalment.contract)
        deleted, _rows = Payment.objects.filter(pk=payment.pk).delete()
        if deleted:
            Instalment.objects.filter(pk=instalment.pk).update(paid=F("paid") - payment.amount)
        _restatus(contract)


def contract_cancel(*, by, contract):
    """Cancel (作废) a contract in force. Its plan and payments stay as a record and no longer change;
    its instalments are left out of the overdue job."""
    _require_edit(contract.opportunity, by)
    with audited(by, "contract_cancel"):
        contract = Contract.objects.select_for_update().get(pk=contract.pk)
        if contract.status != ContractStatus.ACTIVE:
            raise ValidationError(_("Only a contract in force can be cancelled."), code="not_active")
        contract.status = ContractStatus.CANCELLED
        contract.save(update_fields=["status", "updated_at"])
    return contract


def instalments_mark_overdue(*, today=None):
    """Beat job: every unpaid (awaiting or partly paid) instalment of a contract in force that is past
    due becomes overdue, in one UPDATE. Returns how many changed; a second run changes none."""
    today = today or timezone.localdate()
    with audited(None, "instalments_mark_overdue"):
        return Instalment.objects.filter(
            Q(status__in=[InstalmentStatus.DUE, InstalmentStatus.PARTIAL]), due_on__lt=today,
            paid__lt=F("amount"), contract__status=ContractStatus.ACTIVE,
        ).update(status=instalment_status_sql(today))
