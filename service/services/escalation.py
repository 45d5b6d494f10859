"""Escalation level 3: a ticket still past its deadline SERVICE_REASSIGN_AFTER_HOURS after it is handed
to its team lead (the lead of its team, else of the nearest team above with one, who works on tickets),
with a line on its timeline. Levels 1 and 2 are reminders (service.reminders)."""
import time

from django.conf import settings
from django.db import connection
from django.utils import timezone

from crm.lib.audit import audited

from ..reminders import LEAD, RUNNING, serves

NAME = "COALESCE(NULLIF({u}.display_name, ''), NULLIF(trim({u}.first_name || ' ' || {u}.last_name), ''), {u}.username)"

ESCALATE = f"""
WITH due AS (
    SELECT t.id, t.assignee_id, lead.lead_id FROM service_ticket t {LEAD}
    WHERE {RUNNING} AND t.escalation < 3 AND t.due_at <= %(now)s - make_interval(hours => %(hours)s)
      AND lead.lead_id IS NOT NULL AND t.assignee_id IS DISTINCT FROM lead.lead_id AND {serves("lead.lead_id")}
    FOR UPDATE OF t SKIP LOCKED
), moved AS (
    UPDATE service_ticket t SET assignee_id = due.lead_id, escalation = 3, version = t.version + 1, updated_at = %(now)s
    FROM due WHERE t.id = due.id
    RETURNING t.id, t.team_id, due.assignee_id AS old_id, due.lead_id
)
INSERT INTO service_ticketentry (ticket_id, kind, body, field, old_value, new_value, author_id, author_name, created_at)
SELECT m.id, 'escalated', '', 'assignee',
       left(concat_ws(' · ', {NAME.format(u="o")}, tm.name), 200), left(concat_ws(' · ', {NAME.format(u="l")}, tm.name), 200),
       NULL, '', %(now)s
FROM moved m JOIN accounts_user l ON l.id = m.lead_id
LEFT JOIN accounts_user o ON o.id = m.old_id LEFT JOIN accounts_team tm ON tm.id = m.team_id
"""


def tickets_escalate(*, now=None, hours=None):
    """Hand every open ticket that has been past its deadline for `hours` (SERVICE_REASSIGN_AFTER_HOURS)
    to its team lead, once per ticket (`escalation` 3), with an entry on its timeline. One statement;
    a ticket another transaction holds is left for the next run. Safe to run twice. Returns how many."""
    now = now or timezone.now()
    hours = settings.SERVICE_REASSIGN_AFTER_HOURS if hours is None else hours
    with audited(None, "tickets_escalate"), connection.cursor() as cursor:
        cursor.execute(ESCALATE, {"now": now, "hours": hours})
        if settings.SERVICE_ESCALATE_PAUSE:  # the crash test kills the worker here, inside the transaction
            time.sleep(settings.SERVICE_ESCALATE_PAUSE)
        return cursor.rowcount
