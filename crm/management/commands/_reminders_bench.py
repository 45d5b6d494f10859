"""benchmark reminders: a full scan of every reminder rule on the scale data, then a second run that
must raise nothing; per rule the rows raised/resolved and the seconds. The scans run as the beat task
runs them (the rules spread over NOTIFY_SCAN_PROCESSES processes, each rule committed, foreign keys
checked); afterwards the rows they added are deleted, so the database is left as it was.

    DEBUG=false manage.py benchmark reminders [-v 2 for EXPLAIN ANALYZE of each rule's statement]
"""
import time

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from crm.models import Customer, EmailDelivery, Notification
from crm.notifications import RULES
from crm.services.notifications import _SCAN_SQL, notifications_scan

TARGET_SECONDS = 30


def benchmark_reminders(stdout, verbosity=1):
    before = Notification.objects.count()
    stdout.write(f"customers: {Customer.objects.count():,}; notifications before: {before:,}; "
                 f"processes: {settings.NOTIFY_SCAN_PROCESSES}")
    marks = (Notification.objects.aggregate(m=Max("pk"))["m"] or 0,
             EmailDelivery.objects.aggregate(m=Max("pk"))["m"] or 0)
    now = timezone.now()  # both runs at the same moment: the second must find nothing new
    try:
        for run in (1, 2):
            started = time.perf_counter()
            results = notifications_scan(now=now)
            _report(stdout, run, results, time.perf_counter() - started)
        if verbosity > 1:
            with transaction.atomic():
                _explain(stdout)
    finally:
        _clean_up(stdout, marks)


def _report(stdout, run, results, total):
    stdout.write(f"\nrun {run}")
    stdout.write(f"{'rule':<26}{'raised':>10}{'groups':>10}{'e-mails':>10}{'resolved':>10}{'seconds':>10}")
    for key, row in results.items():
        stdout.write(f"{key:<26}{row['raised']:>10,}{row['groups']:>10,}{row['emails']:>10,}{row['resolved']:>10,}"
                     f"{row['seconds']:>10.2f}")
    raised = sum(row["raised"] for row in results.values())
    verdict = "PASS" if total < TARGET_SECONDS and (run == 1 or raised == 0) else "FAIL"
    stdout.write(f"{'total (wall clock)':<26}{raised:>10,}{'':>10}{'':>10}{'':>10}{total:>10.2f}  "
                 f"(target < {TARGET_SECONDS} s{', raises 0' if run == 2 else ''}) {verdict}")


def _clean_up(stdout, marks):
    """Delete what the benchmark added (and reopen what it resolved), then vacuum the table."""
    notification_mark, email_mark = marks
    with transaction.atomic():
        EmailDelivery.objects.filter(pk__gt=email_mark).delete()
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM crm_notification WHERE id > %s", [notification_mark])
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) crm_notification")
    stdout.write(f"\nnotifications after clean-up: {Notification.objects.count():,}")


def _explain(stdout):
    from crm.models import NotificationRule

    now = timezone.now()
    rows = {row.key: row for row in NotificationRule.objects.all()}
    with connection.cursor() as cursor:
        for key, rule in RULES.items():
            due, params = rule.due(rule.params(rows[key].params), now)
            params = {**params, "now": now, "now_key": now.isoformat(), "rule_key": key}
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + _SCAN_SQL.format(due=due, group_data=rule.group_data), params)
            stdout.write(f"\n{key} (a re-run):\n" + "\n".join(line for (line,) in cursor.fetchall()))
