"""The project's benchmark: times the reads that must stay fast at scale, on generated data.

    manage.py seed_scale                      # 1,000,000 customers, 2,000,000 contacts, 5,000,000 follow-ups
    manage.py benchmark access                # the access layer's queries
    DEBUG=false manage.py benchmark customers # server time of the customer pages, as a rep and as 销售总监
    DEBUG=false manage.py benchmark customers --json
    DEBUG=false manage.py benchmark import [--rows 100000] # a legacy .xlsx imported end to end, then undone
"""
import contextlib
import gc
import json
import statistics
import time
import unicodedata
from dataclasses import asdict, dataclass, field

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.http import Http404
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode

from accounts.access import forget_access, get_visible_or_404, visible
from accounts.capabilities import Scope
from accounts.models import Role, User
from crm import demo
from crm.lib.text import pinyin_forms
from crm.models import Customer, CustomerKind
from crm.selectors import customers_visible_to

# p95 targets in ms, by kind of page (issue #3: customer page 100, lists and my day 150, searches 200).
TARGETS = {"page": 100, "list": 150, "search": 200}


def timed(fn, repeat):
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - started) * 1000)
    return statistics.median(runs), max(runs)


def pad(text, width):
    """`text` left-aligned in `width` terminal columns (a Chinese character takes two)."""
    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(width - used, 0)


def p95(runs):
    if len(runs) < 2:
        return max(runs)
    return statistics.quantiles(runs, n=20, method="inclusive")[-1]


@dataclass
class Case:
    """One page to time: a URL name with its arguments and query, and the kind of target it has."""

    page: str
    url_name: str
    kind: str
    args: tuple = ()
    query: dict = field(default_factory=dict)

    def url(self):
        path = reverse(self.url_name, args=self.args)
        return f"{path}?{urlencode(self.query)}" if self.query else path


@dataclass
class Sample:
    """What a person would type to find one real customer they can see."""

    pk: int
    name: str
    fragment: str  # three characters of the name
    trade: str  # the two-character trade name (字号)
    pinyin: str  # city + trade name in full pinyin ("beijinghuaxin")
    initials: str  # and as initials ("bjhx")
    phone: str  # seven digits of its mobile

    @classmethod
    def of(cls, customer):
        city = next((c for c in sorted(demo.CITIES, key=len, reverse=True) if customer.name.startswith(c)), "")
        rest = customer.name[len(city):]
        pinyin, initials = pinyin_forms(city + rest[:2])
        digits = customer.mobile[3:]  # +86 and the national number
        return cls(customer.pk, customer.name, rest[:3], rest[:2], pinyin, initials, digits[3:10])


def customer_cases(sample):
    return [
        Case("customer list", "crm:customer_list", "list"),
        Case("filtered list", "crm:customer_list", "list", query={"tier": "A", "status": "following"}),
        Case("name fragment search", "crm:customer_list", "search", query={"q": sample.fragment}),
        Case("two-character search", "crm:customer_list", "search", query={"q": sample.trade}),
        Case("pinyin search (full)", "crm:customer_list", "search", query={"q": sample.pinyin}),
        Case("pinyin search (initials)", "crm:customer_list", "search", query={"q": sample.initials}),
        Case("phone fragment search", "crm:customer_list", "search", query={"q": sample.phone}),
        Case("customer page", "crm:customer_detail", "page", args=(sample.pk,)),
        Case("my day", "crm:my_day", "list"),
        Case("global search", "crm:global_search", "search", query={"q": sample.fragment}),
    ]


@dataclass
class Row:
    page: str
    user: str
    url: str = ""
    target_ms: int = 0
    result: str = "missing"
    status: int | None = None
    p50_ms: float | None = None
    p95_ms: float | None = None
    queries: int | None = None
    slowest_query_ms: float | None = None
    slowest_query: str = field(default="", repr=False)


class Command(BaseCommand):
    help = "Benchmark the access layer or the customer pages on the scale data (run seed_scale first)."

    def add_arguments(self, parser):
        parser.add_argument("suite", choices=["access", "customers", "import", "sales", "dashboard", "reminders",
                                              "service"])
        parser.add_argument("--repeat", type=int, default=None,
                            help="timed runs per case (default: 7 for access, 30 for customers)")
        parser.add_argument("--warmup", type=int, default=3, help="untimed requests before each page (customers)")
        parser.add_argument("--json", action="store_true", help="print the results as JSON (customers)")
        parser.add_argument("--rows", type=int, default=100_000, help="data rows of the generated file (import)")
        parser.add_argument("--compare-rows", type=int, default=5_000,
                            help="rows given to django-import-export for the comparison (import; 0 skips it; "
                                 "needs requirements-dev.txt)")
        parser.add_argument("--file", help="reuse (or keep) the generated file at this path (import)")

    def handle(self, *args, suite, repeat, **options):
        self.verbosity = options["verbosity"]
        if not User.objects.filter(username__startswith="scale_rep_").exists():
            raise CommandError("No scale data: run `manage.py seed_scale` first.")
        if suite == "access":
            self.access_suite(repeat or 7)
        elif suite == "sales":
            from ._sales_bench import benchmark_sales

            benchmark_sales(self.stdout, repeat or 30, options["warmup"])
        elif suite == "dashboard":
            from ._dashboard_bench import benchmark_dashboard

            benchmark_dashboard(self.stdout, repeat or 30, options["warmup"], self.verbosity)
        elif suite == "service":
            from ._service_bench import benchmark_service

            benchmark_service(self.stdout, repeat or 30, options["warmup"])
        elif suite == "reminders":
            from ._reminders_bench import benchmark_reminders

            benchmark_reminders(self.stdout, self.verbosity)
        elif suite == "import":
            from ._import_bench import benchmark_import

            benchmark_import(self.stdout, options["rows"], options["compare_rows"], options["file"])
        else:
            self.customers_suite(repeat or 30, options["warmup"], options["json"])

    # Customer pages ---------------------------------------------------------------------------------

    def customers_suite(self, repeat, warmup, as_json):
        rep = User.objects.filter(username__startswith="scale_rep_").order_by("pk").first()
        director = User.objects.filter(username="scale_director").first()
        if director is None:
            raise CommandError("No 销售总监 in the scale data: run `manage.py seed_scale` again.")
        rows = []
        people = []
        for label, user in (("rep", rep), ("销售总监", director)):
            client = Client(HTTP_HOST="localhost", raise_request_exception=False)
            client.force_login(user)
            client.get(reverse("crm:customer_list"))
            people.append((label, user, client))
        # As crm/wsgi.py does in the server: what start-up built stays out of full collections.
        gc.collect()
        gc.freeze()
        for label, user, client in people:
            sample = self.sample_for(user)
            for case in customer_cases(sample):
                rows.append(self.measure(client, case, label, repeat, warmup))
        explain = self.explain_slowest(rows)
        if as_json:
            self.stdout.write(json.dumps({
                "customers": _estimated_rows(Customer), "repeat": repeat, "debug": settings.DEBUG,
                "rows": [{k: v for k, v in asdict(r).items() if k != "slowest_query"} for r in rows],
                "explain": explain,
            }, ensure_ascii=False, indent=2))
            return
        self.print_table(rows, repeat)
        if explain:
            self.stdout.write(f"\nSlowest page: {explain['page']} as {explain['user']} "
                              f"(p95 {explain['p95_ms']:.1f} ms); its slowest query "
                              f"({explain['query_ms']:.1f} ms) with EXPLAIN (ANALYZE, BUFFERS):\n")
            self.stdout.write(explain["sql"] + "\n")
            self.stdout.write("\n".join(explain["plan"]))

    def sample_for(self, user):
        """A company customer with a mobile that `user` sees (their own first), from the middle of the table."""
        qs = customers_visible_to(user).filter(kind=CustomerKind.COMPANY).exclude(mobile="")
        middle = (Customer.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) // 2
        customer = (qs.filter(owner=user).first() or qs.filter(pk__gte=middle).first() or qs.first())
        if customer is None:
            raise CommandError(f"{user.username} sees no generated company customer with a mobile.")
        return Sample.of(customer)

    def measure(self, client, case, user_label, repeat, warmup):
        row = Row(case.page, user_label, target_ms=TARGETS[case.kind])
        try:
            row.url = case.url()
        except NoReverseMatch:
            return row
        for _ in range(warmup):
            client.get(row.url)
        runs = []
        for _ in range(repeat):
            started = time.perf_counter()
            response = client.get(row.url)
            runs.append((time.perf_counter() - started) * 1000)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(row.url)
        row.status = response.status_code
        row.p50_ms, row.p95_ms = round(statistics.median(runs), 1), round(p95(runs), 1)
        row.queries = len(captured.captured_queries)
        slowest = max(captured.captured_queries, key=lambda q: float(q["time"]), default=None)
        if slowest is not None:
            row.slowest_query_ms, row.slowest_query = float(slowest["time"]) * 1000, slowest["sql"]
        if response.status_code != 200:
            row.result = f"HTTP {response.status_code}"
        else:
            row.result = "PASS" if row.p95_ms <= row.target_ms else "FAIL"
        return row

    def print_table(self, rows, repeat):
        self.stdout.write(f"customers (estimate): {_estimated_rows(Customer):,}; {repeat} timed requests per row; "
                          f"DEBUG={settings.DEBUG}")
        if settings.DEBUG:
            self.stdout.write("warning: DEBUG is on; run with DEBUG=false for figures to report")
        self.stdout.write(f"{'page':<26}{'as':<10}{'p50 ms':>8}{'p95 ms':>8}{'target':>8}{'queries':>9}"
                          f"{'slowest q ms':>14}  result")
        for r in rows:
            lead = f"{r.page:<26}{pad(r.user, 10)}"
            if r.p50_ms is None:
                self.stdout.write(f"{lead}{'':>8}{'':>8}{'≤' + str(r.target_ms):>8}{'':>9}{'':>14}  missing")
                continue
            self.stdout.write(f"{lead}{r.p50_ms:>8.1f}{r.p95_ms:>8.1f}{'≤' + str(r.target_ms):>8}{r.queries:>9}"
                              f"{r.slowest_query_ms or 0:>14.1f}  {r.result}")

    def explain_slowest(self, rows):
        """EXPLAIN (ANALYZE, BUFFERS) of the slowest query of the slowest page (by p95)."""
        timed_rows = [r for r in rows if r.p95_ms is not None and r.slowest_query]
        if not timed_rows:
            return None
        row = max(timed_rows, key=lambda r: r.p95_ms)
        sql = row.slowest_query
        if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
            return None
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            plan = [line for (line,) in cursor.fetchall()]
            transaction.set_rollback(True)
        return {"page": row.page, "user": row.user, "p95_ms": row.p95_ms, "query_ms": row.slowest_query_ms,
                "sql": sql, "plan": plan}

    # Access layer -----------------------------------------------------------------------------------

    def access_suite(self, repeat):
        total = Customer.objects.count()
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
            with contextlib.suppress(Http404):  # the 404 is the expected outcome
                get_visible_or_404(user, Customer, hidden)

        hidden_ms = timed(missing, repeat)[0] if hidden else 0.0
        count_ms = timed(qs.count, repeat)[0]
        self.stdout.write(f"{label:<44}{count:>14,}{page_ms:>12.1f}{page_max:>8.1f}{detail_ms:>11.1f}"
                          f"{hidden_ms:>9.1f}{count_ms:>10.1f}")
        if self.verbosity > 1:
            with connection.cursor() as cursor:
                sql, params = qs[:50].query.sql_with_params()
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                self.stdout.write("\n".join(row[0] for row in cursor.fetchall()))


def _estimated_rows(model):
    """The planner's row estimate (an exact count of a big table costs a scan)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [model._meta.db_table])
        estimate = cursor.fetchone()[0]
    return estimate if estimate >= 0 else model.objects.count()
