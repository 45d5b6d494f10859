"""The SLA deadlines of open tickets worked out again after an admin changed what their clock runs on:
a working calendar (its windows, holidays, 调休 make-up working days, time zone, or which calendar is
the default) or an SLA policy's targets or calendar. The settings' services queue it on commit
(`sla_recompute_queue`); the task `service.tasks.tickets_sla_recompute` runs `tickets_sla_recompute`.

Warnings and escalation stay as a helpdesk's agents expect them:

- The warning times are worked out with the deadlines, so the reminder scan compares the new ones.
- Each reminder (warning, missed, missed for hours) is raised once per ticket and target: the engine's
  key is (rule, person, ticket, target). A deadline moved later resolves a reminder already raised at
  the next scan (its condition no longer holds), and the same reminder is not raised a second time
  when the new warning time or deadline comes: the people were told once for that target, and an
  admin's calendar edit must not send every agent the same warnings again. A reminder not raised
  yet comes at the new time; a deadline moved earlier into the past raises "missed" at the next scan.
- A ticket already handed to its team lead (escalation level 3) stays with them: a later deadline does
  not undo a handover that happened. One not handed on yet is handed on by the new deadline.
- The version of the ticket is not raised: the deadlines are derived, and every change of a ticket
  works them out again under its row lock, so an agent's open form is not refused for a calendar edit.
"""
from django.db import connection
from django.utils import timezone

from crm.lib.audit import audited
from crm.lib.queue import enqueue_on_commit

from ..models import SlaPolicy

CHUNK = 1000
# What the task writes, in the order of its VALUES rows.
COLUMNS = ("first_response_due", "first_response_warn_at", "resolution_due", "resolution_warn_at", "due_at")
READ = ("sla_policy", "sla_started_at", "pauses", "waiting_since", "status", "first_responded_at", *COLUMNS)


def sla_recompute_queue(*, calendar_ids=(), default=False, policy_ids=()):
    """In the caller's transaction: queue, on its commit, the new deadlines of the open tickets on these
    calendars, on the default one or of these policies (selectors.open_tickets_on). Returns how many
    open tickets that is now, for the admin's message."""
    from ..selectors import open_tickets_on
    from ..tasks import tickets_sla_recompute

    # Queued even when none is open now: a ticket opened on the old calendar while this transaction
    # ran commits after it, and the task, which reads the tickets when it runs, finds it.
    enqueue_on_commit(tickets_sla_recompute, calendar_ids=sorted(calendar_ids), default=default,
                      policy_ids=sorted(policy_ids))
    return open_tickets_on(calendar_ids=calendar_ids, default=default, policy_ids=policy_ids).count()


def tickets_sla_recompute(*, calendar_ids=(), default=False, policy_ids=(), chunk=CHUNK):
    """Work out again the deadlines and warning times of the open tickets on these calendars, on the
    default one or of these policies, as a change of priority does (from `sla_started_at`, without the
    clock's stops, the policy the ticket has), but on the calendars and policies as they are now.

    A first response already given keeps its deadline and warning. A ticket waiting on the customer is
    computed without the stop under way, as its deadlines were stored when it began to wait: going back
    to work adds that stop (and is the same whenever the task runs). Each changed deadline leaves a line
    on the ticket's timeline and an event in its history ("tickets_sla_recompute").

    In chunks of `chunk` tickets by id, each in its own transaction: its tickets locked, then the
    calendars and policies read (so a chunk that waited for a ticket, or a later task queued by a later
    edit, never writes deadlines of a calendar older than the one it waited behind), then one UPDATE
    for its changed rows. A constant number of queries per chunk, whatever the number of tickets. Safe
    to run twice and to overlap: the result depends only on the tickets and the settings, and rows
    already right are not written. Returns how many tickets it changed."""
    from ..selectors import open_tickets_on

    after, changed = 0, 0
    while True:
        with audited(None, "tickets_sla_recompute"):
            tickets = list(open_tickets_on(calendar_ids=calendar_ids, default=default, policy_ids=policy_ids)
                           .filter(pk__gt=after).select_for_update(of=("self",)).only(*READ)
                           .order_by("pk")[:chunk])
            if not tickets:
                return changed
            changed += _write(_recomputed(tickets), now=timezone.now())
        after = tickets[-1].pk


def _recomputed(tickets):
    """[(ticket, {column: old value})] of the tickets whose deadlines or warning times move."""
    from ..selectors import default_calendar, working_calendar
    from .tickets import next_due, sla_targets  # here: tickets imports the calendars' services, which import this

    policies = SlaPolicy.objects.select_related("calendar").in_bulk({t.sla_policy_id for t in tickets})
    fallback = default_calendar()
    clocks = {}
    moved = []
    for ticket in tickets:
        policy = policies.get(ticket.sla_policy_id)
        calendar = (policy.calendar if policy is not None else None) or fallback
        if policy is None or calendar is None:
            continue
        if calendar.pk not in clocks:
            clocks[calendar.pk] = working_calendar(calendar)
        old = {column: getattr(ticket, column) for column in COLUMNS}
        # Only the stops that are over: see the docstring of tickets_sla_recompute.
        pauses = [(span.lower, span.upper) for span in ticket.pauses]
        for column, value in sla_targets(ticket, policy, pauses=pauses, clock=clocks[calendar.pk]).items():
            setattr(ticket, column, value)
        ticket.due_at = next_due(ticket)
        if any(getattr(ticket, column) != value for column, value in old.items()):
            moved.append((ticket, old))
    return moved


# The new values of a chunk's tickets in one statement; each deadline that moved is a line on its timeline.
UPDATE = """
WITH v (id, {columns}, old_first_response_due, old_resolution_due) AS (VALUES {rows}),
moved AS (
    UPDATE service_ticket t SET {assignments}, updated_at = %s
    FROM v WHERE t.id = v.id AND ({old_columns}) IS DISTINCT FROM ({new_columns})
    RETURNING t.id
)
INSERT INTO service_ticketentry (ticket_id, kind, body, field, old_value, new_value, author_id, author_name,
                                 created_at)
SELECT v.id, 'changed', '', d.field, {text_of_old}, {text_of_new}, NULL, '', %s
FROM v JOIN moved ON moved.id = v.id
CROSS JOIN LATERAL (VALUES ('first_response_due', v.old_first_response_due, v.first_response_due),
                           ('resolution_due', v.old_resolution_due, v.resolution_due)) AS d (field, old, new)
WHERE d.old IS DISTINCT FROM d.new
"""
# How a timeline entry keeps a moment: ISO 8601 in UTC (TicketEntry shows it in the reader's zone).
ISO_UTC = """coalesce(to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'), '')"""


def _write(moved, *, now):
    """One statement for the chunk: the moved tickets' new values, and their timeline lines."""
    if not moved:
        return 0
    row = "(%s::bigint, " + ", ".join(["%s::timestamptz"] * (len(COLUMNS) + 2)) + ")"
    sql = UPDATE.format(
        columns=", ".join(COLUMNS), rows=", ".join([row] * len(moved)),
        assignments=", ".join(f"{column} = v.{column}" for column in COLUMNS),
        old_columns=", ".join(f"t.{column}" for column in COLUMNS),
        new_columns=", ".join(f"v.{column}" for column in COLUMNS),
        text_of_old=ISO_UTC.format("d.old"), text_of_new=ISO_UTC.format("d.new"))
    params = []
    for ticket, old in moved:
        params += [ticket.pk, *(getattr(ticket, column) for column in COLUMNS), old["first_response_due"],
                   old["resolution_due"]]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, now, now])  # the rows, then the moment of the UPDATE and of the INSERT
    return len(moved)
