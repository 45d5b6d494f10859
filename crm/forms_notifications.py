"""Forms of the reminders: the centre's filters, a person's delivery preferences, and an admin's
settings of one rule (on/off and the rule's own parameter fields)."""
from django import forms
from django.utils.translation import gettext_lazy as _

from .notifications import RULES


class NotificationFilterForm(forms.Form):
    SHOW = [("unread", _("Unread")), ("all", _("All"))]

    show = forms.ChoiceField(label=_("Show"), choices=SHOW, required=False)
    rule = forms.ChoiceField(label=_("Reminder"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rule"].choices = [("", _("Every reminder"))] + [(k, r.label) for k, r in RULES.items()]

    def values(self):
        """{unread, rule} for the selector; a bad value is read as no filter."""
        data = self.cleaned_data if self.is_valid() else {}
        return {"unread": data.get("show", "unread") != "all", "rule": data.get("rule") or None}


class PreferencesForm(forms.Form):
    """Two boxes per rule (in the app, by e-mail); the digest has the e-mail box only."""

    def __init__(self, *args, rows, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = []
        for key, label, in_app, email in rows:
            in_app_name, email_name = f"{key}__in_app", f"{key}__email"
            if key in RULES:
                self.fields[in_app_name] = forms.BooleanField(required=False, initial=in_app, label=_("In the app"))
            self.fields[email_name] = forms.BooleanField(required=False, initial=email, label=_("By e-mail"))
            self.rows.append({"key": key, "label": label,
                              "in_app": self[in_app_name] if key in RULES else None, "email": self[email_name]})

    def choices(self):
        """{key: (in_app, email)} for the service."""
        data = self.cleaned_data
        return {row["key"]: (data.get(f"{row['key']}__in_app", False), data[f"{row['key']}__email"])
                for row in self.rows}


class RuleSettingsForm(forms.Form):
    is_active = forms.BooleanField(label=_("Active"), required=False)

    def __init__(self, *args, rule, row, **kwargs):
        params = rule.params(row.params if row else {})
        initial = {"is_active": row.is_active if row else True, **params}
        super().__init__(*args, initial=initial, **kwargs)
        self.rule = rule
        for name, field in rule.param_fields().items():
            self.fields[name] = field

    def service_fields(self):
        data = self.cleaned_data
        return {"key": self.rule.key, "is_active": data["is_active"],
                "params": {name: data[name] for name in self.rule.param_fields()}}
