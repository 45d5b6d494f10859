"""The complaint steps (投诉处理) of a ticket whose type is a complaint: 受理, 处理 (溯源整改), 回访 by someone
other than the handler, 结案. Each step is one audited transaction on the locked ticket, moves its status
where the step says, and leaves a line on its timeline. See service.models.Complaint."""
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.lib.audit import audited

from ..models import Complaint, ComplaintStep, EntryKind, RootCause, TicketStatus
from .tickets import _entry, _locked, _move, _require_edit, _save, next_due

STEP = ComplaintStep


def _step(ticket, by, expected, action):
    """Run `action(locked ticket, complaint, now)` when the complaint is at one of `expected` steps, then
    record the step it moved to, with the text the action returns. Returns the complaint."""
    _require_edit(ticket, by)
    with audited(by, "complaint_step"):
        locked = _locked(ticket)
        complaint = Complaint.objects.select_for_update().filter(ticket=locked).first()
        if complaint is None:
            raise ValidationError(_("This ticket is not a complaint."))
        if complaint.step not in expected:
            raise ValidationError(_("The complaint is at the step %(step)s: this cannot be done now.") % {
                "step": STEP(complaint.step).label})
        old, now = complaint.step, timezone.now()
        body = action(locked, complaint, now) or ""
        complaint.save()
        _entry(locked, EntryKind.COMPLAINT, by, now, field="step", old_value=old, new_value=complaint.step, body=body)
        locked.due_at = next_due(locked)
        _save(locked)
    return complaint


def complaint_accept(*, ticket, by):
    """受理: the complaint is taken on; that is its first response (the policy's target, in working days)."""
    def accept(locked, complaint, now):
        complaint.step, complaint.accepted_at, complaint.accepted_by = STEP.ACCEPTED, now, by
        if locked.first_responded_at is None:
            locked.first_responded_at = now
        if locked.status == TicketStatus.NEW:
            _move(locked, TicketStatus.OPEN, by, now, steps=True)
    return _step(ticket, by, (STEP.REGISTERED,), accept)


def complaint_handle(*, ticket, by, root_cause_kind, root_cause, corrective_action):
    """处理: what caused it and what is changed so it does not happen again (溯源整改), both required; the
    ticket is resolved and waits for the call-back."""
    errors = {}
    if root_cause_kind not in RootCause.values:
        errors["root_cause_kind"] = _("Choose what kind of cause it was.")
    if not (root_cause or "").strip():
        errors["root_cause"] = _("Say what caused the complaint.")
    if not (corrective_action or "").strip():
        errors["corrective_action"] = _("Say what is changed so that it does not happen again.")
    if errors:
        raise ValidationError(errors)

    def handle(locked, complaint, now):
        complaint.step, complaint.handled_at, complaint.handled_by = STEP.CALLBACK, now, by
        complaint.root_cause_kind, complaint.root_cause = root_cause_kind, root_cause.strip()
        complaint.corrective_action = corrective_action.strip()
        complaint.called_back_at = complaint.called_back_by = complaint.customer_accepts = None
        if locked.status == TicketStatus.NEW:
            _move(locked, TicketStatus.OPEN, by, now, steps=True)
        _move(locked, TicketStatus.RESOLVED, by, now, steps=True)
        return f"{RootCause(root_cause_kind).label}：{complaint.root_cause}\n{complaint.corrective_action}"
    return _step(ticket, by, (STEP.ACCEPTED,), handle)


def complaint_callback(*, ticket, by, accepts, note=""):
    """回访: someone other than the handler calls the customer back and records whether they accept the
    outcome. Not accepted: back to handling (the ticket reopens)."""
    def call_back(locked, complaint, now):
        if complaint.handled_by_id == by.pk:
            raise ValidationError(_("The call-back is made by someone other than who handled the complaint."))
        complaint.called_back_at, complaint.called_back_by = now, by
        complaint.customer_accepts, complaint.callback_note = bool(accepts), (note or "").strip()
        complaint.step = STEP.CALLED_BACK if accepts else STEP.ACCEPTED
        if not accepts:
            _move(locked, TicketStatus.OPEN, by, now, steps=True)
        return complaint.callback_note
    return _step(ticket, by, (STEP.CALLBACK,), call_back)


def complaint_close(*, ticket, by):
    """结案: only with a root cause and a call-back in which the customer accepts the outcome."""
    def close(locked, complaint, now):
        if not (complaint.root_cause and complaint.corrective_action and complaint.customer_accepts):
            raise ValidationError(_("A complaint closes only with its root cause and an accepted call-back."))
        complaint.step, complaint.closed_at = STEP.CLOSED, now
        _move(locked, TicketStatus.CLOSED, by, now, steps=True)
    return _step(ticket, by, (STEP.CALLED_BACK,), close)
