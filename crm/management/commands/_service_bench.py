"""benchmark service: on the scale data (`seed_scale`: 2,000,000 tickets, 10,000,000 timeline entries),
the work queues and a ticket's page as an agent (客服专员, tickets of their branch) and as the service
manager (all tickets); the service report for last quarter (a whole one: some 160,000 tickets resolved)
as both; the SLA scan (warnings and escalations: the service desk's reminder rules run as
the beat task runs them), then a second scan that must raise nothing (the rows they added are deleted
afterwards); and the deadlines of 100,000 tickets worked out on the default working calendar.

    DEBUG=false manage.py benchmark service
"""
import gc
import statistics
import time

from django.db import connection, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from accounts.models import User

from ._timing import p95 as percentile_95
from ._timing import signed_in_client, timed

TARGETS = {"queue": 150, "ticket": 100, "report": 300}
SCAN_SECONDS = 30
DEADLINES, DEADLINE_SECONDS = 100_000, 10
SERVICE_RULES = ("ticket_sla_warning", "ticket_sla_breached", "ticket_sla_escalated", "survey_low_score")


def benchmark_service(stdout, repeat=30, warmup=3):
    from service.models import Ticket
    from service.scale import MANAGER

    agent = User.objects.filter(username__startswith="scale_agent_").order_by("pk").first()
    manager = User.objects.filter(username=MANAGER).first()
    if agent is None or manager is None:
        stdout.write("No scale tickets: run `manage.py seed_scale` first.")
        return
    open_tickets = Ticket.objects.filter(status__in=["new", "open", "waiting"]).count()
    stdout.write(f"tickets: {_estimate('service_ticket'):,} (open {open_tickets:,}); entries: "
                 f"{_estimate('service_ticketentry'):,}; {repeat} timed requests per row")
    _pages(stdout, agent, manager, repeat, warmup)
    _report(stdout, agent, manager, repeat, warmup)
    _scan(stdout)
    _deadlines(stdout)


def _pages(stdout, agent, manager, repeat, warmup):
    from service.models import Ticket
    from service.selectors import queue_of

    rows = []
    gc.collect()
    gc.freeze()
    for label, user, queues in (("agent", agent, ("mine", "team", "breaching")),
                                ("manager", manager, ("all", "breaching", "unassigned"))):
        client = signed_in_client(user)
        for queue in queues:
            url = reverse("service:queue") + f"?queue={queue}"
            response, runs, queries = timed(lambda c=client, u=url: c.get(u), repeat, warmup)
            rows.append((f"queue {queue}", label, runs, queries, response.status_code, TARGETS["queue"]))
        ticket = queue_of(user, "mine" if label == "agent" else "all").first() or Ticket.objects.first()
        response, runs, queries = timed(lambda c=client, t=ticket: c.get(t.get_absolute_url()), repeat, warmup)
        rows.append(("ticket page", label, runs, queries, response.status_code, TARGETS["ticket"]))
    stdout.write(f"\n{'page':<20}{'as':<9}{'p50 ms':>8}{'p95 ms':>8}{'target':>8}{'queries':>9}  result")
    for page, label, runs, queries, status, target in rows:
        p50, p95 = statistics.median(runs), percentile_95(runs)
        result = "PASS" if status == 200 and p95 <= target else f"FAIL (HTTP {status})" if status != 200 else "FAIL"
        stdout.write(f"{page:<20}{label:<9}{p50:>8.1f}{p95:>8.1f}{'≤' + str(target):>8}{len(queries):>9}  {result}")


def _report(stdout, agent, manager, repeat, warmup):
    """The service report (reports:service_report) for last quarter as the agent and as the manager."""
    url = reverse("reports:service_report") + "?period=last_quarter"
    gc.collect()
    gc.freeze()
    stdout.write(f"\n{'service report':<20}{'as':<9}{'p50 ms':>8}{'p95 ms':>8}{'target':>8}{'queries':>9}  result")
    for label, user in (("agent", agent), ("manager", manager)):
        client = signed_in_client(user)
        response, runs, queries = timed(lambda c=client: c.get(url), repeat, warmup)
        p50, p95, target = statistics.median(runs), percentile_95(runs), TARGETS["report"]
        status = response.status_code
        result = "PASS" if status == 200 and p95 <= target else f"FAIL (HTTP {status})" if status != 200 else "FAIL"
        stdout.write(f"{'last quarter':<20}{label:<9}{p50:>8.1f}{p95:>8.1f}{'≤' + str(target):>8}{len(queries):>9}  "
                     f"{result}")


def _scan(stdout):
    """The SLA rules' scan twice at one moment; the rows they added deleted afterwards."""
    from crm.models import EmailDelivery, Notification
    from crm.services.notifications import notifications_scan

    marks = (Notification.objects.aggregate(m=Max("pk"))["m"] or 0, EmailDelivery.objects.aggregate(m=Max("pk"))["m"] or 0)
    now = timezone.now()
    try:
        for run in (1, 2):
            started = time.perf_counter()
            results = notifications_scan(now=now, keys=set(SERVICE_RULES))
            seconds = time.perf_counter() - started
            raised = sum(row["raised"] for row in results.values())
            detail = ", ".join(f"{key} {row['raised']:,}" for key, row in results.items())
            verdict = "PASS" if seconds < SCAN_SECONDS and (run == 1 or raised == 0) else "FAIL"
            stdout.write(f"SLA scan run {run}: {seconds:.2f} s, raised {raised:,} ({detail}) "
                         f"(target < {SCAN_SECONDS} s{', raises 0' if run == 2 else ''}) {verdict}")
    finally:
        with transaction.atomic():
            EmailDelivery.objects.filter(pk__gt=marks[1]).delete()
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM crm_notification WHERE id > %s", [marks[0]])


def _deadlines(stdout):
    """apply_sla on DEADLINES open tickets held in memory (fewer when the data has fewer): the policy chosen and both deadlines and
    warnings worked out on the calendar, as a priority change or a resumed clock does (not saved)."""
    from service.models import Ticket
    from service.selectors import active_sla_policies, working_calendar
    from service.services.tickets import apply_sla

    # Open tickets: a closed one's clock stopped long ago, and no one works its deadlines out again.
    tickets = list(Ticket.objects.filter(status__in=["new", "open", "waiting"]).select_related("customer").only(
        "customer__tier", "priority", "type_id", "channel", "sla_started_at", "pauses", "waiting_since",
        "first_responded_at", "status", "first_response_due", "resolution_due")[:DEADLINES])
    policies, clock = active_sla_policies(), working_calendar()
    now = timezone.now()
    started = time.perf_counter()
    for ticket in tickets:
        apply_sla(ticket, now=now, policies=policies, clock=clock)
    seconds = time.perf_counter() - started
    verdict = "PASS" if seconds <= DEADLINE_SECONDS else "FAIL"
    stdout.write(f"deadlines of {len(tickets):,} tickets: {seconds:.2f} s (target ≤ {DEADLINE_SECONDS} s) {verdict}")


def _estimate(table):
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [table])
        return cursor.fetchone()[0]
