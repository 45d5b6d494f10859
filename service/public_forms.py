"""The public service request form: who is asking and how to reach them, the kind of request, and two
checks against bots instead of a CAPTCHA (reCAPTCHA is unreliable in China): a field people never see
(`homepage`, hidden by CSS) and a signed timestamp of when the form was shown, refused when it comes
back too soon (a person types; a bot posts at once), too late or altered."""
import time

from django import forms
from django.conf import settings
from django.core import signing
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from crm.lib.text import PhoneError, clean_text, fold_text, is_mainland_mobile, normalise_phone

from .models import TicketType

_TOKEN_SALT = "service.public_form.started"
# A form older than this is refused (then shown again with a fresh timestamp): a day covers a page
# left open overnight, and a timestamp a bot keeps is not good for longer.
TOKEN_MAX_AGE = 24 * 60 * 60
HONEYPOT = "homepage"


def form_token():
    """The signed moment the form is shown, for its `started` field."""
    return signing.dumps(time.time(), salt=_TOKEN_SALT)


def _seconds_since(token):
    """Seconds since `token` was issued; signing.BadSignature for one altered, made up or too old."""
    issued = signing.loads(token, salt=_TOKEN_SALT, max_age=TOKEN_MAX_AGE)
    if not isinstance(issued, (int, float)) or isinstance(issued, bool):
        raise signing.BadSignature
    return time.time() - issued


class ServiceRequestForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=100)
    company = forms.CharField(label=_("Company name"), max_length=200, required=False)
    mobile = forms.CharField(label=_("Mobile"), max_length=40, required=False,
                             widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}))
    email = forms.EmailField(label=_("Email"), required=False,
                             widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    type = forms.ModelChoiceField(label=_("Type of request"), queryset=TicketType.objects.none(), empty_label=None)
    subject = forms.CharField(label=capfirst(_("subject")), max_length=200,
                              help_text=_("In a few words, e.g. “the printer does not start”."))
    description = forms.CharField(label=capfirst(_("description")), max_length=5000,
                                  widget=forms.Textarea(attrs={"rows": 6}),
                                  help_text=_("What happened, since when, and what you have tried."))
    started = forms.CharField(required=False, widget=forms.HiddenInput)
    # The honeypot: rendered inside an element hidden by CSS, never type="hidden" (bots skip those).
    homepage = forms.CharField(label=_("Leave this field empty"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        types = TicketType.objects.filter(is_active=True)
        self.fields["type"].queryset = types
        # Read once: the select would run the query each time its options are rendered.
        self.fields["type"].choices = [(t.pk, str(t)) for t in types]
        self.fields["name"].widget.attrs["autocomplete"] = "name"
        self.fields["company"].widget.attrs["autocomplete"] = "organization"
        self.fields[HONEYPOT].widget.attrs.update({"autocomplete": "off", "tabindex": "-1"})

    @property
    def caught_in_honeypot(self):
        """Whether the field people never see was filled: a bot, answered as if all went well."""
        return self.is_bound and bool(str(self.data.get(HONEYPOT) or "").strip())

    def clean_name(self):
        return clean_text(self.cleaned_data["name"])

    def clean_company(self):
        return clean_text(self.cleaned_data["company"])

    def clean_subject(self):
        return clean_text(self.cleaned_data["subject"])

    def clean_mobile(self):
        """A mainland mobile (1[3-9] and nine digits; +86, 86 and separators allowed) as stored: E.164."""
        value = self.cleaned_data["mobile"]
        if not value:
            return ""
        try:
            mobile = normalise_phone(value)
        except PhoneError:
            mobile = ""
        if not is_mainland_mobile(mobile):
            raise forms.ValidationError(_("Enter a mainland mobile number, e.g. 138 1234 5678."), code="mobile")
        return mobile

    def clean_email(self):
        return fold_text(self.cleaned_data["email"]).lower()

    def clean(self):
        data = super().clean()
        if "mobile" in data and "email" in data and not (data["mobile"] or data["email"]):
            self.add_error("mobile", forms.ValidationError(
                _("Give a mobile number or an e-mail address, so that we can reach you."), code="no_contact"))
        self._check_timing(data.get("started") or "")
        return data

    def _check_timing(self, token):
        try:
            seconds = _seconds_since(token)
        except signing.BadSignature:
            raise forms.ValidationError(
                _("This form has expired. Check what you entered and send it again."), code="expired") from None
        if seconds < settings.SERVICE_FORM_MIN_SECONDS:
            raise forms.ValidationError(
                _("The form was sent too quickly. Check what you entered and send it again."), code="too_fast")

    def submission(self):
        """The cleaned values the service takes."""
        return {name: self.cleaned_data[name]
                for name in ("name", "company", "mobile", "email", "type", "subject", "description")}
