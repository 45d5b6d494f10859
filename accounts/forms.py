from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.forms.models import ModelChoiceIterator
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from crm.lib import inputs

from .access import scopes_within, user_access
from .capabilities import Capability, Module
from .models import Role, Team, User


class LoginForm(AuthenticationForm):
    """Sign in with the username or the mobile number."""

    username = forms.CharField(
        label=_("Username or mobile"), max_length=150,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    error_messages = {
        "invalid_login": _("The username/mobile or password is not correct."),
        "inactive": _("This account has been deactivated."),
    }


class ProfileForm(forms.Form):
    preferred_language = forms.ChoiceField(label=_("Language"))
    time_zone = forms.ChoiceField(label=_("Time zone"))

    TIME_ZONES = ["Asia/Shanghai", "Asia/Hong_Kong", "Asia/Taipei", "Asia/Singapore", "Asia/Tokyo",
                  "Europe/London", "Europe/Berlin", "America/New_York", "America/Los_Angeles", "UTC"]

    def __init__(self, *args, **kwargs):
        from django.conf import settings

        super().__init__(*args, **kwargs)
        self.fields["preferred_language"].choices = settings.LANGUAGES
        self.fields["time_zone"].choices = [(tz, tz) for tz in self.TIME_ZONES]


# The settings area -----------------------------------------------------------------------------

class TeamChoiceField(forms.ModelChoiceField):
    """A team select that shows the tree: each team indented under its parent."""

    def label_from_instance(self, team):
        return f"{'— ' * team.depth}{team.name}"


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        return f"{user.name} ({user.username})" if user.name != user.username else user.username


def _time_zone_choices(current=None):
    zones = list(ProfileForm.TIME_ZONES)
    if current and current not in zones:
        zones.append(current)
    return [(tz, tz) for tz in zones]


class _OfferedChoices(ModelChoiceIterator):
    """The choices a model choice field shows: `offered`, a part of what the field accepts. What a
    user may not choose is not shown; if posted anyway, the service refuses it (403)."""

    def __init__(self, field, offered):
        super().__init__(field)
        self.queryset = offered


def offer_only(field, allowed):
    """Show only the `allowed` values of a plain choice field (it still accepts all of them)."""
    allowed = {str(value) for value in allowed}
    field.widget.choices = [(value, label) for value, label in field.choices if str(value) in allowed]


class _UserFieldsMixin:
    """What the create and edit forms share: a team tree select, active managers, role checkboxes
    (only the roles the editor may grant) and the time zone list."""

    def _set_up_user_fields(self, editor):
        from .selectors import roles_grantable_by

        self.fields["team"].queryset = Team.objects.all()
        managers = User.objects.filter(is_active=True).order_by("username")
        if self.instance.pk:
            managers = managers.exclude(pk=self.instance.pk)
        self.fields["manager"].queryset = managers
        roles = self.fields["roles"]
        roles.queryset = Role.objects.all()
        if editor is not None:
            roles.widget.choices = _OfferedChoices(roles, roles_grantable_by(editor))
        roles.help_text = _("Data scopes of several roles add up. Only roles within your own rights are offered.")
        self.fields["time_zone"] = forms.ChoiceField(
            label=_("Time zone"), choices=_time_zone_choices(self.instance.time_zone))


class _UserMeta:
    model = User
    fields = ["display_name", "mobile", "email", "team", "manager", "roles", "preferred_language", "time_zone"]
    field_classes = {"team": TeamChoiceField, "manager": UserChoiceField}
    widgets = {"roles": forms.CheckboxSelectMultiple}
    labels = {"preferred_language": _("Language")}


class UserCreateForm(_UserFieldsMixin, forms.ModelForm):
    """A new user and the temporary password they must change at first sign-in."""

    password1 = forms.CharField(
        label=_("Temporary password"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("The user must choose their own password when they first sign in."),
    )
    password2 = forms.CharField(
        label=_("Temporary password again"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    class Meta(_UserMeta):
        formfield_callback = inputs.formfield_callback  # dates within the calendar we keep
        fields = ["username", *_UserMeta.fields]
        error_messages = {"username": {"unique": _("This username is taken.")}}  # noqa: RUF012 - read once

    def __init__(self, *args, editor=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._set_up_user_fields(editor)

    def clean_password2(self):
        first, second = self.cleaned_data.get("password1"), self.cleaned_data.get("password2")
        if first and second and first != second:
            raise forms.ValidationError(_("The two passwords do not match."))
        return second

    def _post_clean(self):
        super()._post_clean()
        # Validate the password against the user being created (similarity to the username...).
        password = self.cleaned_data.get("password2")
        if password:
            try:
                password_validation.validate_password(password, self.instance)
            except forms.ValidationError as error:
                self.add_error("password2", error)

    def service_fields(self):
        """cleaned_data as `user_create` takes it."""
        data = dict(self.cleaned_data)
        data["password"] = data.pop("password1")
        data.pop("password2")
        return data


class UserEditForm(_UserFieldsMixin, forms.ModelForm):
    class Meta(_UserMeta):
        formfield_callback = inputs.formfield_callback  # dates within the calendar we keep
        fields = [*_UserMeta.fields, "is_active"]

    def __init__(self, *args, editor=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.editor = editor
        self._set_up_user_fields(editor)
        self.fields["is_active"].label = _("Active")
        self.fields["is_active"].help_text = _("A deactivated user can no longer sign in; their records stay.")

    def clean_is_active(self):
        is_active = self.cleaned_data["is_active"]
        if not is_active and self.editor is not None and self.editor.pk == self.instance.pk:
            raise forms.ValidationError(_("You cannot deactivate your own account."))
        return is_active


class UserPasswordResetForm(forms.Form):
    """An admin's temporary password for a user, checked with the password validators."""

    password1 = forms.CharField(
        label=_("Temporary password"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("Temporary password again"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean(self):
        data = super().clean()
        first, second = data.get("password1"), data.get("password2")
        if first and second:
            if first != second:
                self.add_error("password2", _("The two passwords do not match."))
            else:
                try:
                    password_validation.validate_password(second, self.user)
                except forms.ValidationError as error:
                    self.add_error("password1", error)
        return data


class TeamForm(forms.Form):
    """Name, place in the tree and lead of a team. Not a ModelForm: moving a team is the
    service's job (it rewrites the subtree's paths), so the form must not touch the instance."""

    name = forms.CharField(label=_("Name"), max_length=100)
    parent = TeamChoiceField(
        label=_("Parent team"), queryset=None, required=False, empty_label=_("(none: a top-level team)"))
    lead = UserChoiceField(label=_("Team lead"), queryset=None, required=False)

    def __init__(self, *args, team=None, **kwargs):
        if team is not None:
            kwargs.setdefault("initial", {"name": team.name, "parent": team.parent_id, "lead": team.lead_id})
        super().__init__(*args, **kwargs)
        self.team = team
        self.fields["parent"].queryset = Team.objects.all()
        self.fields["lead"].queryset = User.objects.filter(is_active=True).order_by("username")

    def clean(self):
        data = super().clean()
        name, parent = data.get("name"), data.get("parent")
        if name:
            same = Team.objects.filter(name=name, parent=parent)
            if self.team is not None:
                same = same.exclude(pk=self.team.pk)
            if same.exists():
                self.add_error("name", _("There is already a team of this name in the same place."))
        return data


class RoleForm(forms.ModelForm):
    capabilities = forms.MultipleChoiceField(
        label=_("Capabilities"), choices=Capability.choices, required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        formfield_callback = inputs.formfield_callback  # dates within the calendar we keep
        model = Role
        fields = ["name", "description", "capabilities", "customers_scope", "sales_scope",
                  "service_scope", "marketing_scope", "landing_page", "priority"]

    def __init__(self, *args, editor=None, **kwargs):
        super().__init__(*args, **kwargs)
        if editor is not None:  # offer only the capabilities and scopes the editor holds
            access = user_access(editor)
            offer_only(self.fields["capabilities"], [c for c in Capability.values if access.has(c)])
            for module in Module.values:
                offer_only(self.fields[f"{module}_scope"], scopes_within(access, module))


class AccessCheckForm(forms.Form):
    """Which user, and which record: its kind (those apps registered in accounts.access_check; a choice
    only when there are several) and an id or part of its name."""

    user = UserChoiceField(label=_("User"), queryset=None)
    kind = forms.ChoiceField(label=_("Kind of record"))
    record = forms.CharField(label=_("Record"), max_length=200, widget=forms.TextInput(attrs={"type": "search"}))

    def __init__(self, *args, **kwargs):
        from .access_check import checkables

        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = User.objects.order_by("username")
        kinds = checkables()
        self.fields["kind"].choices = [(kind.key, capfirst(kind.label)) for kind in kinds]
        if len(kinds) == 1:  # nothing to choose: the record field says which kind it takes
            self.fields["kind"].widget = forms.HiddenInput()
            self.fields["kind"].initial = kinds[0].key
            self.fields["record"].label = capfirst(kinds[0].label)
            self.fields["record"].widget.attrs["placeholder"] = kinds[0].placeholder
        else:
            self.fields["record"].widget.attrs["placeholder"] = _("Id or part of the name")


class AuditLogForm(forms.Form):
    """The audit log's filters: which kind of record, which kind of event, and older than when."""

    record = forms.ChoiceField(label=_("Record"), required=False)
    kind = forms.ChoiceField(label=_("Event"), required=False)
    before = inputs.DateTimeField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        from accounts.history import KINDS, tracked_models

        super().__init__(*args, **kwargs)
        self.models = {m._meta.label_lower: m for m in tracked_models()}
        self.fields["record"].choices = [("", _("Every record")),
                                         *((label, m._meta.verbose_name) for label, m in self.models.items())]
        self.fields["kind"].choices = [("", _("Every event")), *KINDS.items()]
