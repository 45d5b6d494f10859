"""benchmark reminders: a full scan of every reminder rule on the scale data, then a second run that
must raise nothing; per rule the rows raised/resolved and the seconds. Everything happens in one
transaction that is rolled back, so the database stays as it was.

    DEBUG=false manage.py benchmark reminders [-v 2 for EXPLAIN ANALYZE of each rule's statement]
"""
import time

from django.db import connection, transaction
from django.utils import timezone

from crm.models import Customer, Notification
from crm.notifications import RULES
from crm.services.notifications import _SCAN_SQL, notifications_scan

TARGET_SECONDS = 30


def benchmark_reminders(stdout, verbosity=1):
    stdout.write(f"customers: {Customer.objects.count():,}; notifications before: {Notification.objects.count():,}")
    now = timezone.now()  # both runs at the same moment: the second must find nothing new
    with transaction.atomic():
        for run in (1, 2):
            started = time.perf_counter()
            results = notifications_scan(now=now)
            total = time.perf_counter() - started
            stdout.write(f"\nrun {run}")
            stdout.write(f"{'rule':<26}{'raised':>10}{'e-mails':>10}{'resolved':>10}{'seconds':>10}")
            for key, row in results.items():
                stdout.write(f"{key:<26}{row['raised']:>10,}{row['emails']:>10,}{row['resolved']:>10,}"
                             f"{row['seconds']:>10.2f}")
            raised = sum(row["raised"] for row in results.values())
            verdict = "PASS" if total < TARGET_SECONDS and (run == 1 or raised == 0) else "FAIL"
            stdout.write(f"{'total':<26}{raised:>10,}{'':>10}{'':>10}{total:>10.2f}  "
                         f"(target < {TARGET_SECONDS} s{', raises 0' if run == 2 else ''}) {verdict}")
        if verbosity > 1:
            _explain(stdout)
        transaction.set_rollback(True)  # the benchmark's notifications are not kept
    stdout.write(f"\nnotifications after (rolled back): {Notification.objects.count():,}")


def _explain(stdout):
    from crm.models import NotificationRule

    now = timezone.now()
    rows = {row.key: row for row in NotificationRule.objects.all()}
    with connection.cursor() as cursor:
        for key, rule in RULES.items():
            meta = rule.record_model()._meta
            params = {**rule.sql_params(rule.params(rows[key].params), now), "now": now, "rule_key": key,
                      "app_label": meta.app_label, "model": meta.model_name}
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + _SCAN_SQL.format(due=rule.due_sql()), params)
            stdout.write(f"\n{key} (a re-run):\n" + "\n".join(line for (line,) in cursor.fetchall()))
