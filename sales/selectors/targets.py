"""Reads of sales targets: the periods (a month or a quarter, named by its first day), who a manager
may set targets for (the teams and reps within their sales scope), and the targets page's grid with,
beside each target, what was actually won in the period among the deals the manager may see."""
import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.access import subordinate_ids_sql, user_access, visible
from accounts.capabilities import Capability, Module, Scope
from accounts.models import Role, Team, User

from ..models import Opportunity, StageKind, Target, TargetPeriod

__all__ = [
    "TargetRow", "TargetSubjects", "last_day", "local_midnight", "period_end", "period_label", "period_shift",
    "period_start", "target_for",
    "target_grid", "target_subjects_for", "targets_in_scope", "teams_for_targets", "users_for_targets",
    "won_actuals",
]


def period_start(period, day):
    """The first day of the month or quarter `day` falls in."""
    if period == TargetPeriod.QUARTER:
        return datetime.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    return day.replace(day=1)


def period_shift(period, start, steps):
    """The first day of the period `steps` periods after (or before, when negative) the one at `start`."""
    months = start.year * 12 + start.month - 1 + steps * (3 if period == TargetPeriod.QUARTER else 1)
    return datetime.date(months // 12, months % 12 + 1, 1)


def period_end(period, start):
    """The first day after the period (exclusive end)."""
    return period_shift(period, start, 1)


def last_day(period, start):
    """The last day of the period (inclusive end)."""
    return period_end(period, start) - datetime.timedelta(days=1)


def local_midnight(day):
    """The first moment of `day` in the current time zone."""
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=timezone.get_current_timezone())


def period_label(period, start):
    if period == TargetPeriod.QUARTER:
        return _("Q%(quarter)s %(year)s") % {"quarter": (start.month - 1) // 3 + 1, "year": start.year}
    return _("%(month)s/%(year)s") % {"month": start.month, "year": start.year}


def _sales_scope(user, capability=Capability.MANAGE_TARGETS):
    access = user_access(user)
    if not access.has(capability):
        return Scope.NONE
    return access.scope(Module.SALES)


def teams_for_targets(user, capability=Capability.MANAGE_TARGETS):
    """The teams `user` may set targets for (a queryset): every team with the ALL sales scope, their
    team and its sub-teams with TEAM_AND_SUBTEAMS, their own team with TEAM; none without
    `capability` (sales.target:manage; the dashboard asks with its own, to see targets)."""
    scope = _sales_scope(user, capability)
    if scope == Scope.ALL:
        return Team.objects.all()
    if scope == Scope.TEAM_AND_SUBTEAMS and user.team_id:
        return Team.objects.filter(path__startswith=user.team.path)
    if scope == Scope.TEAM and user.team_id:
        return Team.objects.filter(pk=user.team_id)
    return Team.objects.none()


def users_for_targets(user, capability=Capability.MANAGE_TARGETS):
    """The reps `user` may set targets for (a queryset): the active people who work in sales (hold a
    role with a sales scope) in the teams of `teams_for_targets`, or below them in the manager chain
    with OWN_AND_SUBORDINATES; never themselves. None without `capability`."""
    scope = _sales_scope(user, capability)
    people = User.objects.filter(is_active=True).exclude(pk=user.pk)
    if scope == Scope.ALL:
        pass
    elif scope in (Scope.TEAM_AND_SUBTEAMS, Scope.TEAM) and user.team_id:
        people = people.filter(team__in=teams_for_targets(user, capability))
    elif scope == Scope.OWN_AND_SUBORDINATES:
        people = people.filter(pk__any_of=subordinate_ids_sql(user))
    else:
        return User.objects.none()
    in_sales = Role.objects.filter(users=OuterRef("pk"), sales_scope__gt=Scope.NONE)
    return people.filter(Exists(in_sales))


@dataclass
class TargetSubjects:
    teams: list = field(default_factory=list)
    users: list = field(default_factory=list)


def target_subjects_for(user):
    """The teams (in tree order) and reps (by team, then name) `user` may set targets for. Two queries."""
    return TargetSubjects(
        teams=list(teams_for_targets(user).order_by("path")),
        users=list(users_for_targets(user).select_related("team").order_by("team__path", "username")),
    )


def targets_in_scope(user, capability=Capability.MANAGE_TARGETS):
    """The targets of the teams and reps `user` may set targets for (or, with another `capability`,
    may see the targets of: the same scope rules)."""
    return Target.objects.filter(team__in=teams_for_targets(user, capability)) | Target.objects.filter(
        user__in=users_for_targets(user, capability))


def target_for(user, pk):
    """The target `pk` when its team or rep is within `user`'s scope, else None (the view answers 404)."""
    return targets_in_scope(user).filter(pk=pk).select_related("team", "user").first()


def _bounds(period, start):
    return local_midnight(start), local_midnight(period_end(period, start))


def won_actuals(user, period, start, *, users=(), teams=()):
    """What was won in the period among the deals `user` may see: {("user", id): (amount, count)} by
    owner, and {("team", id): (amount, count)} by team including its sub-teams. Two queries."""
    since, until = _bounds(period, start)
    won = visible(user, Opportunity.objects.all()).filter(stage__kind=StageKind.WON, closed_at__gte=since,
                                                           closed_at__lt=until)
    actuals = {}
    if users:
        for row in won.filter(owner__in=[u.pk for u in users]).values("owner_id").annotate(
                amount=Sum("amount"), count=Count("pk")).order_by():
            actuals[("user", row["owner_id"])] = (row["amount"], row["count"])
    if teams:
        rows = list(won.filter(team__isnull=False).values("team__path").annotate(
            amount=Sum("amount"), count=Count("pk")).order_by())
        for team in teams:
            mine = [r for r in rows if r["team__path"].startswith(team.path)]
            if mine:
                actuals[("team", team.pk)] = (sum((r["amount"] for r in mine), Decimal(0)),
                                              sum(r["count"] for r in mine))
    return actuals


@dataclass
class TargetRow:
    kind: str  # "team" or "user"
    subject: object
    target: Target | None
    won_amount: Decimal = Decimal(0)
    won_count: int = 0

    @property
    def prefix(self):
        return f"{self.kind}-{self.subject.pk}"

    @property
    def progress(self):
        """Won amount as a percentage of the target amount (None without one)."""
        if self.target is None or not self.target.amount:
            return None
        return int(self.won_amount * 100 / self.target.amount)


def target_grid(user, period, start):
    """The targets page: a row per team, then per rep, that `user` may set targets for, each with its
    target for the period (or None) and what was won. Five queries, however many rows."""
    subjects = target_subjects_for(user)
    targets = Target.objects.filter(period=period, starts_on=start).filter(
        team__in=[t.pk for t in subjects.teams]) | Target.objects.filter(
        period=period, starts_on=start, user__in=[u.pk for u in subjects.users])
    by_subject = {("team", t.team_id) if t.team_id else ("user", t.user_id): t for t in targets}
    actuals = won_actuals(user, period, start, users=subjects.users, teams=subjects.teams)
    rows = []
    for kind, items in (("team", subjects.teams), ("user", subjects.users)):
        for item in items:
            amount, count = actuals.get((kind, item.pk), (Decimal(0), 0))
            rows.append(TargetRow(kind=kind, subject=item, target=by_subject.get((kind, item.pk)),
                                  won_amount=amount, won_count=count))
    return rows
