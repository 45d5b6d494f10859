"""The deal list's filters (django-filter); the list page and its .xlsx export share them."""
import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.access import visible
from accounts.models import User
from crm.lib import inputs
from marketing.models import Campaign

from .models import Pipeline, StageKind

OPEN = StageKind.OPEN
ANY = "all"


class OpportunityFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search", widget=forms.TextInput(
        attrs={"type": "search", "placeholder": _("Deal or customer name")}))
    pipeline = django_filters.ModelChoiceFilter(label=_("pipeline"), queryset=Pipeline.objects.all(),
                                                empty_label=_("All"))
    state = django_filters.ChoiceFilter(label=_("State"), method="by_state", empty_label=None,
                                        choices=[(ANY, _("All")), *StageKind.choices])
    owner = django_filters.ModelChoiceFilter(label=_("owner"), queryset=User.objects.none(), empty_label=_("All"))
    mine = django_filters.BooleanFilter(label=_("Mine only"), method="by_mine", widget=forms.CheckboxInput)
    close_from = inputs.DateFilter(label=_("Expected close from"), field_name="expected_close",
                                           lookup_expr="gte", widget=forms.DateInput(attrs={"type": "date"}))
    close_to = inputs.DateFilter(label=_("Expected close to"), field_name="expected_close",
                                         lookup_expr="lte", widget=forms.DateInput(attrs={"type": "date"}))
    campaign = django_filters.ModelChoiceFilter(label=_("campaign"), queryset=Campaign.objects.all(),
                                                empty_label=_("All"))
    # The deals of one of the user's grouped reminders (its link: "12 deals have stayed too long ...").
    reminder = inputs.IdFilter(label=_("Reminder"), method="by_reminder", widget=forms.HiddenInput)

    def __init__(self, data=None, *args, user, **kwargs):
        data = data.copy() if data is not None else None
        if data is not None and not data.get("state"):
            data["state"] = OPEN  # the list opens on the deals still in play
        super().__init__(data, *args, **kwargs)
        from crm.selectors.pool import assignable_users

        self.user = user
        self.filters["owner"].queryset = assignable_users(user)

    def search(self, queryset, name, value):
        """The deal's name, or its customer found as the customer search finds it (name, pinyin,
        phone or e-mail, through the trigram index), among the customers the user may see: a deal
        the user sees (by sales scope or a share) is never found by the text of a customer the user
        may not see."""
        from crm.models import Customer
        from crm.selectors.search import customers_matching_text

        value = value.strip()
        if not value:
            return queryset
        customers = customers_matching_text(visible(self.user, Customer), value).values("pk")
        return queryset.filter(Q(name__icontains=value) | Q(customer__in=customers))

    def by_state(self, queryset, name, value):
        if value == OPEN:  # the same deals as stage kind "open", by the indexed column
            return queryset.filter(closed_at=None)
        if value in StageKind.values:
            return queryset.filter(stage__kind=value)
        return queryset

    def by_reminder(self, queryset, name, value):
        from crm.selectors.notifications import group_object_ids

        return queryset.filter(pk__any_of=group_object_ids(self.user, value))

    def by_mine(self, queryset, name, value):
        return queryset.filter(owner=self.user) if value else queryset

