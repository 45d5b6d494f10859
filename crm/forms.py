from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.access import user_access
from accounts.capabilities import Capability, Module
from accounts.models import Team, User

from .lib import inputs
from .lib.text import PhoneError, clean_text, normalise_phone
from .models import Choice, Customer, SavedView


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

    default_validators = [inputs.reject_unstorable]  # CharField's own NUL check reads the list's repr

    def to_python(self, value):
        value = clean_text(value).replace("，", ",").replace("、", ",")
        return sorted({t.strip() for part in value.split(",") for t in part.split(" ") if t.strip()})

    def prepare_value(self, value):
        if isinstance(value, (list, tuple)):
            return ", ".join(value)
        return value


class CustomerForm(forms.ModelForm):
    tags = TagsField(label=_("Tags"), required=False, help_text=_("Separate tags with commas."))
    version = inputs.IntegerField(widget=forms.HiddenInput, required=False)
    contact_name = forms.CharField(label=_("Contact name"), max_length=100, required=False)
    contact_title = forms.CharField(label=_("Contact title"), max_length=100, required=False)
    contact_mobile = forms.CharField(label=_("Contact mobile"), max_length=40, required=False)
    confirm_duplicate = forms.BooleanField(
        label=_("Save anyway: this is not one of the customers above"), required=False)

    class Meta:
        formfield_callback = inputs.formfield_callback  # dates within the calendar we keep
        model = Customer
        # The team follows the owner and the deal fields follow the deals: neither is typed in. The
        # owner and the lock are offered only to those who may change them (see _limit_to).
        fields = [
            "kind", "name", "tier", "status", "industry", "source", "tags", "mobile", "phone", "email",
            "website", "province", "city", "district", "address", "owner", "next_followup_at", "locked", "notes",
        ]
        widgets = {
            "next_followup_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self._limit_to(user)
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

    def _limit_to(self, user):
        """Only the fields `user` may change on this customer (the services refuse the rest anyway):
        the owner with the assign capability (among their assignable users; on an existing customer,
        one within their scope), the lock with the lock capability."""
        from accounts.grants import assignable, can, lockable

        from .selectors.pool import assignable_users

        access = user_access(user)
        existing = self.instance.pk is not None
        if access.has(Capability.ASSIGN_FROM_POOL) and (not existing or can(assignable, user, self.instance)):
            owners = Q(pk__any_of=assignable_users(user).order_by().values("pk"))
            if self.instance.owner_id:
                owners |= Q(pk=self.instance.owner_id)
            self.fields["owner"].queryset = User.objects.filter(owners).select_related("team").order_by(
                "team__path", "username")
            # A new customer without an owner is the creator's; an owned one keeps an owner.
            self.fields["owner"].required = bool(self.instance.owner_id)
            self.fields["owner"].help_text = _("The customer moves to the owner's team.")
        else:
            del self.fields["owner"]
        if not (access.has(Capability.LOCK_CUSTOMERS) and (not existing or can(lockable, user, self.instance))):
            del self.fields["locked"]

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
    expires_at = inputs.DateField(
        label=_("Until (optional)"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, user, can_grant_edit=True, **kwargs):
        """`user` is the one sharing: teams within their scope only, and "may edit" only when
        `can_grant_edit` (they may change the record themselves). The service checks both again."""
        super().__init__(*args, **kwargs)
        from accounts.grants import teams_within_scope

        self.fields["user"].queryset = User.objects.filter(is_active=True).order_by("username")
        self.fields["team"].queryset = teams_within_scope(user, Module.CUSTOMERS)
        if not can_grant_edit:
            del self.fields["can_edit"]

    def clean(self):
        data = super().clean()
        if bool(data.get("user")) == bool(data.get("team")):
            raise forms.ValidationError(_("Choose either a user or a team to share with."))
        return data


class BulkForm(forms.Form):
    """A bulk action on the customers ticked in the list. The ids are checked by the services."""

    ACTIONS = [
        ("claim", _("Claim from the pool")),
        ("assign", _("Assign to")),
        ("tag", _("Add tag")),
        ("release", _("Release to the pool")),
        ("merge", _("Merge")),
    ]
    action = forms.ChoiceField(label=_("Action"), choices=ACTIONS)
    ids = forms.TypedMultipleChoiceField(coerce=int, choices=[], required=True,
                                         error_messages={"required": _("Tick at least one customer.")})
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=User.objects.none(), required=False)
    tag = forms.CharField(label=_("Tag"), max_length=30, required=False)

    def __init__(self, *args, user, **kwargs):
        """Only the actions `user` may take: assigning (to their assignable users) with the assign
        capability, merging with the merge capability. The services check every id again."""
        super().__init__(*args, **kwargs)
        from .selectors.pool import assignable_users

        access = user_access(user)
        allowed = {"assign": access.has(Capability.ASSIGN_FROM_POOL), "merge": access.has(Capability.MERGE_CUSTOMERS)}
        self.fields["action"].choices = [(v, label) for v, label in self.ACTIONS if allowed.get(v, True)]
        if allowed["assign"]:
            self.fields["owner"].queryset = assignable_users(user)
        # Any integers: whether each is the user's to change is the services' question.
        self.fields["ids"].valid_value = lambda value: inputs.parse_id(str(value)) is not None

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
        formfield_callback = inputs.formfield_callback  # dates within the calendar we keep
        model = SavedView
        fields = ["name"]
