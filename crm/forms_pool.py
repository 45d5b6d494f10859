"""Forms of the customer pool pages and of the pool and picklist settings."""
from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Team

from .lib import inputs
from .models import Choice, Pool, Tier


class IdListField(forms.Field):
    """Several ids posted under one name (checkboxes); each must be a whole number."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        if not value:
            return []
        ids = {inputs.parse_id(v) if isinstance(v, str) else None for v in value}
        if None in ids:  # ASCII digits within bigint only ("²" and "１" are not ids)
            raise forms.ValidationError(_("The selection is not valid."), code="invalid")
        return sorted(ids)


class ClaimForm(forms.Form):
    ids = IdListField(error_messages={"required": _("Select at least one customer.")})


class AssignForm(forms.Form):
    ids = IdListField(error_messages={"required": _("Select at least one customer.")})
    owner = forms.ModelChoiceField(label=_("Assign to"), queryset=None, empty_label=_("Choose a person"))

    def __init__(self, *args, assignees, **kwargs):
        kwargs.setdefault("auto_id", False)  # rendered inside an htmx-swapped part: see crm/pool/detail.html
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = assignees
        self.fields["owner"].widget.attrs.update({"class": "form-select form-select-sm", "aria-label": _("Assign to")})


class ReleaseForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)


class PoolSearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    tier = forms.ChoiceField(label=_("Tier"), required=False)
    before = inputs.IdField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, tiers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tier"].choices = [("", _("All tiers"))] + [(code, tiers.get(code, label))
                                                                 for code, label in Tier.choices]
        self.fields["q"].widget.attrs.update({"placeholder": _("Name, pinyin, phone…"), "type": "search"})

    def values(self):
        data = self.cleaned_data if self.is_valid() else {}
        return {"term": data.get("q") or "", "tier": data.get("tier") or "", "before": data.get("before")}


class ChoiceForm(forms.ModelForm):
    """One picklist entry. The code is set once, when the entry is added."""

    class Meta:
        formfield_callback = inputs.formfield_callback  # dates within the calendar we keep
        model = Choice
        fields = ("code", "label", "label_en", "order", "active")
        help_texts = {  # noqa: RUF012 - Django reads Meta once
            "code": _("A short stable name in lower-case letters, digits and underscores (imports use it). "
                      "It cannot change later."),
            "order": _("Lower numbers come first."),
            "active": _("Untick to retire the entry: records that use it keep it, new records cannot pick it."),
        }

    def __init__(self, *args, kind, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        if self.instance.pk:
            self.fields["code"].disabled = True
        if kind == Choice.Kind.TIER:
            self.fields["active"].disabled = True
            self.fields["active"].help_text = _("Tiers cannot be retired.")

    def service_fields(self):
        return {"kind": self.kind, **self.cleaned_data}


class PoolForm(forms.ModelForm):
    """A pool: its member teams and rules, each explained in plain words."""

    # Not a model field on the form, so the form does not refuse a second default: the service moves it.
    is_default = forms.BooleanField(
        label=_("Default pool"), required=False,
        help_text=_("Customers of teams that belong to no pool go here when released or returned."))
    teams = forms.ModelMultipleChoiceField(
        label=_("Member teams"), queryset=Team.objects.order_by("path"), required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Reps of these teams and of their sub-teams see this pool and may claim from it. "
                    "A team can be in one pool only."))

    class Meta:
        formfield_callback = inputs.formfield_callback  # dates within the calendar we keep
        model = Pool
        fields = (
            "name", "daily_claim_limit", "owner_cap", "cap_counts_deal", "reclaim_block_days",
            "idle_days_a", "idle_days_b", "idle_days_c", "no_deal_days_a", "no_deal_days_b", "no_deal_days_c",
            "exempt_deal", "exempt_locked",
        )
        help_texts = {  # noqa: RUF012 - Django reads Meta once
            "daily_claim_limit": _("How many customers one rep may claim from this pool per day. Empty: no limit."),
            "owner_cap": _("A rep who already owns this many customers cannot claim more. Empty: no cap."),
            "cap_counts_deal": _("Tick to count customers with a won deal towards the cap as well."),
            "reclaim_block_days": _("After giving a customer up (or losing it by rule), the same rep must wait this "
                                    "many days before claiming it again. 0: no wait."),
            "idle_days_a": _("Days. Empty: tier A customers never go back by this rule."),
            "idle_days_b": _("Days. Empty: tier B customers never go back by this rule."),
            "idle_days_c": _("Days. Empty: tier C customers never go back by this rule."),
            "no_deal_days_a": _("Days. Empty: tier A customers never go back by this rule."),
            "no_deal_days_b": _("Days. Empty: tier B customers never go back by this rule."),
            "no_deal_days_c": _("Days. Empty: tier C customers never go back by this rule."),
            "exempt_deal": _("Customers with a won deal stay with their owner, whatever the rules above say."),
            "exempt_locked": _("Customers marked as locked stay with their owner, whatever the rules above say."),
        }
        labels = {  # noqa: RUF012 - Django reads Meta once
            "idle_days_a": _("Tier A"), "idle_days_b": _("Tier B"), "idle_days_c": _("Tier C"),
            "no_deal_days_a": _("Tier A"), "no_deal_days_b": _("Tier B"), "no_deal_days_c": _("Tier C"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["teams"].label_from_instance = lambda team: f"{'— ' * team.depth}{team.name}"
        if self.instance.pk:
            self.fields["teams"].initial = list(self.instance.teams.values_list("pk", flat=True))
            self.fields["is_default"].initial = self.instance.is_default

    def service_fields(self):
        return dict(self.cleaned_data)
