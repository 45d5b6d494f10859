"""The dashboard benchmark (`manage.py benchmark dashboard`): on the scale data (`seed_scale`: 500,000
deals in three pipelines, their stage history, targets for the scale reps), the sales dashboard's
server time for the current quarter as the 销售总监 (every deal) and as a 区域经理 (a region), and
for a rep (their own deals), plus a drill-down list; p50/p95 over the timed runs and the query count.
With -v 2 the three slowest queries of each page are shown with their time."""
import gc
import statistics

from django.urls import reverse
from django.utils.http import urlencode

from accounts.models import User

from ._timing import p95 as percentile_95
from ._timing import signed_in_client, timed

TARGET_MS = {"dashboard": 300, "drill-down": 300}  # issue: dashboard p95 under 300 ms


def _people():
    director = User.objects.get(username="scale_director")
    manager = (User.objects.filter(roles__name="区域经理", username__startswith="scale_mgr_").select_related("team")
               .order_by("username").first())
    rep = (User.objects.filter(username__startswith="scale_rep_", team__path__startswith=manager.team.path)
           .order_by("username").first()) if manager and manager.team else None
    return [("销售总监", director), ("区域经理", manager), ("rep", rep)]


def benchmark_dashboard(stdout, repeat=30, warmup=3, verbosity=1):
    from sales.models import Opportunity, StageVisit, Target

    if not User.objects.filter(username="scale_director").exists():
        stdout.write("No scale data: run `manage.py seed_scale` first.")
        return []
    stdout.write(f"deals {Opportunity.objects.count():,} ({Opportunity.objects.filter(closed_at=None).count():,} "
                 f"open), stage visits {StageVisit.objects.count():,}, targets {Target.objects.count():,}; "
                 f"period: this quarter; {repeat} timed requests per row")
    query = urlencode({"period": "this_quarter"})
    cases = [("dashboard", f"{reverse('reports:sales_dashboard')}?{query}"),
             ("drill-down", f"{reverse('reports:sales_deals')}?{query}&metric=won")]
    clients = [(label, signed_in_client(user)) for label, user in _people() if user is not None]
    gc.collect()
    gc.freeze()
    rows = []
    for case, url in cases:
        for label, client in clients:
            response, runs, queries = timed(lambda c=client, u=url: c.get(u), repeat, warmup)
            rows.append((case, label, runs, queries, response.status_code))
    stdout.write(f"{'case':<12}{'as':<8}{'p50 ms':>8}{'p95 ms':>8}{'target':>8}{'queries':>9}  result")
    for case, label, runs, queries, status in rows:
        p50, p95, target = statistics.median(runs), percentile_95(runs), TARGET_MS[case]
        result = "PASS" if status == 200 and p95 <= target else f"FAIL (HTTP {status})" if status != 200 else "FAIL"
        stdout.write(f"{case:<12}{label:<8}{p50:>8.1f}{p95:>8.1f}{'≤' + str(target):>8}{len(queries):>9}  {result}")
        if verbosity > 1:
            for query_ in sorted(queries, key=lambda q: -float(q["time"]))[:3]:
                stdout.write(f"    {float(query_['time']) * 1000:7.1f} ms  {query_['sql'][:300]}")
    return rows
