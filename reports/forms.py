"""The sales dashboard's filter: a period (this or last month, quarter or year, or from–to dates), a
team within the viewer's scope and the pipeline whose funnel and conversion are shown."""
import calendar
import datetime
from dataclasses import dataclass

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.access import user_access
from accounts.capabilities import Capability, Module, Scope
from accounts.models import Team
from sales.models import Pipeline

MAX_CUSTOM_DAYS = 3 * 366  # a longer custom period would only make every figure slower


@dataclass(frozen=True)
class Period:
    """Whole days from `start` to `end` (both included), in the local time zone."""

    start: datetime.date
    end: datetime.date

    @property
    def start_at(self):
        return _local_midnight(self.start)

    @property
    def end_at(self):
        """The first moment after the period (exclusive bound)."""
        return _local_midnight(self.end + datetime.timedelta(days=1))

    def months(self):
        """The first day of each month the period touches."""
        month, months = self.start.replace(day=1), []
        while month <= self.end:
            months.append(month)
            month = _add_months(month, 1)
        return months

    def contains(self, start, end):
        return self.start <= start and end <= self.end


def _local_midnight(day):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _add_months(day, months):
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def month_end(first):
    return first.replace(day=calendar.monthrange(first.year, first.month)[1])


def quarter_start(day):
    return datetime.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def period_of(kind, today=None):
    """The period a preset names, around `today` (local)."""
    today = today or timezone.localdate()
    if kind in ("this_month", "last_month"):
        first = today.replace(day=1) if kind == "this_month" else _add_months(today.replace(day=1), -1)
        return Period(first, month_end(first))
    if kind in ("this_quarter", "last_quarter"):
        first = quarter_start(today) if kind == "this_quarter" else _add_months(quarter_start(today), -3)
        return Period(first, month_end(_add_months(first, 2)))
    year = today.year if kind == "this_year" else today.year - 1
    return Period(datetime.date(year, 1, 1), datetime.date(year, 12, 31))


def dashboard_teams(user):
    """The teams a viewer may narrow the dashboard to: those of their sales scope (every team for
    ALL, their team and its sub-teams, or their team alone). None without VIEW_DASHBOARDS."""
    access = user_access(user)
    if not access.has(Capability.VIEW_DASHBOARDS):
        return Team.objects.none()
    scope = access.scope(Module.SALES)
    if scope == Scope.ALL:
        return Team.objects.all()
    if user.team_id is None:
        return Team.objects.none()
    if scope == Scope.TEAM_AND_SUBTEAMS:
        return Team.objects.filter(path__startswith=user.team.path)
    if scope == Scope.TEAM:
        return Team.objects.filter(pk=user.team_id)
    return Team.objects.none()


def _select(name):
    return {"class": "form-select form-select-sm", "data-testid": name}


def _date(name):
    return {"type": "date", "class": "form-control form-control-sm", "data-testid": name}


class DashboardForm(forms.Form):
    PERIODS = [
        ("this_month", _("This month")), ("last_month", _("Last month")),
        ("this_quarter", _("This quarter")), ("last_quarter", _("Last quarter")),
        ("this_year", _("This year")), ("last_year", _("Last year")), ("custom", _("Custom dates")),
    ]
    DEFAULT_PERIOD = "this_quarter"

    period = forms.ChoiceField(label=_("Period"), choices=PERIODS, widget=forms.Select(attrs=_select("period")))
    start = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs=_date("start")))
    end = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs=_date("end")))
    team = forms.ModelChoiceField(label=_("team"), queryset=Team.objects.none(), required=False,
                                  empty_label=_("All teams in my scope"), widget=forms.Select(attrs=_select("team")))
    pipeline = forms.ModelChoiceField(label=_("pipeline"), queryset=Pipeline.objects.none(), required=False,
                                      empty_label=None, widget=forms.Select(attrs=_select("pipeline")),
                                      help_text=_("The funnel and the stage conversion are per pipeline."))

    def __init__(self, data=None, *, user, **kwargs):
        data = data.copy() if data is not None else {}
        if not data.get("period"):
            data["period"] = self.DEFAULT_PERIOD
        super().__init__(data, **kwargs)
        self.user = user
        self.own_only = not user_access(user).has(Capability.VIEW_DASHBOARDS)
        if self.own_only:
            del self.fields["team"]  # a rep's dashboard is their own deals: there is no team to pick
        else:
            self.fields["team"].queryset = dashboard_teams(user).order_by("path")
            self.fields["team"].label_from_instance = lambda team: "　" * team.depth + team.name
        self.fields["pipeline"].queryset = Pipeline.objects.filter(is_active=True).order_by("order", "id")

    def clean(self):
        data = super().clean()
        if data.get("period") == "custom":
            start, end = data.get("start"), data.get("end")
            if not start or not end:
                raise forms.ValidationError(_("Give both dates of a custom period."))
            if end < start:
                raise forms.ValidationError(_("The period ends before it starts."))
            if (end - start).days > MAX_CUSTOM_DAYS:
                raise forms.ValidationError(_("A custom period is at most three years."))
        if not data.get("pipeline"):
            data["pipeline"] = self.fields["pipeline"].queryset.first()
        return data

    @property
    def chosen_period(self):
        data = self.cleaned_data
        if data["period"] == "custom":
            return Period(data["start"], data["end"])
        return period_of(data["period"])
