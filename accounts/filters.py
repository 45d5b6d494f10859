"""Filters of the settings lists (django-filter)."""
import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .forms import TeamChoiceField
from .models import Role, Team


class TeamFilter(django_filters.ModelChoiceFilter):
    field_class = TeamChoiceField


class UserFilter(django_filters.FilterSet):
    ACTIVE, INACTIVE = "active", "inactive"

    q = django_filters.CharFilter(
        label=_("Search"), method="search",
        widget=forms.TextInput(attrs={"placeholder": _("Username, name or mobile"), "type": "search"}),
    )
    team = TeamFilter(label=_("Team"), queryset=Team.objects.all(), empty_label=_("All teams"))
    role = django_filters.ModelChoiceFilter(
        label=_("Role"), field_name="roles", queryset=Role.objects.all(), empty_label=_("All roles"))
    status = django_filters.ChoiceFilter(
        label=_("Status"), method="by_status", empty_label=_("Any status"),
        choices=[(ACTIVE, _("Active")), (INACTIVE, _("Deactivated"))],
    )

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(username__icontains=value) | Q(display_name__icontains=value) | Q(mobile__icontains=value))

    def by_status(self, queryset, name, value):
        return queryset.filter(is_active=(value == self.ACTIVE))
