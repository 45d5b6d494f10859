from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Team, User

from .models import Choice, Customer, SavedView
from .text import PhoneError, clean_text, normalise_phone


def phone_field_clean(value):
    """A phone as typed → E.164, or a ValidationError that says what is wrong in the user's language."""
    try:
        return normalise_phone(value)
    except PhoneError:
        raise forms.ValidationError(
            _("“%(value)s” is not a phone number we recognise. Use a mobile (13812345678) or a landline "
              "with its area code (021-62345678)."), code="phone", params={"value": value}) from None


class TagsField(forms.CharField):
    """Tags typed as one line, separated by commas (either width) or spaces."""

    def to_python(self, value):
        value = clean_text(value).replace("，", ",").replace("、", ",")
        return sorted({t.strip() for part in value.split(",") for t in part.split(" ") if t.strip()})

    def prepare_value(self, value):
        if isinstance(value, (list, tuple)):
            return ", ".join(value)
        return value


class CustomerForm(forms.ModelForm):
    tags = TagsField(label=_("Tags"), required=False, help_text=_("Separate tags with commas."))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    contact_name = forms.CharField(label=_("Contact name"), max_length=100, required=False)
    contact_title = forms.CharField(label=_("Contact title"), max_length=100, required=False)
    contact_mobile = forms.CharField(label=_("Contact mobile"), max_length=40, required=False)
    confirm_duplicate = forms.BooleanField(
        label=_("Save anyway: this is not one of the customers above"), required=False)

    class Meta:
        model = Customer
        fields = [
            "kind", "name", "tier", "status", "industry", "source", "tags", "mobile", "phone", "email",
            "website", "province", "city", "district", "address", "owner", "team", "next_followup_at",
            "deal_status", "deal_date", "deal_amount", "locked", "notes",
        ]
        widgets = {
            "next_followup_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "deal_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = User.objects.filter(is_active=True).select_related("team")
        self.fields["owner"].required = False
        self.fields["team"].queryset = Team.objects.all()
        from .selectors.customers import choices_of

        for name, kind in (("industry", Choice.Kind.INDUSTRY), ("source", Choice.Kind.SOURCE)):
            self.fields[name].queryset = choices_of(kind, include=getattr(self.instance, name))
        tier_labels = {c.code: str(c) for c in Choice.objects.filter(kind=Choice.Kind.TIER)}
        self.fields["tier"].choices = [(code, tier_labels.get(code, label))
                                       for code, label in self.fields["tier"].choices]
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version
            for name in ("contact_name", "contact_title", "contact_mobile"):
                del self.fields[name]
        for name in ("mobile", "phone", "name", "email"):
            self.fields[name].widget.attrs["data-duplicate-check"] = "1"
        self.duplicates = []

    def clean_name(self):
        name = clean_text(self.cleaned_data["name"])
        if not name:
            raise forms.ValidationError(_("Enter the customer's name."))
        return name

    def clean_mobile(self):
        return phone_field_clean(self.cleaned_data.get("mobile"))

    def clean_phone(self):
        return phone_field_clean(self.cleaned_data.get("phone"))

    def clean_contact_mobile(self):
        return phone_field_clean(self.cleaned_data.get("contact_mobile"))

    def clean_email(self):
        return (self.cleaned_data.get("email") or "").strip().lower()

    def customer_fields(self):
        """cleaned_data without the form-only fields, ready for the services."""
        data = dict(self.cleaned_data)
        for name in ("version", "confirm_duplicate", "contact_name", "contact_title", "contact_mobile"):
            data.pop(name, None)
        return data

    def contact(self):
        """The primary contact typed on the create form, or None."""
        name = self.cleaned_data.get("contact_name")
        if not name:
            return None
        return {"name": name, "title": self.cleaned_data.get("contact_title", ""),
                "mobile": self.cleaned_data.get("contact_mobile", "")}


class ShareForm(forms.Form):
    user = forms.ModelChoiceField(label=_("User"), queryset=User.objects.none(), required=False)
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.none(), required=False)
    can_edit = forms.BooleanField(label=_("May edit"), required=False)
    expires_at = forms.DateField(
        label=_("Until (optional)"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = User.objects.filter(is_active=True).order_by("username")
        self.fields["team"].queryset = Team.objects.all()

    def clean(self):
        data = super().clean()
        if bool(data.get("user")) == bool(data.get("team")):
            raise forms.ValidationError(_("Choose either a user or a team to share with."))
        return data


class BulkForm(forms.Form):
    """A bulk action on the customers ticked in the list. The ids are checked by the services."""

    ACTIONS = [
        ("assign", _("Assign to")),
        ("tag", _("Add tag")),
        ("release", _("Release to the pool")),
        ("merge", _("Merge")),
    ]
    action = forms.ChoiceField(label=_("Action"), choices=ACTIONS)
    ids = forms.TypedMultipleChoiceField(coerce=int, choices=[], required=True,
                                         error_messages={"required": _("Tick at least one customer.")})
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=User.objects.filter(is_active=True), required=False)
    tag = forms.CharField(label=_("Tag"), max_length=30, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Any integers: whether each is the user's to change is the services' question.
        self.fields["ids"].valid_value = lambda value: str(value).isdigit()

    def clean(self):
        data = super().clean()
        action = data.get("action")
        if action == "assign" and not data.get("owner"):
            self.add_error("owner", _("Choose the new owner."))
        if action == "tag":
            data["tag"] = clean_text(data.get("tag"))
            if not data["tag"]:
                self.add_error("tag", _("Type the tag to add."))
        if action == "merge" and len(data.get("ids") or []) < 2:
            self.add_error("ids", _("Tick two or more customers to merge."))
        return data


class SavedViewForm(forms.ModelForm):
    class Meta:
        model = SavedView
        fields = ["name"]
