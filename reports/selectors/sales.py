"""The sales dashboard's figures, and the deals (or instalments) behind each of them.

Every figure starts from `accounts.access.visible(user, Opportunity)`, narrowed to the chosen team
(and its sub-teams) or, for a viewer without VIEW_DASHBOARDS, to their own deals (`scoped_deals`).
Each figure is one aggregate query over that set with a condition defined once below; the drill-down
list of a figure filters the same set with the same condition, so its row count is the figure.

What the figures mean (`DashboardScope.period` is the chosen period, local days):
- funnel (one pipeline): per stage, the open deals in it now, and in the won / lost / invalid stages
  the deals closed in the period: count, amount and weighted amount (amount × probability).
- forecast: open deals by the month of their expected close date, for the months from the period's
  first month on (at least six): count, amount, weighted amount.
- win rate: of the deals closed in the period (every pipeline), won ÷ (won + lost); invalid ones do
  not count. Average sales cycle: created → closed, over the deals won in the period.
- conversion (one pipeline): of the deals created in the period, how many reached each open stage and
  the won stage (a deal that skipped a stage reached it too), and the rate from the stage before.
- leaderboard: per rep, won count and amount in the period, their target (see `_target_for`), % of
  target, and their open deals' count and weighted amount now.
- stale: open deals longer in their stage than the stage's `stale_after_days`.
- payments: instalments of those deals' contracts (not cancelled) not yet paid: due in the period,
  and overdue (marked overdue, or due before today).
"""
import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Greatest, TruncMonth
from django.http import Http404
from django.utils import timezone

from accounts.access import visible
from accounts.capabilities import Capability
from accounts.models import Team, User
from crm.lib import inputs
from sales.models import (
    ContractStatus,
    Instalment,
    InstalmentStatus,
    Opportunity,
    StageKind,
    StageVisit,
    Target,
    TargetPeriod,
)
from sales.selectors import with_customer_visible
from sales.selectors.targets import last_day, period_shift, period_start, users_for_targets

from ..forms import MONTH, QUARTER, Period

FORECAST_MONTHS = 6
MONEY = DecimalField(max_digits=18, decimal_places=2)
WEIGHTED = ExpressionWrapper(F("amount") * F("probability") / Decimal(100), output_field=MONEY)
OUTSTANDING = Greatest(F("amount") - F("paid"), Value(Decimal(0)), output_field=MONEY)


@dataclass(frozen=True)
class DashboardScope:
    """Whose deals and which period: `owner` set means the viewer's own deals only (a rep's
    dashboard); `team` narrows to that team and its sub-teams; `pipeline` is the funnel's."""

    user: User
    period: Period
    pipeline: object = None
    team: Team | None = None
    owner: User | None = None
    today: datetime.date = field(default_factory=timezone.localdate)
    now: datetime.datetime = field(default_factory=timezone.now)


def scoped_deals(scope):
    """The deals every figure is computed from: visible to the viewer, narrowed to team or owner."""
    deals = visible(scope.user, Opportunity.objects.all())
    if scope.team is not None:
        deals = deals.filter(team_id__any_of=Team.objects.filter(path__startswith=scope.team.path).values("id"))
    if scope.owner is not None:
        deals = deals.filter(owner_id=scope.owner.pk)
    return deals


# The conditions, each shared by a figure and its drill-down ------------------------------------------

def _open():
    return Q(closed_at=None)


def _closed_in(scope):
    return Q(closed_at__gte=scope.period.start_at, closed_at__lt=scope.period.end_at)


def _won(scope):
    return _closed_in(scope) & Q(stage__kind=StageKind.WON)


def _lost(scope):
    return _closed_in(scope) & Q(stage__kind=StageKind.LOST)


def _funnel(scope):
    if scope.pipeline is None:
        return _nothing()
    return Q(pipeline=scope.pipeline) & (_open() | _closed_in(scope))


def forecast_months(scope):
    first = scope.period.start.replace(day=1)
    return [period_shift(MONTH, first, n) for n in range(max(FORECAST_MONTHS, len(scope.period.months())))]


def _forecast(scope, months=None):
    months = months or forecast_months(scope)
    return _open() & Q(expected_close__gte=months[0], expected_close__lte=last_day(MONTH, months[-1]))


def _stale(scope):
    # The board's own rule (`OpportunityQuerySet.stale`), so the figure and the board count alike.
    return Q(pk__in=Opportunity.objects.stale(scope.now).values("pk"))


def _cohort(scope):
    return Q(pipeline=scope.pipeline, created_at__gte=scope.period.start_at, created_at__lt=scope.period.end_at)


def pipeline_stages(scope):
    """The chosen pipeline's stages in order (one query; the funnel and the conversion share them)."""
    return list(scope.pipeline.stages.order_by("order", "id")) if scope.pipeline is not None else []


def conversion_stages(stages):
    """The stages a deal passes on its way to won: the open ones in order (retired ones left out), then won."""
    stages = [s for s in stages if not s.retired_at or s.kind == StageKind.WON]
    return [s for s in stages if s.kind == StageKind.OPEN] + [s for s in stages if s.kind == StageKind.WON]


def _reached(chain, index):
    """The deal visited the stage at `index` of the chain or a later one."""
    later = [stage.pk for stage in chain[index:]]
    return Q(Exists(StageVisit.objects.filter(opportunity_id=OuterRef("pk"), stage_id__in=later)))


def _due(scope):
    return ~Q(status=InstalmentStatus.PAID) & Q(due_on__gte=scope.period.start, due_on__lte=scope.period.end)


def _overdue(scope):
    return ~Q(status=InstalmentStatus.PAID) & (Q(status=InstalmentStatus.OVERDUE) | Q(due_on__lt=scope.today))


def scoped_instalments(scope):
    """Instalments of the contracts (not cancelled) of the deals the figures are computed from."""
    return Instalment.objects.filter(contract__opportunity__in=scoped_deals(scope).values("pk")).exclude(
        contract__status=ContractStatus.CANCELLED)


# The figures ------------------------------------------------------------------------------------------

def _grouped(qs, sets, extra=()):
    """One pass over `qs` for several figures (PostgreSQL GROUPING SETS, which the ORM cannot say).
    `sets` maps a figure to (condition, key): the figure sums the rows where the condition (one of the
    conditions above) holds, per value of `key` (a column, or None for one total). Returns
    {figure: {key value: {"n", "amount", "weighted", *extra}}}; `extra` adds (alias, SQL) aggregates.
    Reading the deals' rows is what costs, so the figures that read the same deals share the pass."""
    flags = {f"f_{name}": ExpressionWrapper(condition, output_field=BooleanField())
             for name, (condition, _key) in sets.items()}
    keys = list(dict.fromkeys(key for _condition, key in sets.values() if key))
    columns = [*flags, *keys]
    inner = qs.annotate(w=WEIGHTED, **flags).values(*columns, "amount", "w", *_extra_columns(extra))
    sql, params = inner.order_by().query.sql_with_params()
    groups = {name: [f"f_{name}", *([key] if key else [])] for name, (_condition, key) in sets.items()}
    # GROUPING() sets a bit for each column the row is *not* grouped by (first column = highest bit).
    masks = {sum(1 << (len(columns) - 1 - i) for i, column in enumerate(columns) if column not in grouped): name
             for name, grouped in groups.items()}
    select = [f"GROUPING({', '.join(columns)})", *columns, "COUNT(*)", "SUM(amount)", "SUM(w)",
              *(aggregate for _alias, aggregate in extra)]
    grouping_sets = ", ".join(f"({', '.join(grouped)})" for grouped in groups.values())
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(select)} FROM ({sql}) AS d GROUP BY GROUPING SETS ({grouping_sets})",
                       params)
        rows = cursor.fetchall()
    result = {name: {} for name in sets}
    for row in rows:
        name = masks[row[0]]
        values = dict(zip(columns, row[1:1 + len(columns)]))
        if not values[f"f_{name}"]:
            continue  # the rows outside the figure
        figures = dict(zip(["n", "amount", "weighted", *(alias for alias, _sql in extra)], row[1 + len(columns):]))
        key = sets[name][1]
        result[name][values[key] if key else None] = figures
    return result


def _extra_columns(extra):
    return ["closed_at", "created_at"] if extra else []


def _figures(found):
    found = found or {}
    return {"count": found.get("n") or 0, "amount": found.get("amount") or Decimal(0),
            "weighted": found.get("weighted") or Decimal(0)}


def _nothing():
    return Q(pk__in=[])


def open_pass(scope, deals):
    """The open deals, once: the funnel's open stages, the forecast, each rep's open deals, the stale ones."""
    return _grouped(deals.filter(_open()).annotate(month=TruncMonth("expected_close")), {
        "funnel": (_funnel(scope), "stage_id"),
        "forecast": (_forecast(scope), "month"),
        "rep_open": (Q(owner_id__isnull=False), "owner_id"),
        "stale": (_stale(scope), None),
    })


def closed_pass(scope, deals):
    """The deals closed in the period, once: the funnel's closed stages, won and lost (win rate, sales
    cycle) in total and per rep."""
    cycle = [("cycle", "AVG(EXTRACT(EPOCH FROM (closed_at - created_at)))")]
    return _grouped(deals.filter(_closed_in(scope)), {
        "funnel": (_funnel(scope), "stage_id"),
        "rep_won": (_won(scope) & Q(owner_id__isnull=False), "owner_id"),
        "won": (_won(scope), None),
        "lost": (_lost(scope), None),
    }, cycle)


def funnel(scope, stages, opened, closed):
    """Per stage of the pipeline (retired ones only while they hold deals): count, amount, weighted."""
    rows = []
    for stage in stages:
        source = opened if stage.kind == StageKind.OPEN else closed
        figures = _figures(source["funnel"].get(stage.pk))
        if not stage.retired_at or figures["count"]:
            rows.append({"stage": stage, **figures})
    return rows


def forecast(scope, opened):
    """Open deals by expected close month: every month of the window, empty ones too."""
    by_month = {(m.date() if isinstance(m, datetime.datetime) else m): found
                for m, found in opened["forecast"].items() if m is not None}
    return [{"month": month, **_figures(by_month.get(month))} for month in forecast_months(scope)]


def win_rate(closed):
    """Won and lost in the period, the win rate (%) and the average days from created to won."""
    found = closed["won"].get(None) or {}
    won, lost = _figures(found), _figures(closed["lost"].get(None))
    decided = won["count"] + lost["count"]
    cycle = found.get("cycle")
    return {
        "won": won["count"], "won_amount": won["amount"], "lost": lost["count"], "lost_amount": lost["amount"],
        "rate": _percent(won["count"], decided),
        "cycle_days": Decimal(cycle / 86400).quantize(Decimal("0.1")) if cycle is not None else None,
    }


def conversion(scope, deals, stages):
    """Per stage on the way to won: the deals of the period's cohort that reached it, the rate from the
    stage before and from the first."""
    if scope.pipeline is None:
        return []
    chain = conversion_stages(stages)
    if not chain:
        return []
    # What `_reached` (the drill-down) asks per deal, answered in one pass over the cohort's visits: a
    # deal reached the stages up to the furthest one of the chain it visited.
    rank = Case(*[When(stage_id=stage.pk, then=Value(index)) for index, stage in enumerate(chain)],
                output_field=IntegerField())
    furthest = StageVisit.objects.filter(opportunity__in=deals.filter(_cohort(scope)).values("pk"),
                                         stage_id__in=[stage.pk for stage in chain]).values(
        "opportunity_id").annotate(furthest=Max(rank))
    counts = furthest.aggregate(**{f"s{index}": Count("opportunity_id", filter=Q(furthest__gte=index))
                                   for index in range(len(chain))})
    rows, first, before = [], None, None
    for index, stage in enumerate(chain):
        reached = counts[f"s{index}"]
        first = reached if first is None else first
        rows.append({"stage": stage, "count": reached, "from_previous": _percent(reached, before) if index else None,
                     "from_first": _percent(reached, first)})
        before = reached
    return rows


def stale(opened):
    figures = _figures(opened["stale"].get(None))
    return {"count": figures["count"], "amount": figures["amount"]}


def payments(scope):
    due, overdue = _due(scope), _overdue(scope)
    row = scoped_instalments(scope).filter(due | overdue).aggregate(
        due=Count("pk", filter=due), due_amount=Sum(OUTSTANDING, filter=due),
        overdue=Count("pk", filter=overdue), overdue_amount=Sum(OUTSTANDING, filter=overdue))
    return {"due": row["due"], "due_amount": row["due_amount"] or Decimal(0),
            "overdue": row["overdue"], "overdue_amount": row["overdue_amount"] or Decimal(0)}


def _percent(part, whole):
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"))


# The leaderboard ----------------------------------------------------------------------------------------

def target_periods(period):
    """Which targets measure a period: each quarter it covers whole counts with its quarter target (or,
    without one, the sum of its month targets); each other month it covers whole with its month
    target. Months it covers only in part (a custom period) have no target."""
    quarters, months = [], []
    for month in period.months():
        if not period.contains(month, last_day(MONTH, month)):
            continue
        first = period_start(QUARTER, month)
        if first in quarters:
            continue
        if month == first and period.contains(first, last_day(QUARTER, first)):
            quarters.append(first)
        else:
            months.append(month)
    return quarters, months


def _target_people(scope):
    """Whose targets the leaderboard shows: the viewer alone, the chosen team's people, or the viewer
    and the people whose targets they could set with their sales scope (`users_for_targets`, asked
    with VIEW_DASHBOARDS: the same scope rules as the targets page, subordinates included)."""
    if scope.owner is not None:
        return Q(user_id=scope.owner.pk)
    if scope.team is not None:
        return Q(user__team__path__startswith=scope.team.path)
    return Q(user_id=scope.user.pk) | Q(user__in=users_for_targets(scope.user, Capability.VIEW_DASHBOARDS))


def _targets(scope):
    """{user id: (amount, count)} of the targets that measure the period (see `target_periods`)."""
    quarters, months = target_periods(scope.period)
    if not quarters and not months:
        return {}
    in_quarters = [period_shift(MONTH, q, n) for q in quarters for n in range(3)]
    rows = Target.objects.filter(_target_people(scope), user__isnull=False).filter(
        Q(period=TargetPeriod.QUARTER, starts_on__in=quarters)
        | Q(period=TargetPeriod.MONTH, starts_on__in=months + in_quarters)).values_list(
        "user_id", "period", "starts_on", "amount", "count")
    by_user = {}
    for user_id, kind, starts_on, amount, count in rows:
        by_user.setdefault(user_id, {})[(kind, starts_on)] = (amount, count)
    return {user_id: _target_for(quarters, months, found) for user_id, found in by_user.items()}


def _target_for(quarters, months, found):
    amount, count = Decimal(0), 0
    for first in quarters:
        parts = [found[(TargetPeriod.QUARTER, first)]] if (TargetPeriod.QUARTER, first) in found else [
            found[key] for key in ((TargetPeriod.MONTH, period_shift(MONTH, first, n)) for n in range(3)) if key in found]
        for part_amount, part_count in parts:
            amount, count = amount + part_amount, count + part_count
    for month in months:
        part_amount, part_count = found.get((TargetPeriod.MONTH, month), (Decimal(0), 0))
        amount, count = amount + part_amount, count + part_count
    return amount, count


def leaderboard(scope, opened, closed):
    """Per rep: won count and amount in the period, target, % of target, open deals and their weighted
    amount now; most won first. Reps with a target but no deals are listed too."""
    won = {pk: _figures(found) for pk, found in closed["rep_won"].items()}
    open_ = {pk: _figures(found) for pk, found in opened["rep_open"].items()}
    targets = _targets(scope)
    ids = set(won) | set(open_) | set(targets)
    board = []
    for person in User.objects.filter(pk__in=ids).select_related("team"):
        mine, pipeline = won.get(person.pk, _figures(None)), open_.get(person.pk, _figures(None))
        target, target_count = targets.get(person.pk, (None, None))
        board.append({"user": person, "won": mine["count"], "won_amount": mine["amount"], "target": target,
                      "target_count": target_count, "percent": _percent(mine["amount"], target),
                      "open": pipeline["count"], "open_weighted": pipeline["weighted"]})
    board.sort(key=lambda r: (-r["won_amount"], -(r["percent"] or 0), r["user"].name))
    return board


# The whole dashboard and its drill-downs ------------------------------------------------------------------

def dashboard(scope):
    """Every block of the dashboard for `scope`, in a fixed number of queries (about a dozen, however
    many deals, stages and reps)."""
    deals, stages = scoped_deals(scope), pipeline_stages(scope)
    opened, closed = open_pass(scope, deals), closed_pass(scope, deals)
    return {
        "funnel": funnel(scope, stages, opened, closed),
        "forecast": forecast(scope, opened),
        "win": win_rate(closed),
        "conversion": conversion(scope, deals, stages),
        "leaderboard": leaderboard(scope, opened, closed),
        "stale": stale(opened),
        "payments": payments(scope),
    }


DEAL_METRICS = ("funnel", "forecast", "won", "lost", "cycle", "reached", "rep_won", "rep_open", "stale")
INSTALMENT_METRICS = ("due", "overdue")
METRICS = DEAL_METRICS + INSTALMENT_METRICS


def _int(params, name):
    """An id from the drill-down's query: 400 when it is not one, 404 when it is missing."""
    value = inputs.query_id(params, name)
    if value is None:
        raise Http404
    return value


def _month(params):
    """The month (2026-03) of a forecast drill-down: 400 when it is not one within the calendar we keep."""
    month = inputs.query_month(params, "month")
    if month is None:
        raise Http404
    return month


def drilldown(scope, metric, params):
    """("deals" or "instalments", the rows behind one figure, unordered: the view pages them): the
    figure's set and condition, so the number of rows is the figure. An unknown metric, or a stage of another pipeline, is a 404."""
    if metric in INSTALMENT_METRICS:
        condition = _due(scope) if metric == "due" else _overdue(scope)
        rows = with_customer_visible(scoped_instalments(scope).filter(condition), scope.user,
                                     "contract__opportunity__customer")
        rows = rows.select_related("contract__opportunity__customer", "contract__opportunity__owner")
        return "instalments", rows  # the caller pages it, in its own order
    if metric not in DEAL_METRICS:
        raise Http404
    deals = scoped_deals(scope)
    if metric == "funnel":
        stage = _stage_of(scope, _int(params, "stage"))
        deals = deals.filter(_funnel(scope), stage=stage)
    elif metric == "forecast":
        month = _month(params)
        deals = deals.filter(_forecast(scope, [month]))
    elif metric in ("won", "cycle"):
        deals = deals.filter(_won(scope))
    elif metric == "lost":
        deals = deals.filter(_lost(scope))
    elif metric == "reached":
        chain = conversion_stages(pipeline_stages(scope))
        stage_pk = _int(params, "stage")
        index = next((i for i, stage in enumerate(chain) if stage.pk == stage_pk), None)
        if index is None:
            raise Http404
        deals = deals.filter(_cohort(scope)).filter(_reached(chain, index))
    elif metric in ("rep_won", "rep_open"):
        owner = _int(params, "owner")
        deals = deals.filter(_won(scope) if metric == "rep_won" else _open(), owner_id=owner)
    else:
        deals = deals.filter(_stale(scope))
    deals = with_customer_visible(deals, scope.user)
    return "deals", deals.select_related("customer", "stage", "owner", "pipeline")


def _stage_of(scope, pk):
    if scope.pipeline is None:
        raise Http404
    stage = next((s for s in scope.pipeline.stages.all() if s.pk == pk), None)
    if stage is None:
        raise Http404
    return stage
