"""The sales benchmark (`manage.py benchmark sales`): on the scale data (`seed_scale`, 500,000 deals,
about 20,000 open in each pipeline), the board's first load as the 销售总监 (all deals) and as a
区域经理 and a rep, and moving a card (the POST from the board, answered with the two columns it
touched) back and forth."""
import gc
import statistics

from django.urls import reverse

from accounts.models import User

from ._timing import p95 as percentile_95
from ._timing import signed_in_client, timed

TARGETS = {"board": 200, "move": 100}


def benchmark_sales(stdout, repeat=30, warmup=3):
    from sales.models import Opportunity, Pipeline
    from sales.scale import PIPELINES

    pipeline = Pipeline.objects.filter(name=next(iter(PIPELINES))).first()
    if pipeline is None:
        stdout.write("No scale deals: run `manage.py seed_scale` first.")
        return []
    director = User.objects.get(username="scale_director")
    deal = Opportunity.objects.filter(pipeline=pipeline, closed_at=None, owner__isnull=False).order_by("pk").first()
    rep = deal.owner
    manager = User.objects.filter(roles__name="区域经理", team__in=rep.team.ancestor_ids).first() if rep.team else None
    people = [("销售总监", director), ("区域经理", manager), ("rep", rep)]
    open_deals = Opportunity.objects.filter(pipeline=pipeline, closed_at=None).count()
    stdout.write(f"pipeline {pipeline.name}: {open_deals:,} open deals of {Opportunity.objects.count():,}; "
                 f"{repeat} timed requests per row")
    board_url = reverse("sales:board", args=[pipeline.pk])
    clients = {label: signed_in_client(user) for label, user in people if user is not None}
    gc.collect()
    gc.freeze()
    rows = []
    for label, client in clients.items():
        response, runs, queries = timed(lambda c=client: c.get(board_url), repeat, warmup)
        cards = response.content.decode().count('data-testid="card"')
        rows.append(("board first load", label, runs, queries, response.status_code, TARGETS["board"],
                     f"{cards} cards"))
    # Moving a card between the first two open stages, as the rep who owns it.
    stages = list(pipeline.stages.filter(kind="open").order_by("order")[:2])
    client = clients["rep"]
    move_url = reverse("sales:opportunity_move", args=[deal.pk])
    state = {"turn": 0}

    def move():
        state["turn"] += 1
        version = Opportunity.objects.values_list("version", flat=True).get(pk=deal.pk)
        return client.post(move_url, {"stage": stages[state["turn"] % 2].pk, "version": version, "from": "board"})

    response, runs, queries = timed(move, repeat, warmup)
    rows.append(("move a card", "rep", runs, queries, response.status_code, TARGETS["move"], "answered with 2 columns"))
    stdout.write(f"{'case':<20}{'as':<8}{'p50 ms':>8}{'p95 ms':>8}{'target':>8}{'queries':>9}  result")
    for case, label, runs, queries, status, target, note in rows:
        p50, p95 = statistics.median(runs), percentile_95(runs)
        result = "PASS" if status == 200 and p95 <= target else f"FAIL (HTTP {status})" if status != 200 else "FAIL"
        stdout.write(f"{case:<20}{label:<8}{p50:>8.1f}{p95:>8.1f}{'≤' + str(target):>8}{len(queries):>9}  {result}  {note}")
    return rows
