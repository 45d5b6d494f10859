"""Volume for the service benchmarks (`manage.py seed_scale --tickets N`): two agents (客服专员) in each
generated branch, a service manager over all tickets, and N tickets over the generated customers with
five timeline entries each. Set-based SQL (one INSERT … SELECT per table), the per-row history trigger
skipped; running it again adds only what is missing.

Most tickets are history: about 85% closed and 10% resolved over the last three years; 4% open (new or
in progress) and 1% waiting on the customer, opened in the last ten days, so the queues and the SLA
scan meet a realistic backlog. Deadlines are generated (8 and 120 hours after opening, warnings at three
quarters), not worked out on the calendar: the benchmark times that arithmetic separately. So are the
stored working times to the first response (an hour after opening) and to the resolution (two hours
after): at most the hour, or two, that passed."""
import time

import pgtrigger
from django.db import connection, transaction

from accounts.capabilities import Scope
from accounts.models import Role, Team, User
from crm.lib.audit import audited

from .models import CalendarDay, SlaPolicy, Ticket, TicketEntry, TicketType, WorkCalendar, WorkWindow
from .seed import seed_default_calendar, seed_service_desk

MANAGER = "scale_service_manager"
MANAGER_ROLE = "规模·客服经理"
AGENTS_PER_BRANCH = 2
ENTRIES = 5


def scale_agents():
    """The generated agents (two per branch) and the service manager, created once."""
    from crm.scale import SCALE_ROOT

    agent_role = Role.objects.get(name="客服专员")
    root = Team.objects.get(name=SCALE_ROOT, parent=None)
    if not User.objects.filter(username__startswith="scale_agent_").exists():
        branches = Team.objects.filter(parent__parent=root).order_by("name")
        agents = User.objects.bulk_create(
            User(username=f"scale_agent_{branch.name[-5:].replace('-', '_')}_{i}", display_name=f"客服{branch.name[-5:]}-{i}",
                 team=branch) for branch in branches for i in range(AGENTS_PER_BRANCH))
        User.roles.through.objects.bulk_create(User.roles.through(user_id=a.pk, role_id=agent_role.pk) for a in agents)
    if not User.objects.filter(username=MANAGER).exists():
        role, _created = Role.objects.get_or_create(name=MANAGER_ROLE, defaults={
            "description": "规模测试：全部客户与工单", "customers_scope": Scope.ALL, "service_scope": Scope.ALL})
        manager = User.objects.create(username=MANAGER, display_name="规模测试客服经理", team=root)
        manager.roles.set([role])


def generated_tickets():
    return Ticket.objects.filter(subject__startswith="规模工单").count()


def seed_service_scale(tickets, stdout=None):
    """Add generated tickets up to `tickets` with their entries; {step: (rows, seconds)} ({} when nothing
    was missing)."""
    have = generated_tickets()
    if have >= tickets:
        return {}
    seed_default_calendar(WorkCalendar, WorkWindow, CalendarDay)
    seed_service_desk(TicketType, SlaPolicy)
    scale_agents()
    result = {}
    with transaction.atomic(), audited(None, "seed_scale"), pgtrigger.ignore("service.Ticket:insert_insert"):
        with connection.cursor() as cursor:
            started = time.perf_counter()
            cursor.execute(TICKETS_SQL.replace("%", "%%").replace("{FIRST}", "%s").replace("{LAST}", "%s"),
                           [have + 1, tickets])
            result["tickets"] = (cursor.rowcount, time.perf_counter() - started)
            started = time.perf_counter()
            cursor.execute(ENTRIES_SQL, ["规模工单%"])
            result["ticket entries"] = (cursor.rowcount, time.perf_counter() - started)
    with connection.cursor() as cursor:
        for model in (Ticket, TicketEntry):
            cursor.execute(f"{'ANALYZE' if connection.in_atomic_block else 'VACUUM (ANALYZE)'} {model._meta.db_table}")
    return result


# Ticket g: the g-th generated customer (by position, wrapping), its team, one of the team's two agents
# (a tenth of the open ones unassigned), and a fate by a hash of g.
TICKETS_SQL = """
    WITH customers AS MATERIALIZED (
        SELECT id, team_id, row_number() OVER (ORDER BY id) AS n
        FROM crm_customer WHERE owner_id IS NOT NULL AND merged_into_id IS NULL AND team_id IS NOT NULL
    ), total AS MATERIALIZED (SELECT count(*) AS n FROM customers),
    agents AS MATERIALIZED (
        SELECT u.team_id, array_agg(u.id ORDER BY u.id) AS ids FROM accounts_user u
        WHERE u.username LIKE 'scale_agent_%' GROUP BY u.team_id
    ), types AS MATERIALIZED (SELECT array_agg(id ORDER BY id) AS ids FROM service_tickettype WHERE NOT is_complaint),
    generated AS (
        SELECT g, abs(hashtext('fate' || g)::bigint) % 100 AS fate, abs(hashtext('t' || g)::bigint) AS h,
               1 + (g::bigint * 7919) % (SELECT n FROM total) AS n
        FROM generate_series({FIRST}, {LAST}) g
    ), shaped AS (
        SELECT x.*, c.id AS customer_id, c.team_id,
               CASE WHEN x.fate < 2 THEN 'new' WHEN x.fate < 4 THEN 'open' WHEN x.fate < 5 THEN 'waiting'
                    WHEN x.fate < 15 THEN 'resolved' ELSE 'closed' END AS status,
               now() - CASE WHEN x.fate < 5 THEN make_interval(mins => (x.h % 14400)::int)
                            ELSE make_interval(days => (1 + x.h % 1095)::int, mins => (x.h % 1440)::int) END AS opened
        FROM generated x JOIN customers c ON c.n = x.n
    )
    INSERT INTO service_ticket (customer_id, subject, description, channel, type_id, priority, status, assignee_id,
        team_id, sla_started_at, pauses, waiting_since, first_response_due, resolution_due, due_at,
        first_response_warn_at, resolution_warn_at, escalation, first_responded_at, resolved_at, closed_at, reopened,
        first_response_work_seconds, resolution_work_seconds, created_at, updated_at, version)
    SELECT s.customer_id, '规模工单' || s.g, '规模测试生成的工单', (ARRAY['phone','email','wechat','web','onsite'])[1 + s.h % 5],
        (SELECT ids FROM types)[1 + s.h % array_length((SELECT ids FROM types), 1)],
        (ARRAY['urgent','high','normal','normal','low'])[1 + (s.h / 7) % 5], s.status,
        CASE WHEN s.status IN ('new', 'open', 'waiting') AND s.h % 10 = 0 THEN NULL
             ELSE a.ids[1 + s.g % array_length(a.ids, 1)] END,
        s.team_id, s.opened, '{}', CASE WHEN s.status IN ('waiting', 'resolved', 'closed') THEN s.opened + interval '2 hours' END,
        s.opened + interval '8 hours', s.opened + interval '120 hours',
        CASE WHEN s.status = 'new' THEN s.opened + interval '8 hours'
             WHEN s.status = 'open' THEN s.opened + interval '120 hours' END,
        s.opened + interval '6 hours', s.opened + interval '90 hours', 0,
        CASE WHEN s.status <> 'new' THEN s.opened + interval '1 hour' END,
        CASE WHEN s.status IN ('resolved', 'closed') THEN s.opened + interval '2 hours' END,
        CASE WHEN s.status = 'closed' THEN s.opened + interval '3 days' END, 0,
        CASE WHEN s.status <> 'new' THEN (s.h / 11) % 3601 END,
        CASE WHEN s.status IN ('resolved', 'closed') THEN (s.h / 11) % 3601 + (s.h / 13) % 3601 END,
        s.opened, now(), 1
    FROM shaped s LEFT JOIN agents a ON a.team_id = s.team_id
    ORDER BY s.g"""

# Five lines per new ticket: its opening, a reply, the status it went to, a note, a reply.
ENTRIES_SQL = """
    INSERT INTO service_ticketentry (ticket_id, kind, body, field, old_value, new_value, author_id, author_name,
        created_at)
    SELECT t.id, (ARRAY['created','reply','status','note','reply'])[k],
        (ARRAY['规模测试生成的工单','您好，已收到，正在处理。','','已联系二线工程师。','问题已处理，请确认。'])[k],
        CASE WHEN k = 3 THEN 'status' ELSE '' END, CASE WHEN k = 3 THEN 'new' ELSE '' END,
        CASE WHEN k = 3 THEN 'open' ELSE '' END, CASE WHEN k = 1 THEN NULL ELSE t.assignee_id END, '',
        t.created_at + make_interval(mins => (k - 1) * 30)
    FROM service_ticket t CROSS JOIN generate_series(1, 5) k
    WHERE t.subject LIKE %s AND NOT EXISTS (SELECT 1 FROM service_ticketentry e WHERE e.ticket_id = t.id)"""
