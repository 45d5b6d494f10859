"""Every write of a ticket: opening it, replies and internal notes, its status, its assignee and its own
fields. Each runs in one audited transaction and leaves an entry on the ticket's timeline; the SLA
deadlines are worked out here and stored on the ticket, so lists and scans only compare columns."""
import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.access import can_edit, editable, user_access, visible
from accounts.capabilities import Module, Scope
from crm.lib.audit import audited

from ..models import Complaint, EntryKind, Priority, Ticket, TicketEntry, TicketStatus, TicketTask
from ..working_time import NoWorkingTime
from .assignment import assign_for
from .attachments import attachments_check, attachments_store

S = TicketStatus
# Where a ticket may go from each status. NEW is left by the first reply or any change of status; a
# resolved ticket reopens (within REOPEN_DAYS) or closes; a closed one takes a follow-up ticket instead.
TRANSITIONS = {
    S.NEW: (S.OPEN, S.WAITING, S.RESOLVED),
    S.OPEN: (S.WAITING, S.RESOLVED),
    S.WAITING: (S.OPEN, S.RESOLVED),
    S.RESOLVED: (S.OPEN, S.CLOSED),
    S.CLOSED: (),
}
EDITABLE_FIELDS = ("subject", "description", "type", "priority", "channel", "contact", "opportunity", "contract",
                   "product")
# A change of these chooses the SLA policy again.
POLICY_FIELDS = ("type", "priority", "channel")


def reopen_days():
    return settings.SERVICE_REOPEN_DAYS


# Who may work on what -----------------------------------------------------------------------------

def agents():
    """Active users whose roles let them work on tickets at all (a service scope), superusers too."""
    from accounts.models import Role, User

    with_scope = Role.objects.filter(service_scope__gt=Scope.NONE).values("users")
    return User.objects.filter(Q(pk__in=with_scope) | Q(is_superuser=True), is_active=True)


def teams_within_reach(by):
    """The teams whose tickets `by`'s service scope reaches (None: every team)."""
    from accounts.models import Team

    scope = user_access(by).scope(Module.SERVICE)
    if scope == Scope.ALL:
        return None
    if by.team_id is None or scope in (Scope.NONE, Scope.OWN, Scope.OWN_AND_SUBORDINATES):
        return Team.objects.none()
    if scope == Scope.TEAM:
        return Team.objects.filter(pk=by.team_id)
    return Team.objects.filter(path__startswith=by.team.path)


def agents_for(by):
    """The agents `by` may hand a ticket to: anyone for a scope over all tickets, else the agents of the
    teams their scope reaches, and always themselves. A ticket handed on stays within `by`'s reach."""
    teams = teams_within_reach(by)
    found = agents()
    if teams is None:
        return found.order_by("team__name", "username")
    return found.filter(Q(team__in=teams) | Q(pk=by.pk)).order_by("team__name", "username")


def _require_service(by):
    if not user_access(by).can_open(Module.SERVICE):
        raise PermissionDenied


def _require_edit(ticket, by):
    """PermissionDenied for a ticket `by` may only read, Ticket.DoesNotExist for one they may not see."""
    if not can_edit(by, ticket):
        if visible(by, Ticket.objects.filter(pk=ticket.pk)).exists():
            raise PermissionDenied
        raise Ticket.DoesNotExist


def _keep_within_reach(ticket, by):
    """After a write that set the assignee or team: refuse (rolling it back) one that took the ticket out
    of what `by` may change, so no one hands a ticket beyond their own scope by mistake or on purpose."""
    if by is not None and not can_edit(by, ticket):
        raise PermissionDenied(_("You may not hand a ticket to someone outside your own scope."))


# The SLA clock ------------------------------------------------------------------------------------

def _pauses(ticket, now):
    """The stops of the ticket's clock as (from, to) pairs, a stop under way counted up to `now`."""
    spans = [(span.lower, span.upper) for span in ticket.pauses]
    if ticket.waiting_since is not None:
        spans.append((ticket.waiting_since, now))
    return spans


def work_seconds(ticket, moment, *, clock=None):
    """The working time, in whole seconds, from the clock's start to `moment` as the SLA clock counts
    it: within the working windows of the policy's calendar (else the default one; `clock`: that
    calendar as working_calendar() read it), the clock's stops left out. None without any calendar."""
    from ..models import WorkCalendar
    from ..selectors import working_calendar

    if clock is None:
        policy = ticket.sla_policy
        try:
            clock = working_calendar(policy.calendar if policy is not None else None)
        except WorkCalendar.DoesNotExist:
            return None
    return int(clock.working_between(ticket.sla_started_at, moment, _pauses(ticket, moment)).total_seconds())


def record_work_durations(ticket, *, clock=None):
    """Store the working time to the first response and to the resolution once each has happened (the
    reports aggregate these columns); a reopened ticket, no longer resolved, loses its resolution time
    and gets it again, counted from the start without its stops, when it is resolved again."""
    if ticket.first_responded_at is not None and ticket.first_response_work_seconds is None:
        ticket.first_response_work_seconds = work_seconds(ticket, ticket.first_responded_at, clock=clock)
    if ticket.resolved_at is None:
        ticket.resolution_work_seconds = None
    elif ticket.resolution_work_seconds is None:
        ticket.resolution_work_seconds = work_seconds(ticket, ticket.resolved_at, clock=clock)


def next_due(ticket):
    """The deadline a running clock runs to: the first response until it is given, then the resolution;
    none for a ticket waiting, resolved or closed."""
    if not ticket.is_open or ticket.waiting_since is not None:
        return None
    return ticket.first_response_due if ticket.first_responded_at is None else ticket.resolution_due


def apply_sla(ticket, *, now, policies=None, clock=None):
    """Choose the ticket's SLA policy (the first that holds) and store its deadlines, counted from
    `sla_started_at` without the clock's stops: a new policy or priority keeps the working time
    already used. A first response already given keeps its deadline. Needs `customer` loaded."""
    from ..selectors import sla_policy_for

    policy = sla_policy_for(tier=ticket.customer.tier, priority=ticket.priority, type_id=ticket.type_id,
                            channel=ticket.channel, policies=policies)
    ticket.sla_policy = policy
    for name, value in sla_targets(ticket, policy, pauses=_pauses(ticket, now), clock=clock).items():
        setattr(ticket, name, value)
    ticket.due_at = next_due(ticket)


def sla_targets(ticket, policy, *, pauses, clock=None):
    """{column: moment} of the deadlines and warning times `policy` gives the ticket's targets still to
    meet (a first response already given keeps its own, so it is not among them), counted from
    `sla_started_at` without `pauses`, on `clock` (else the policy's calendar as working_calendar()
    reads it). None for each without a policy, or on a calendar without working hours."""
    from ..selectors import sla_deadline, sla_warning, working_calendar

    targets = ("resolution",) if ticket.first_responded_at else ("first_response", "resolution")
    found = {f"{target}_{kind}": None for target in targets for kind in ("due", "warn_at")}
    if policy is None:
        return found
    start = ticket.sla_started_at
    try:
        calendar = clock or working_calendar(policy.calendar)
        for target in targets:
            found[f"{target}_due"] = sla_deadline(policy, start, target=target, pauses=pauses, clock=calendar)
            found[f"{target}_warn_at"] = sla_warning(policy, start, target=target, pauses=pauses, clock=calendar)
    except NoWorkingTime:  # a calendar without working hours: no deadline rather than no ticket
        return dict.fromkeys(found)
    return found


# Opening ------------------------------------------------------------------------------------------

def ticket_create(*, by, customer, subject, type, priority=Priority.NORMAL, channel="phone", description="",
                  contact=None, assignee=None, team=None, opportunity=None, contract=None, product=None, follows=None,
                  author_name="", checklist=(), files=()):
    """Open a ticket for `customer`. By an agent (`by`): on a customer they may see (Customer.DoesNotExist
    otherwise), assigned to them unless they name another of `agents_for(by)`, and it must stay within
    their reach. By the system (`by` None: the web form, e-mail, a won deal): unassigned in `team`, else
    as the first assignment rule that holds says, else unassigned in the customer's team. The clock
    starts now and the SLA policy's deadlines are stored; `checklist` (labels) becomes its checklist,
    `files` (uploads) its first attachments."""
    from crm.models import Customer

    if by is not None:
        _require_service(by)
        if not visible(by, Customer.objects.filter(pk=customer.pk)).exists():
            raise Customer.DoesNotExist
        if assignee is None and team is None:
            assignee = by
        if assignee is not None and not agents_for(by).filter(pk=assignee.pk).exists():
            raise PermissionDenied(_("You may not hand a ticket to someone outside your own scope."))
    _check_related(customer, by, contact=contact, opportunity=opportunity, contract=contract)
    subject = subject.strip()
    if not subject:
        raise ValidationError({"subject": _("Say in a few words what the customer needs.")})
    checked = _checked_files(files)
    now = timezone.now()
    with audited(by, "ticket_create"):
        if by is None and assignee is None and team is None:  # the first assignment rule that holds, if any
            assignee, team = assign_for(customer=customer, type=type, channel=channel)
        ticket = Ticket(
            customer=customer, contact=contact, subject=subject[:200], description=description.strip(), type=type,
            priority=priority, channel=channel, assignee=assignee,
            team=assignee.team if assignee is not None else (team or customer.team), opportunity=opportunity,
            contract=contract, product=product, follows=follows, sla_started_at=now, created_by=by, created_at=now)
        apply_sla(ticket, now=now)
        ticket.save()
        opening = TicketEntry.objects.create(ticket=ticket, kind=EntryKind.CREATED, body=ticket.description,
                                             author=by, author_name=author_name[:120], created_at=now)
        if type.is_complaint:
            Complaint.objects.create(ticket=ticket)
        attachments_store(ticket=ticket, entry=opening, checked=checked, by=by)
        TicketTask.objects.bulk_create(TicketTask(ticket=ticket, label=label[:200], order=10 * n)
                                       for n, label in enumerate(checklist, start=1))
        _keep_within_reach(ticket, by)
    return ticket


def _checked_files(files):
    try:
        return attachments_check(files)
    except ValidationError as error:
        raise ValidationError({"files": error.messages}) from None


def _check_related(customer, by, *, contact=None, opportunity=None, contract=None):
    """The contact, deal and contract of a ticket are the customer's, and a deal or contract one `by`
    may see (a ticket never names a record its author could not open)."""
    if contact is not None and contact.customer_id != customer.pk:
        raise ValidationError({"contact": _("The contact belongs to another customer.")})
    for name, record in (("opportunity", opportunity), ("contract", contract)):
        if record is None:
            continue
        owner_id = record.customer_id if name == "opportunity" else record.opportunity.customer_id
        if owner_id != customer.pk or (by is not None and not _may_open(by, record)):
            raise ValidationError({name: _("Choose one of this customer's records you may open.")})


def _may_open(by, record):
    return visible(by, type(record).objects.filter(pk=record.pk)).exists()


def ticket_follow_up(*, ticket, by):
    """A new ticket for the same request after `ticket` was closed (or resolved too long ago to reopen):
    the same customer, contact, type and subject, linked to it."""
    _require_edit(ticket, by)
    if ticket.status not in (S.RESOLVED, S.CLOSED):
        raise ValidationError(_("The ticket is still open: reply on it instead."))
    # The deal and contract go along when `by` may open them (an agent often has no sales scope).
    deal, contract = (record if record is not None and _may_open(by, record) else None
                      for record in (ticket.opportunity, ticket.contract))
    return ticket_create(by=by, customer=ticket.customer, contact=ticket.contact, subject=ticket.subject,
                         type=ticket.type, priority=ticket.priority, channel=ticket.channel, follows=ticket,
                         opportunity=deal, contract=contract, product=ticket.product,
                         description=_("Follows ticket %(reference)s.") % {"reference": ticket.reference})


# Working on it ------------------------------------------------------------------------------------

def _locked(ticket, version=None):
    locked = (Ticket.objects.select_for_update(of=("self",)).select_related("customer", "type", "assignee", "team")
              .get(pk=ticket.pk))
    if version is not None and locked.version != version:
        raise ValidationError(_("Someone else changed this ticket meanwhile; reload it and try again."),
                              code="conflict")
    return locked


def _save(ticket):
    record_work_durations(ticket)
    ticket.version = F("version") + 1
    ticket.save()
    ticket.refresh_from_db()
    return ticket


def _entry(ticket, kind, by, now, **fields):
    return TicketEntry.objects.create(ticket=ticket, kind=kind, author=by, created_at=now, **fields)


def next_statuses(ticket):
    """Where the ticket may go by a plain change of status: TRANSITIONS, but a complaint is resolved,
    reopened and closed only through its steps (service.services.complaints)."""
    allowed = TRANSITIONS[ticket.status]
    if ticket.type.is_complaint:
        allowed = tuple(s for s in allowed if s in (S.OPEN, S.WAITING) and ticket.status != S.RESOLVED)
    return allowed


def _move(ticket, status, by, now, *, steps=False):
    """Move a locked ticket to `status` (allowed from its own), stopping or restarting its clock, and
    record the change. A resolved ticket reopens only within reopen_days(); `steps`: moved by a
    complaint step, which may go where a plain change may not."""
    old = ticket.status
    if status == old:
        return
    if status not in (TRANSITIONS[old] if steps else next_statuses(ticket)):
        if ticket.type.is_complaint and not steps:
            raise ValidationError(_("A complaint is resolved and closed through its steps."))
        raise ValidationError(_("A ticket that is %(old)s cannot become %(new)s.") % {
            "old": S(old).label, "new": S(status).label})
    if old == S.RESOLVED and status == S.OPEN and not steps:
        if ticket.resolved_at < now - datetime.timedelta(days=reopen_days()):
            raise ValidationError(_("This ticket was resolved more than %(days)d days ago: open a follow-up "
                                    "ticket instead.") % {"days": reopen_days()})
    if old == S.RESOLVED and status == S.OPEN:
        ticket.reopened += 1
        ticket.resolved_at = None
    if ticket.waiting_since is not None and status != S.CLOSED:  # the clock starts again
        ticket.pauses = [*ticket.pauses, DateTimeTZRange(ticket.waiting_since, now, "[)")]
        ticket.waiting_since = None
    if status in (S.WAITING, S.RESOLVED):
        ticket.waiting_since = now
    if status == S.RESOLVED:
        ticket.resolved_at = now
    if status == S.CLOSED:
        ticket.closed_at = now
    ticket.status = status
    if status == S.OPEN and old in (S.WAITING, S.RESOLVED):
        apply_sla(ticket, now=now)
    ticket.due_at = next_due(ticket)
    _entry(ticket, EntryKind.STATUS, by, now, field="status", old_value=old, new_value=status)


def ticket_set_status(*, ticket, by, status, version=None):
    """Move the ticket to `status` (TRANSITIONS says from where). Waiting on the customer and resolved stop
    the SLA clock; going back to work starts it again and moves the deadlines by the working time it
    stood still. Returns the ticket."""
    _require_edit(ticket, by)
    with audited(by, "ticket_status"):
        locked = _locked(ticket, version)
        _move(locked, status, by, timezone.now())
        return _save(locked)


def ticket_reply(*, ticket, by, body, internal=False, status=None, version=None, files=()):
    """A reply to the customer, or with `internal` a note only colleagues read, and optionally a new
    status in the same step. The first reply to the customer is the first response (a new ticket goes
    to in progress by it). `files`: uploads attached to it. A reply to the customer is mailed to them
    (service.services.mail.reply_mail_queue) when the ticket has an address. Returns the entry."""
    body = body.strip()
    if not body:
        raise ValidationError({"body": _("Write something first.")})
    _require_edit(ticket, by)
    checked = _checked_files(files)
    with audited(by, "ticket_note" if internal else "ticket_reply"):
        locked = _locked(ticket, version)
        if locked.status == S.CLOSED:
            raise ValidationError(_("The ticket is closed: open a follow-up ticket instead."))
        now = timezone.now()
        entry = _entry(locked, EntryKind.NOTE if internal else EntryKind.REPLY, by, now, body=body)
        attachments_store(ticket=locked, entry=entry, checked=checked, by=by)
        if not internal:
            from .mail import reply_mail_queue  # mailed to the customer after the commit

            reply_mail_queue(entry=entry, ticket=locked)
            if locked.first_responded_at is None:
                locked.first_responded_at = now
            if locked.status == S.NEW and status in (None, S.NEW):
                status = S.OPEN
        if status:
            _move(locked, status, by, now)
        locked.due_at = next_due(locked)
        _save(locked)
    return entry


def ticket_assign(*, ticket, by, assignee=None, team=None, version=None):
    """Hand the ticket to `assignee` (its team becomes theirs), or to `team`'s queue with no one on it.
    Only to the agents and teams `by` reaches (agents_for, teams_within_reach). Returns the ticket."""
    _require_edit(ticket, by)
    if assignee is not None and not agents_for(by).filter(pk=assignee.pk).exists():
        raise PermissionDenied(_("You may not hand a ticket to someone outside your own scope."))
    with audited(by, "ticket_assign"):
        locked = _locked(ticket, version)
        old = _assignment_label(locked)
        locked.assignee = assignee
        locked.team = assignee.team if assignee is not None else (team or locked.team)
        new = _assignment_label(locked)
        if new != old:
            _entry(locked, EntryKind.ASSIGNED, by, timezone.now(), field="assignee", old_value=old, new_value=new)
        _save(locked)
        _keep_within_reach(locked, by)
    return locked


def _assignment_label(ticket):
    who = ticket.assignee.name if ticket.assignee_id else ""
    team = ticket.team.name if ticket.team_id else ""
    return " · ".join(part for part in (who, team) if part)[:200]


def tickets_assign(*, by, ids, assignee):
    """Hand several open tickets to `assignee` at once: those of `ids` that `by` may change; the others are
    left out. Two statements and one for the timeline, whatever the number. Returns how many."""
    if not agents_for(by).filter(pk=assignee.pk).exists():
        raise PermissionDenied(_("You may not hand a ticket to someone outside your own scope."))
    with audited(by, "tickets_assign"):
        rows = list(Ticket.objects.select_for_update(of=("self",)).filter(
            pk__in=editable(by, Ticket.objects.filter(pk__in=ids)).values("pk"), status__in=[S.NEW, S.OPEN, S.WAITING]).select_related("assignee", "team"))
        now = timezone.now()
        label = " · ".join(part for part in (assignee.name, assignee.team.name if assignee.team_id else "") if part)
        changed = [t for t in rows if t.assignee_id != assignee.pk or t.team_id != assignee.team_id]
        Ticket.objects.filter(pk__in=[t.pk for t in changed]).update(
            assignee=assignee, team=assignee.team_id, version=F("version") + 1, updated_at=now)
        TicketEntry.objects.bulk_create(
            TicketEntry(ticket=t, kind=EntryKind.ASSIGNED, author=by, created_at=now, field="assignee",
                        old_value=_assignment_label(t), new_value=label[:200]) for t in changed)
        if changed and editable(by, Ticket.objects.filter(pk__in=[t.pk for t in changed])).count() != len(changed):
            raise PermissionDenied(_("You may not hand a ticket to someone outside your own scope."))
    return len(changed)


def ticket_update(*, ticket, by, version=None, **fields):
    """Change the ticket's own fields (EDITABLE_FIELDS). A new type, priority or channel chooses the SLA
    policy again and moves the deadlines, keeping the working time already used. Each change is on the
    timeline. Returns the ticket."""
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable here: {sorted(unknown)}")
    _require_edit(ticket, by)
    _check_related(ticket.customer, by, contact=fields.get("contact"), opportunity=fields.get("opportunity"),
                   contract=fields.get("contract"))
    with audited(by, "ticket_update"):
        locked = _locked(ticket, version)
        if locked.status == S.CLOSED:
            raise ValidationError(_("The ticket is closed: open a follow-up ticket instead."))
        now = timezone.now()
        changed = []
        for name, value in fields.items():
            value = value.strip() if isinstance(value, str) else value
            old = getattr(locked, name)
            if old == value:
                continue
            setattr(locked, name, value)
            changed.append(name)
            if name in ("type", "priority", "channel", "subject"):
                _entry(locked, EntryKind.CHANGED, by, now, field=name, old_value=_shown(locked, name, old),
                       new_value=_shown(locked, name, value))
        if set(changed) & set(POLICY_FIELDS) and locked.is_open:
            apply_sla(locked, now=now)
        if "type" in changed and locked.type.is_complaint:
            Complaint.objects.get_or_create(ticket=locked)
        _save(locked)
    return locked


def _shown(ticket, name, value):
    """A value as the timeline keeps it: the code of a choice (shown translated), else its text."""
    return str(value if value is not None else "")[:200]


def ticket_check(*, ticket, by, item, done=True):
    """Tick (or untick) an item of the ticket's checklist, on the timeline. Returns the item."""
    _require_edit(ticket, by)
    if item.ticket_id != ticket.pk:
        raise ValidationError(_("The item belongs to another ticket."))
    with audited(by, "ticket_check"):
        locked = _locked(ticket)
        if locked.status == S.CLOSED:
            raise ValidationError(_("The ticket is closed: open a follow-up ticket instead."))
        item = TicketTask.objects.select_for_update().get(pk=item.pk)
        if bool(item.done_at) == done:
            return item
        now = timezone.now()
        item.done_at, item.done_by = (now, by) if done else (None, None)
        item.save(update_fields=["done_at", "done_by"])
        _entry(locked, EntryKind.CHECKED, by, now, body=item.label, new_value="done" if done else "open")
        _save(locked)
    return item
