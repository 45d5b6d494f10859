"""The customer list's filters (django-filter), its saved views and its sort options."""
import datetime

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.access import subordinate_ids_sql
from accounts.models import Team, User

from .lib import inputs
from .lib.paging import Ordering
from .models import Choice, CustomerKind, CustomerStatus, Tier
from .selectors.myday import today_bounds
from .selectors.pool import assignable_users
from .selectors.search import customers_matching_text

# The only sorts offered; each is backed by an index together with the usual filters.
SORTS = {
    "-id": (_("Newest first"), Ordering("id", descending=True, nullable=False)),
    "name": (_("Name"), Ordering("name", nullable=False)),
    "next": (_("Next follow-up"), Ordering("next_followup_at")),
    "-last": (_("Last follow-up, latest first"), Ordering("last_followup_at", descending=True)),
}
DEFAULT_SORT = "-id"


def _view_mine(qs, user):
    return qs.filter(owner=user)


def _view_subordinates(qs, user):
    return qs.filter(owner_id__any_of=subordinate_ids_sql(user))


def _view_today(qs, user):
    start, end = today_bounds(user)
    return qs.filter(next_followup_at__gte=start, next_followup_at__lt=end)


def _view_overdue(qs, user):
    start, _end = today_bounds(user)
    return qs.filter(next_followup_at__lt=start)


def _view_pool(qs, user):
    return qs.filter(owner__isnull=True)


# key: (label, icon, narrowing)
VIEWS = {
    "mine": (_("Mine"), "person", _view_mine),
    "subordinates": (_("My reports'"), "people", _view_subordinates),
    "today": (_("To contact today"), "calendar-check", _view_today),
    "overdue": (_("Overdue follow-ups"), "alarm", _view_overdue),
    "pool": (_("Pool"), "inbox", _view_pool),
}


class CustomerFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="filter_q")
    view = django_filters.ChoiceFilter(
        label=_("View"), choices=[(k, v[0]) for k, v in VIEWS.items()], method="filter_view")
    # distinct=False: one column of the customer table cannot repeat rows, and DISTINCT would
    # stop the index walk that finds the first page.
    tier = django_filters.MultipleChoiceFilter(label=_("Tier"), choices=Tier.choices, distinct=False,
                                               widget=forms.CheckboxSelectMultiple)
    status = django_filters.MultipleChoiceFilter(label=_("Status"), choices=CustomerStatus.choices, distinct=False,
                                                 widget=forms.CheckboxSelectMultiple)
    kind = django_filters.ChoiceFilter(label=_("Type"), choices=CustomerKind.choices)
    industry = django_filters.ModelChoiceFilter(
        label=_("Industry"), queryset=Choice.objects.filter(kind=Choice.Kind.INDUSTRY))
    source = django_filters.ModelChoiceFilter(
        label=_("Source"), queryset=Choice.objects.filter(kind=Choice.Kind.SOURCE))
    owner = django_filters.ModelChoiceFilter(label=_("Owner"), queryset=User.objects.filter(is_active=True))
    team = django_filters.ModelChoiceFilter(label=_("Team"), queryset=Team.objects.all())
    tag = django_filters.CharFilter(label=_("Tag"), method="filter_tag")
    city = django_filters.CharFilter(label=_("City"), field_name="city")
    overdue = django_filters.BooleanFilter(
        label=_("Follow-up overdue"), method="filter_overdue",
        widget=forms.Select(choices=[("", "---------"), ("true", _("Yes")), ("false", _("No"))]))
    last_followup = inputs.DateFromToRangeFilter(
        label=_("Last follow-up between"), method="filter_last_followup",
        widget=django_filters.widgets.DateRangeWidget(attrs={"type": "date"}))
    created = inputs.DateFromToRangeFilter(
        label=_("Created between"), method="filter_created",
        widget=django_filters.widgets.DateRangeWidget(attrs={"type": "date"}))
    sort = django_filters.ChoiceFilter(
        label=_("Sort"), choices=[(k, v[0]) for k, v in SORTS.items()], method="filter_noop", empty_label=None)
    # The customers of one of the user's grouped reminders (its link: "18 customers not followed up ...").
    reminder = inputs.IdFilter(label=_("Reminder"), method="filter_reminder", widget=forms.HiddenInput)

    def __init__(self, *args, user=None, dense=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.dense = dense  # a search known to match many: see customers_matching_text
        if user is not None:
            self.filters["owner"].queryset = assignable_users(user)

    def filter_noop(self, qs, name, value):
        return qs

    def filter_q(self, qs, name, value):
        return customers_matching_text(qs, value, dense=self.dense)

    def filter_view(self, qs, name, value):
        entry = VIEWS.get(value)
        return entry[2](qs, self.user) if entry else qs

    def filter_reminder(self, qs, name, value):
        from .selectors.notifications import group_object_ids

        return qs.filter(pk__any_of=group_object_ids(self.user, value)) if self.user is not None else qs.none()

    def filter_tag(self, qs, name, value):
        value = value.strip()
        return qs.filter(tags__contains=[value]) if value else qs

    def filter_overdue(self, qs, name, value):
        now = timezone.now()
        if value is True:
            return qs.filter(next_followup_at__lt=now)
        if value is False:
            return qs.filter(Q(next_followup_at__gte=now) | Q(next_followup_at__isnull=True))
        return qs

    def _range(self, qs, field, value):
        """Whole days in the user's time zone, as bounds on the column itself (index-friendly)."""
        def midnight(day):
            return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))

        if value and value.start:
            qs = qs.filter(**{f"{field}__gte": midnight(value.start)})
        if value and value.stop:
            qs = qs.filter(**{f"{field}__lt": midnight(value.stop + datetime.timedelta(days=1))})
        return qs

    def filter_last_followup(self, qs, name, value):
        return self._range(qs, "last_followup_at", value)

    def filter_created(self, qs, name, value):
        return self._range(qs, "created_at", value)

    @property
    def ordering(self):
        key = self.form.cleaned_data.get("sort") if self.form.is_valid() else None
        return SORTS.get(key or DEFAULT_SORT, SORTS[DEFAULT_SORT])[1]
