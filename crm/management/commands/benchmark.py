"""The project's benchmark: times the reads that must stay fast at scale, on generated data.

    manage.py seed_scale --customers 1000000
    manage.py benchmark access
"""
import statistics
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from accounts.access import forget_access, get_visible_or_404, visible
from accounts.capabilities import Scope
from accounts.models import Role, User
from crm.models import Customer
from crm.selectors import customers_visible_to


def timed(fn, repeat):
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - started) * 1000)
    return statistics.median(runs), max(runs)


class Command(BaseCommand):
    help = "Benchmark the access layer on the scale data (run seed_scale first)."

    def add_arguments(self, parser):
        parser.add_argument("suite", choices=["access"])
        parser.add_argument("--repeat", type=int, default=7)

    def handle(self, *args, suite, repeat, **options):
        self.verbosity = options["verbosity"]
        total = Customer.objects.count()
        if not User.objects.filter(username__startswith="scale_rep_").exists():
            raise CommandError("No scale data: run `manage.py seed_scale --customers 1000000` first.")
        self.stdout.write(f"customers in table: {total:,}")
        self.stdout.write(f"{'case':<44}{'visible rows':>14}{'page 1 ms':>12}{'max':>8}{'detail ms':>11}"
                          f"{'404 ms':>9}{'count ms':>10}")
        with transaction.atomic():
            for label, user in self.cases():
                self.run_case(label, user, repeat)
            transaction.set_rollback(True)  # the scope changes made for the cases are not kept

    def cases(self):
        rep = User.objects.filter(username__startswith="scale_rep_").order_by("pk").first()
        manager = User.objects.filter(username__startswith="scale_mgr_").order_by("pk").first()
        yield "rep, seed role 销售代表 (team)", rep
        yield "regional manager, 区域经理 (team + sub-teams)", manager
        for scope in (Scope.OWN, Scope.OWN_AND_SUBORDINATES, Scope.TEAM_AND_SUBTEAMS, Scope.ALL):
            role, _ = Role.objects.get_or_create(name=f"bench-{scope.name}", defaults={"customers_scope": scope})
            who = manager if scope == Scope.OWN_AND_SUBORDINATES else rep
            who = User.objects.get(pk=who.pk)
            who.roles.set([role])
            yield f"{'manager' if who == manager else 'rep'}, scope {scope.name.lower()}", who
        nobody = User.objects.create(username="bench-nobody", team=rep.team)
        nobody.roles.set([Role.objects.get(name="bench-OWN")])
        yield "user owning nothing (own; scans for matches)", nobody

    def run_case(self, label, user, repeat):
        user = User.objects.select_related("team").get(pk=user.pk)
        forget_access(user)
        qs = customers_visible_to(user)
        count = qs.count()
        page_ms, page_max = timed(lambda: list(qs[:50]), repeat)
        sample = qs.values_list("pk", flat=True).first()
        candidates = set(Customer.objects.order_by("pk").values_list("pk", flat=True)[:100])
        candidates -= set(visible(user, Customer).filter(pk__in=candidates).values_list("pk", flat=True))
        hidden = min(candidates, default=None)
        detail_ms = timed(lambda: get_visible_or_404(user, Customer, sample), repeat)[0] if sample else 0.0

        def missing():
            try:
                get_visible_or_404(user, Customer, hidden)
            except Exception:  # noqa: BLE001 - the 404 is the expected outcome
                pass

        hidden_ms = timed(missing, repeat)[0] if hidden else 0.0
        count_ms = timed(qs.count, repeat)[0]
        self.stdout.write(f"{label:<44}{count:>14,}{page_ms:>12.1f}{page_max:>8.1f}{detail_ms:>11.1f}"
                          f"{hidden_ms:>9.1f}{count_ms:>10.1f}")
        if self.verbosity > 1:
            with connection.cursor() as cursor:
                sql, params = qs[:50].query.sql_with_params()
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                self.stdout.write("\n".join(row[0] for row in cursor.fetchall()))
