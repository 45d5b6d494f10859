from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _


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
