"""The reports' filters: a period (this or last month, quarter or year, or from–to dates) and a team within
the viewer's scope; the sales dashboard's also the pipeline whose funnel and conversion are shown."""
import datetime
from dataclasses import dataclass

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.access import user_access
from accounts.capabilities import Capability
from accounts.models import Team
from crm.lib import inputs
from sales.models import Pipeline, TargetPeriod
from sales.selectors.targets import last_day, local_midnight, period_shift, period_start, teams_for_targets

MONTH, QUARTER = TargetPeriod.MONTH, TargetPeriod.QUARTER

MAX_CUSTOM_DAYS = 3 * 366  # a longer custom period would only make every figure slower


@dataclass(frozen=True)
class Period:
    """Whole days from `start` to `end` (both included), in the local time zone."""

    start: datetime.date
    end: datetime.date

    @property
    def start_at(self):
        return local_midnight(self.start)

    @property
    def end_at(self):
        """The first moment after the period (exclusive bound)."""
        return local_midnight(self.end + datetime.timedelta(days=1))

    def months(self):
        """The first day of each month the period touches."""
        month, months = self.start.replace(day=1), []
        while month <= self.end:
            months.append(month)
            month = period_shift(MONTH, month, 1)
        return months

    def contains(self, start, end):
        return self.start <= start and end <= self.end


def period_of(kind, today=None):
    """The period a preset names, around `today` (local)."""
    today = today or timezone.localdate()
    for period, this, last in ((MONTH, "this_month", "last_month"), (QUARTER, "this_quarter", "last_quarter")):
        if kind in (this, last):
            first = period_shift(period, period_start(period, today), 0 if kind == this else -1)
            return Period(first, last_day(period, first))
    year = today.year if kind == "this_year" else today.year - 1
    return Period(datetime.date(year, 1, 1), datetime.date(year, 12, 31))


def dashboard_teams(user):
    """The teams a viewer may narrow the dashboard to: those of their sales scope (every team for
    ALL, their team and its sub-teams, or their team alone), by the same rules as the targets page's
    (`teams_for_targets`). None without VIEW_DASHBOARDS."""
    return teams_for_targets(user, Capability.VIEW_DASHBOARDS)


def _select(name):
    return {"class": "form-select form-select-sm", "data-testid": name}


def _date(name):
    return {"type": "date", "class": "form-control form-control-sm", "data-testid": name}


class PeriodForm(forms.Form):
    """A report's period: a preset around today, or from–to dates (both, in order, at most three years)."""

    PERIODS = [
        ("this_month", _("This month")), ("last_month", _("Last month")),
        ("this_quarter", _("This quarter")), ("last_quarter", _("Last quarter")),
        ("this_year", _("This year")), ("last_year", _("Last year")), ("custom", _("Custom dates")),
    ]
    DEFAULT_PERIOD = "this_quarter"

    period = forms.ChoiceField(label=_("Period"), choices=PERIODS, widget=forms.Select(attrs=_select("period")))
    start = inputs.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs=_date("start")))
    end = inputs.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs=_date("end")))

    def __init__(self, data=None, **kwargs):
        data = data.copy() if data is not None else {}
        if not data.get("period"):
            data["period"] = self.DEFAULT_PERIOD
        super().__init__(data, **kwargs)

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
        return data

    @property
    def chosen_period(self):
        data = self.cleaned_data
        if data["period"] == "custom":
            return Period(data["start"], data["end"])
        return period_of(data["period"])


class DashboardForm(PeriodForm):
    team = forms.ModelChoiceField(label=_("team"), queryset=Team.objects.none(), required=False,
                                  empty_label=_("All teams in my scope"), widget=forms.Select(attrs=_select("team")))
    pipeline = forms.ModelChoiceField(label=_("pipeline"), queryset=Pipeline.objects.none(), required=False,
                                      empty_label=None, widget=forms.Select(attrs=_select("pipeline")),
                                      help_text=_("The funnel and the stage conversion are per pipeline."))

    def __init__(self, data=None, *, user, **kwargs):
        super().__init__(data, **kwargs)
        self.user = user
        self.own_only = not user_access(user).has(Capability.VIEW_DASHBOARDS)
        if self.own_only:
            del self.fields["team"]  # a rep's dashboard is their own deals: there is no team to pick
        else:
            self.fields["team"].queryset = dashboard_teams(user).order_by("path")
            self.fields["team"].label_from_instance = _indented
        self.fields["pipeline"].queryset = Pipeline.objects.filter(is_active=True).order_by("order", "id")

    def clean(self):
        data = super().clean()
        if not data.get("pipeline"):
            data["pipeline"] = self.fields["pipeline"].queryset.first()
        return data


def service_report_teams(user):
    """The teams a viewer may narrow the service report to: those their service scope reaches (every
    team for ALL, their team and its sub-teams, or their team alone), as for handing tickets on
    (`teams_within_reach`); none for a scope of their own tickets."""
    from service.services.tickets import teams_within_reach

    teams = teams_within_reach(user)
    return Team.objects.all() if teams is None else teams


class ServiceReportForm(PeriodForm):
    """The service report's filter: the period and a team within the viewer's service scope."""

    team = forms.ModelChoiceField(label=_("team"), queryset=Team.objects.none(), required=False,
                                  empty_label=_("All teams in my scope"), widget=forms.Select(attrs=_select("team")))

    def __init__(self, data=None, *, user, **kwargs):
        super().__init__(data, **kwargs)
        self.user = user
        teams = service_report_teams(user).order_by("path")
        self.fields["team"].queryset = teams
        self.fields["team"].label_from_instance = _indented


def _indented(team):
    return "　" * team.depth + team.name
