"""The service report's figures, and the tickets behind each of them.

Every figure starts from `accounts.access.visible(user, Ticket)` (the viewer's service scope), narrowed
to the chosen team and its sub-teams (`scoped_tickets`). Each block is one or two aggregate queries over
that set (FILTER clauses, percentile_cont, GROUP BY), never a loop over tickets, with conditions defined
once below; the drill-down list of a figure filters the same set with the same condition, so its row
count is the figure.

What the figures mean (`ServiceScope.period` is the chosen period, local days):
- backlog: the open tickets (new, in progress, waiting on the customer) now, by status and by age
  (since opened); overdue: those whose running clock is past its next deadline.
- response and resolution: over the tickets resolved in the period (a ticket's figures are final once
  it is resolved), the median and 90th percentile of the working time to the first response and to
  the resolution, as the SLA clock counts it (the ticket's calendar, its stops left out; stored on the
  ticket when each happened).
- SLA compliance: of those tickets with a target, the share whose first response came by its deadline
  (no first response at all misses it) and the share resolved by its deadline. A breach is a ticket
  that missed either; breaches are counted per team, agent (the assignee) and ticket type.
- satisfaction: the surveys answered in the period: CSAT average and the count of each score 1–5; NPS
  = % promoters (9–10) − % detractors (0–6) of the answers that gave a score 0–10.
- complaints: the complaint tickets opened in the period, by ticket type and by root cause (none yet
  while it is being handled).
"""
import datetime
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Aggregate, Avg, BooleanField, Count, ExpressionWrapper, F, FloatField, Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.access import visible
from accounts.models import Team, User
from crm.lib import inputs
from sales.selectors import with_customer_visible
from service.models import OPEN_STATUSES, RootCause, Ticket, TicketStatus, TicketType

from ..forms import Period

DAY = datetime.timedelta(days=1)
# (key, label, from, to): the open tickets' ages in whole days since they were opened, [from, to).
AGE_BUCKETS = (
    ("lt1", _("under 1 day"), 0, 1),
    ("1to3", _("1–3 days"), 1, 3),
    ("3to7", _("3–7 days"), 3, 7),
    ("7to30", _("7–30 days"), 7, 30),
    ("gt30", _("over 30 days"), 30, None),
)
CSAT_SCORES = (5, 4, 3, 2, 1)
NPS_GROUPS = ("promoters", "passives", "detractors")
NONE = "none"  # a breakdown's row for tickets without a team or an assignee, and complaints without a cause


@dataclass(frozen=True)
class ServiceScope:
    """Whose tickets and which period: the viewer's service scope, narrowed to `team` and its sub-teams."""

    user: User
    period: Period
    team: Team | None = None
    now: datetime.datetime = field(default_factory=timezone.now)


def scoped_tickets(scope):
    """The tickets every figure is computed from: visible to the viewer, narrowed to the team."""
    tickets = visible(scope.user, Ticket.objects.all())
    if scope.team is not None:
        tickets = tickets.filter(team_id__any_of=Team.objects.filter(path__startswith=scope.team.path).values("id"))
    return tickets


class Percentile(Aggregate):
    """PostgreSQL's percentile_cont: the value below which `fraction` of the rows fall, interpolated
    between the two nearest (NULLs left out); None over no rows."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, fraction, **extra):
        super().__init__(expression, fraction=float(fraction), **extra)


# The conditions, each shared by a figure and its drill-down ------------------------------------------

def _open():
    return Q(status__in=OPEN_STATUSES)


def _age(scope, key):
    """Open for at least `from` and less than `to` whole days (AGE_BUCKETS) at the report's moment."""
    _key, _label, low, high = next(bucket for bucket in AGE_BUCKETS if bucket[0] == key)
    condition = Q(created_at__lte=scope.now - low * DAY)
    return condition & Q(created_at__gt=scope.now - high * DAY) if high is not None else condition


def _overdue(scope):
    return Q(due_at__lt=scope.now)


def _resolved(scope):
    return Q(resolved_at__gte=scope.period.start_at, resolved_at__lt=scope.period.end_at)


def _first_response_target():
    return Q(first_response_due__isnull=False)


def _first_response_met():
    return Q(first_response_due__isnull=False, first_responded_at__lte=F("first_response_due"))


def _first_response_missed():
    return Q(first_response_due__isnull=False) & (
        Q(first_responded_at__isnull=True) | Q(first_responded_at__gt=F("first_response_due")))


def _resolution_target():
    return Q(resolution_due__isnull=False)


def _resolution_met():
    return Q(resolution_due__isnull=False, resolved_at__lte=F("resolution_due"))


def _resolution_missed():
    return Q(resolution_due__isnull=False, resolved_at__gt=F("resolution_due"))


def _breached():
    return _first_response_missed() | _resolution_missed()


def _answered(scope):
    return Q(survey__answered_at__gte=scope.period.start_at, survey__answered_at__lt=scope.period.end_at)


def _csat(score):
    return Q(survey__csat=score)


def _nps_group(group):
    return {"promoters": Q(survey__nps__gte=9), "passives": Q(survey__nps__in=(7, 8)),
            "detractors": Q(survey__nps__lte=6)}[group]


def _complained(scope):
    return Q(complaint__isnull=False, created_at__gte=scope.period.start_at, created_at__lt=scope.period.end_at)


def _cause(cause):
    return Q(complaint__root_cause_kind="" if cause == NONE else cause)


# The figures ------------------------------------------------------------------------------------------

def backlog(scope, tickets):
    """The open tickets now: in all, overdue, per status and per age bucket (one query)."""
    row = tickets.filter(_open()).aggregate(
        total=Count("pk"), overdue=Count("pk", filter=_overdue(scope)),
        **{f"status_{status}": Count("pk", filter=Q(status=status)) for status in OPEN_STATUSES},
        **{f"age_{key}": Count("pk", filter=_age(scope, key)) for key, *_rest in AGE_BUCKETS})
    return {
        "total": row["total"], "overdue": row["overdue"],
        "statuses": [{"status": TicketStatus(status), "count": row[f"status_{status}"]} for status in OPEN_STATUSES],
        "ages": [{"key": key, "label": label, "count": row[f"age_{key}"]} for key, label, *_rest in AGE_BUCKETS],
    }


# What each group of resolved tickets counts (resolution() sums them, breaches() per team, agent, type).
def _resolved_counts():
    return {"resolved": Count("pk"),
            "fr_targets": Count("pk", filter=_first_response_target()),
            "fr_met": Count("pk", filter=_first_response_met()),
            "fr_missed": Count("pk", filter=_first_response_missed()),
            "res_targets": Count("pk", filter=_resolution_target()),
            "res_met": Count("pk", filter=_resolution_met()),
            "res_missed": Count("pk", filter=_resolution_missed()),
            "breached": Count("pk", filter=_breached())}


def resolved_groups(scope, tickets):
    """The tickets resolved in the period counted per (team, agent, type) in one query: a few hundred
    rows at most, whatever the number of tickets, which the totals and the breakdowns add up (160,000
    rows hashed once cost a third of GROUPING SETS over each of the three; the statistics of service
    migration 0013 keep the planner from sorting them on disk instead)."""
    return list(tickets.filter(_resolved(scope)).values("team_id", "assignee_id", "type_id")
                .annotate(**_resolved_counts()).order_by())


def resolution(scope, tickets, groups):
    """The tickets resolved in the period: how many; the median and 90th percentile of the working
    hours to their first response and to their resolution (one query: percentile_cont over the same
    rows shares its sort); how many met or missed each target, the compliance (%) and the breaches
    (either target missed), added up from `groups`."""
    row = {name: sum(group[name] for group in groups) for name in _resolved_counts()}
    times = tickets.filter(_resolved(scope)).aggregate(
        fr_median=Percentile("first_response_work_seconds", 0.5),
        fr_p90=Percentile("first_response_work_seconds", 0.9),
        res_median=Percentile("resolution_work_seconds", 0.5), res_p90=Percentile("resolution_work_seconds", 0.9))
    return {**row, **{name: hours(value) for name, value in times.items()},
            "fr_rate": _percent(row["fr_met"], row["fr_targets"]),
            "res_rate": _percent(row["res_met"], row["res_targets"])}


def hours(seconds):
    """Working seconds as hours with one decimal, halves up (None stays None)."""
    return None if seconds is None else (Decimal(seconds) / 3600).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _percent(part, whole):
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _added_up(groups, column, counts):
    """{value of `column` (NONE for empty): {count: sum over the groups with that value}}."""
    found = {}
    for group in groups:
        key = group[column] if group[column] not in (None, "") else NONE
        totals = found.setdefault(key, dict.fromkeys(counts, 0))
        for count in counts:
            totals[count] += group[count]
    return found


def breaches(groups, types):
    """Per team, agent and ticket type: the tickets resolved in the period and those that missed a
    target, added up from `groups` (and one query each for the teams' and agents' names); most
    breaches first."""
    counts = ("resolved", "breached")
    found = {breakdown: _added_up(groups, column, counts)
             for breakdown, column in (("team", "team_id"), ("agent", "assignee_id"), ("type", "type_id"))}
    teams = Team.objects.in_bulk([key for key in found["team"] if key != NONE])
    agents = User.objects.in_bulk([key for key in found["agent"] if key != NONE])
    names = {"team": lambda key: teams[key].name if key in teams else None,
             "agent": lambda key: agents[key].name if key in agents else None,
             "type": lambda key: str(types[key]) if key in types else None}
    return {breakdown: _rows(found[breakdown], names[breakdown]) for breakdown in ("team", "agent", "type")}


def _rows(found, name_of):
    rows = [{"key": key, "name": name_of(key) if key != NONE else None, "resolved": counts["resolved"],
             "breached": counts["breached"], "rate": _percent(counts["breached"], counts["resolved"])}
            for key, counts in found.items()]
    return sorted(rows, key=lambda row: (-row["breached"], -row["resolved"], row["name"] or ""))


def satisfaction(scope, tickets):
    """The surveys answered in the period (one query): how many, the CSAT average and the count of each
    score; of those with an NPS answer, promoters, passives and detractors, and the NPS."""
    row = tickets.filter(_answered(scope)).aggregate(
        answered=Count("pk"), average=Avg("survey__csat"),
        **{f"csat_{score}": Count("pk", filter=_csat(score)) for score in CSAT_SCORES},
        nps_answers=Count("survey__nps"), **{group: Count("pk", filter=_nps_group(group)) for group in NPS_GROUPS})
    answered = row["answered"]
    scores = [{"score": score, "count": row[f"csat_{score}"], "share": _percent(row[f"csat_{score}"], answered)}
              for score in CSAT_SCORES]
    nps_answers = row["nps_answers"]
    promoters, detractors = _percent(row["promoters"], nps_answers), _percent(row["detractors"], nps_answers)
    return {
        "answered": answered, "scores": scores,
        "average": (Decimal(row["average"]).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
                    if row["average"] is not None else None),
        "nps_answers": nps_answers, "promoters": row["promoters"], "passives": row["passives"],
        "detractors": row["detractors"], "promoter_share": promoters, "detractor_share": detractors,
        "nps": _percent(row["promoters"] - row["detractors"], nps_answers),
    }


def complaints(scope, tickets, types):
    """The complaints opened in the period by ticket type and by root cause (one query, per type and
    cause, added up)."""
    groups = list(tickets.filter(_complained(scope)).values("type_id", cause=F("complaint__root_cause_kind"))
                  .annotate(n=Count("pk")).order_by())
    causes = dict(RootCause.choices)
    by_type = [{"key": key, "name": str(types[key]) if key in types else None, "count": counts["n"]}
               for key, counts in _added_up(groups, "type_id", ("n",)).items()]
    by_cause = [{"key": key, "name": str(causes[key]) if key in causes else None, "count": counts["n"]}
                for key, counts in _added_up(groups, "cause", ("n",)).items()]
    order = {key: index for index, key in enumerate([*causes, NONE])}
    return {"total": sum(row["count"] for row in by_type),
            "types": sorted(by_type, key=lambda row: (-row["count"], row["name"] or "")),
            "causes": sorted(by_cause, key=lambda row: order.get(row["key"], len(order)))}


def report(scope):
    """Every block of the service report for `scope`, in a fixed number of queries (eight, however many
    tickets, teams and agents): set-based aggregates, and sums over at most a few hundred groups."""
    tickets = scoped_tickets(scope)
    types = TicketType.objects.in_bulk()
    groups = resolved_groups(scope, tickets)
    return {
        "backlog": backlog(scope, tickets),
        "resolution": resolution(scope, tickets, groups),
        "breaches": breaches(groups, types),
        "satisfaction": satisfaction(scope, tickets),
        "complaints": complaints(scope, tickets, types),
    }


# The drill-downs --------------------------------------------------------------------------------------

BACKLOG_METRICS = ("open", "age", "overdue")
RESOLVED_METRICS = ("resolved", "fr_met", "fr_missed", "res_met", "res_missed", "breached")
SURVEY_METRICS = ("csat", "nps")
METRICS = BACKLOG_METRICS + RESOLVED_METRICS + SURVEY_METRICS + ("complaints",)
_RESOLVED = {"resolved": Q, "fr_met": _first_response_met, "fr_missed": _first_response_missed,
             "res_met": _resolution_met, "res_missed": _resolution_missed, "breached": _breached}
# A breakdown's row: the query parameter and the column it names ("none": without one).
DIMENSIONS = {"by_team": "team_id", "by_agent": "assignee_id", "by_type": "type_id"}


def drilldown(scope, metric, params):
    """("backlog", "resolved" or "tickets": how the view orders them; the tickets behind one figure,
    unordered): the figure's set and condition, so the number of rows is the figure. An unknown metric
    or value is a 404, a malformed id a 400."""
    if metric not in METRICS:
        raise Http404
    tickets = scoped_tickets(scope)
    if metric in BACKLOG_METRICS:
        kind, condition = "backlog", _open() & _backlog_condition(scope, metric, params)
    elif metric in RESOLVED_METRICS:
        kind, condition = "resolved", _resolved(scope) & _RESOLVED[metric]() & _dimensions(params)
    elif metric in SURVEY_METRICS:
        kind, condition = "tickets", _answered(scope) & _survey_condition(metric, params)
    else:
        kind, condition = "tickets", _complained(scope) & _dimensions(params, ("by_type",)) & _cause_condition(params)
    # What a row shows: a first response given late (or a ticket resolved without one), a resolution
    # late, and an open ticket whose running clock is past its deadline.
    rows = with_customer_visible(tickets.filter(condition), scope.user).annotate(
        first_response_late=_flag(_first_response_missed() & (Q(first_responded_at__isnull=False)
                                                               | Q(resolved_at__isnull=False))),
        resolution_late=_flag(_resolution_missed()), overdue=_flag(_open() & _overdue(scope)))
    return kind, rows.select_related("customer", "type", "assignee", "team", "survey", "complaint")


NPS_LABELS = {"promoters": _("Promoters (9–10)"), "passives": _("Passives (7–8)"),
              "detractors": _("Detractors (0–6)")}


def drilldown_labels(metric, params):
    """What narrows a drill-down beyond its figure, as people read it (a status, an age, a team …): a
    query for each team, agent or type it names. Only the parameters `metric` reads, which `drilldown`
    has checked."""
    labels = []
    if metric == "open" and params.get("status"):
        labels.append(TicketStatus(params["status"]).label)
    if metric == "age":
        labels.append(next(label for key, label, *_rest in AGE_BUCKETS if key == params.get("age")))
    dimensions = DIMENSIONS if metric in RESOLVED_METRICS else ("by_type",) if metric == "complaints" else ()
    for name, model, nameless in (("by_team", Team, _("No team")), ("by_agent", User, _("Unassigned")),
                                  ("by_type", TicketType, "")):
        value = params.get(name) if name in dimensions else None
        if value == NONE:
            labels.append(nameless)
        elif value:
            found = model.objects.filter(pk=inputs.query_id(params, name)).first()
            labels.append(found.name if isinstance(found, (Team, User)) else str(found or ""))
    if metric == "csat" and params.get("score"):
        labels.append(_("CSAT %(score)d") % {"score": int(params["score"])})
    if metric == "nps" and params.get("group"):
        labels.append(NPS_LABELS[params["group"]])
    if metric == "complaints" and params.get("cause"):
        labels.append(dict(RootCause.choices).get(params["cause"]) or _("Not found yet"))
    return [str(label) for label in labels if label]


def _flag(condition):
    return ExpressionWrapper(condition, output_field=BooleanField())


def _backlog_condition(scope, metric, params):
    if metric == "overdue":
        return _overdue(scope)
    if metric == "age":
        key = params.get("age")
        if key not in {bucket[0] for bucket in AGE_BUCKETS}:
            raise Http404
        return _age(scope, key)
    status = params.get("status")
    if not status:
        return Q()
    if status not in OPEN_STATUSES:
        raise Http404
    return Q(status=status)


def _dimensions(params, names=tuple(DIMENSIONS)):
    condition = Q()
    for name in names:
        value = params.get(name)
        if value == NONE:
            condition &= Q(**{f"{DIMENSIONS[name]}__isnull": True})
        elif value:
            condition &= Q(**{DIMENSIONS[name]: inputs.query_id(params, name)})
    return condition


def _survey_condition(metric, params):
    if metric == "csat":
        score = inputs.query_int(params, "score", minimum=1, maximum=5) if params.get("score") else None
        return _csat(score) if score is not None else Q()
    group = params.get("group")
    if not group:
        return Q(survey__nps__isnull=False)
    if group not in NPS_GROUPS:
        raise Http404
    return _nps_group(group)


def _cause_condition(params):
    cause = params.get("cause")
    if not cause:
        return Q()
    if cause != NONE and cause not in RootCause.values:
        raise Http404
    return _cause(cause)
