"""Forms of the rep's daily work: logging a follow-up and keeping a customer's contacts."""
import datetime
from typing import ClassVar

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .lib import inputs
from .lib.text import PhoneError, clean_text, display_phone, normalise_phone
from .models import Choice, Contact

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


class DateTimeLocalInput(forms.DateTimeInput):
    """The browser's own date-and-time picker; its value is read in the user's time zone."""

    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format=DATETIME_LOCAL)


def quick_picks(now=None):
    """The one-tap choices for the next follow-up, at 9:00 in the user's time zone:
    [(label, value for a datetime-local input)]."""
    today = timezone.localtime(now or timezone.now()).date()

    def at_nine(days):
        return datetime.datetime.combine(today + datetime.timedelta(days=days), datetime.time(9)).strftime(
            DATETIME_LOCAL)

    return [(_("Tomorrow"), at_nine(1)), (_("In 3 days"), at_nine(3)), (_("Next week"), at_nine(7))]


class FollowUpForm(forms.Form):
    """One follow-up. `customer` limits the contacts; `contacts` may be passed in when the caller has
    already read them (one query less)."""

    kind = forms.ModelChoiceField(
        label=_("Follow-up kind"), queryset=Choice.objects.none(), empty_label=None, widget=forms.RadioSelect)
    summary = forms.CharField(
        label=_("What was discussed"), max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3, "autofocus": True, "data-testid": "followup-summary"}))
    contact = forms.ModelChoiceField(label=_("Contact"), queryset=Contact.objects.none(), required=False,
                                     empty_label=_("(no contact)"))
    at = inputs.DateTimeField(label=_("When"), widget=DateTimeLocalInput())
    outcome = forms.CharField(label=_("Outcome"), max_length=200, required=False)
    next_step = forms.CharField(label=_("Next step"), max_length=200, required=False)
    next_followup_at = inputs.DateTimeField(label=_("Next follow-up"), required=False, widget=DateTimeLocalInput())

    def __init__(self, *args, customer, contacts=None, **kwargs):
        super().__init__(*args, **kwargs)
        kinds = list(Choice.objects.filter(kind=Choice.Kind.FOLLOWUP_KIND, active=True).order_by("order", "id"))
        self.fields["kind"].queryset = Choice.objects.filter(pk__in=[k.pk for k in kinds])
        # Rendering reads the choices from this list instead of querying again.
        self.fields["kind"].choices = [(k.pk, str(k)) for k in kinds]
        self.fields["contact"].queryset = Contact.objects.filter(customer=customer)
        if contacts is None:
            contacts = list(self.fields["contact"].queryset)
        self.contacts = contacts
        self.fields["contact"].choices = [("", self.fields["contact"].empty_label)] + [
            (c.pk, f"{c.name} · {c.title}" if c.title else c.name) for c in contacts]
        if not self.is_bound:
            call = next((k for k in kinds if k.code == "call"), kinds[0] if kinds else None)
            primary = next((c for c in contacts if c.is_primary), None)
            self.initial.setdefault("kind", call.pk if call else None)
            self.initial.setdefault("at", timezone.now().replace(second=0, microsecond=0))
            self.initial.setdefault("contact", primary.pk if primary else None)
        self.quick_picks = quick_picks()

    def clean_summary(self):
        summary = self.cleaned_data["summary"].strip()
        if not summary:
            raise forms.ValidationError(_("Write a few words about the follow-up."))
        return summary

    def clean(self):
        data = super().clean()
        at, following = data.get("at"), data.get("next_followup_at")
        if at and following and following <= at:
            self.add_error("next_followup_at", _("The next follow-up must be later than this one."))
        return data


class ContactForm(forms.ModelForm):
    """A customer's contact. Phones are stored in E.164 and shown the way people write them."""

    class Meta:
        formfield_callback = inputs.formfield_callback  # dates within the calendar we keep
        model = Contact
        fields = ("name", "title", "mobile", "phone", "email", "wechat", "is_primary", "notes")
        widgets: ClassVar[dict] = {
            "notes": forms.Textarea(attrs={"rows": 2}),
            "mobile": forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
            "phone": forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
            "email": forms.EmailInput(attrs={"autocomplete": "off"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].widget.attrs["autofocus"] = True
        if not self.is_bound and self.instance.pk:
            self.initial["mobile"] = display_phone(self.instance.mobile)
            self.initial["phone"] = display_phone(self.instance.phone)

    def clean_name(self):
        name = clean_text(self.cleaned_data["name"])
        if not name:
            raise forms.ValidationError(_("Enter the contact's name."))
        return name

    def _phone(self, field):
        try:
            return normalise_phone(self.cleaned_data[field])
        except PhoneError:
            raise forms.ValidationError(
                _("This is not a valid phone number. Enter a mobile such as 138 1234 5678, "
                  "or a landline with its area code such as 021 6234 5678."), code="invalid_phone") from None

    def clean_mobile(self):
        return self._phone("mobile")

    def clean_phone(self):
        return self._phone("phone")

    def service_fields(self):
        """The cleaned values as keyword arguments for `contact_save`."""
        return {name: self.cleaned_data[name] for name in self.Meta.fields}
