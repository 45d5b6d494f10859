"""Forms of the service settings: a working calendar with its weekly windows typed as admins say them
("09:00-12:00, 13:30-18:00"), the holidays and make-up days of a year pasted as lines, and the
deadline checker."""
import datetime
import re
import zoneinfo

from django import forms
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.lib import inputs

from .models import (
    AfterSalesRule,
    AssignmentRule,
    CalendarDay,
    Channel,
    Priority,
    SlaPolicy,
    TargetUnit,
    TicketType,
    Weekday,
)

_DASHES = re.compile(r"\s*[-–—~～至到]\s*")
_SEPARATORS = re.compile(r"[,，;；、\s]+")
_SPAN = re.compile(r"(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})")
_HOLIDAY_WORDS = {"放假", "休", "休息", "假", "节假日", "holiday", "off"}
_WORKDAY_WORDS = {"上班", "班", "调休上班", "补班", "workday", "work"}


def parse_windows(text):
    """[(start, end)] of "09:00-12:00, 13:30-18:00" (full-width punctuation and other dashes too), in
    order; ValidationError for a span that is not HH:MM-HH:MM, ends before it starts, or overlaps."""
    text = (text or "").replace("：", ":").strip()
    if not text:
        return []
    spans = []
    for part in _SEPARATORS.split(_DASHES.sub("-", text)):
        if not part:
            continue
        found = _SPAN.fullmatch(part)
        try:
            start, end = (datetime.time(int(found[1]), int(found[2])), datetime.time(int(found[3]), int(found[4])))
        except (TypeError, ValueError):
            raise forms.ValidationError(_("“%(part)s” is not a time span like 09:00-12:00.") % {"part": part}) from None
        if end <= start:
            raise forms.ValidationError(_("“%(part)s” ends before it starts.") % {"part": part})
        spans.append((start, end))
    spans.sort()
    for (_start, end), (next_start, _end) in zip(spans, spans[1:]):
        if next_start < end:
            raise forms.ValidationError(_("The working hours of a day overlap."))
    return spans


def shown_windows(spans):
    return ", ".join(f"{start:%H:%M}-{end:%H:%M}" for start, end in spans)


class CalendarForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("name"), max_length=60)
    time_zone = forms.ChoiceField(label=gettext_lazy("time zone"), initial="Asia/Shanghai")
    is_default = forms.BooleanField(label=gettext_lazy("default calendar"), required=False,
                                    help_text=gettext_lazy("Used wherever no other calendar is named."))

    def __init__(self, *args, calendar=None, **kwargs):
        if calendar is not None:
            spans = {}
            for window in calendar.windows.all():
                spans.setdefault(window.weekday, []).append((window.start, window.end))
            kwargs.setdefault("initial", {
                "name": calendar.name, "time_zone": calendar.time_zone, "is_default": calendar.is_default,
                **{f"day_{weekday}": shown_windows(spans.get(weekday, [])) for weekday in Weekday.values}})
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [(zone, zone) for zone in sorted(zoneinfo.available_timezones())]
        for weekday, label in Weekday.choices:
            self.fields[f"day_{weekday}"] = forms.CharField(
                label=label, required=False, max_length=200,
                widget=forms.TextInput())
        if calendar is not None and calendar.is_default:
            self.fields["is_default"].disabled = True
            self.fields["is_default"].help_text = _("Make another calendar the default to change this.")

    def clean(self):
        cleaned = super().clean()
        windows = {}
        for weekday in Weekday.values:
            try:
                spans = parse_windows(cleaned.get(f"day_{weekday}"))
            except forms.ValidationError as error:
                self.add_error(f"day_{weekday}", error)
                continue
            if spans:
                windows[weekday] = spans
        if not self.errors and not windows:
            raise forms.ValidationError(_("Give the working hours of at least one day of the week."))
        cleaned["windows"] = windows
        return cleaned

    def service_fields(self):
        data = self.cleaned_data
        return {"name": data["name"].strip(), "time_zone": data["time_zone"], "is_default": data["is_default"],
                "windows": data["windows"]}


class DaysForm(forms.Form):
    """Holidays and make-up working days, a line each: "2027-10-01 放假 国庆节", a range
    "2027-10-01~2027-10-07 放假 国庆节", or "2027-09-26 上班 国庆节" for a make-up working day."""

    lines = forms.CharField(
        label=gettext_lazy("Holidays and make-up working days"), widget=forms.Textarea(attrs={"rows": 8}),
        help_text=gettext_lazy("One line each: a date or a range of dates, 放假 (holiday) or 上班 (make-up "
                               "working day), and a name, e.g. “2027-10-01~2027-10-07 放假 国庆节”."))

    def clean_lines(self):
        days, problems = [], []
        for number, line in enumerate(self.cleaned_data["lines"].splitlines(), start=1):
            if not line.strip():
                continue
            try:
                days.extend(_parse_day_line(line))
            except ValueError as error:
                problems.append(_("Line %(n)d: %(why)s") % {"n": number, "why": error})
        if problems:
            raise forms.ValidationError(problems)
        if not days:
            raise forms.ValidationError(_("Enter at least one date."))
        return days


def _parse_day_line(line):
    parts = line.replace("～", "~").replace("至", "~").split()
    if len(parts) < 2:
        raise ValueError(_("give a date, then 放假 or 上班."))
    dates = re.split(r"~|(?<=\d)-(?=\d{4}-)|—|–", parts[0])
    try:
        first = datetime.date.fromisoformat(dates[0].replace("/", "-").replace(".", "-"))
        last = datetime.date.fromisoformat(dates[-1].replace("/", "-").replace(".", "-"))
    except ValueError:
        raise ValueError(_("“%(text)s” is not a date like 2027-10-01.") % {"text": parts[0]}) from None
    if not (inputs.in_date_range(first) and inputs.in_date_range(last)):
        raise ValueError(inputs.date_range_message())
    if last < first or (last - first).days > 31:
        raise ValueError(_("a range runs forwards and is at most a month long."))
    word = parts[1].lower()
    if word in _HOLIDAY_WORDS:
        kind = CalendarDay.Kind.HOLIDAY
    elif word in _WORKDAY_WORDS:
        kind = CalendarDay.Kind.WORKDAY
    else:
        raise ValueError(_("“%(word)s” is neither 放假 nor 上班.") % {"word": parts[1]})
    name = " ".join(parts[2:])
    return [(first + datetime.timedelta(days=n), kind, name) for n in range((last - first).days + 1)]


class DeadlineCheckForm(forms.Form):
    """When a clock started at `start` reaches its target on the calendar (the settings' checker)."""

    start = inputs.DateTimeField(label=gettext_lazy("Start"),
                                 widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    amount = forms.DecimalField(label=gettext_lazy("Target"), min_value=0, max_value=10000, decimal_places=2)
    unit = forms.ChoiceField(label=gettext_lazy("Unit"), choices=[("hours", gettext_lazy("working hours")),
                                                                   ("workdays", gettext_lazy("working days"))])

    def clean(self):
        cleaned = super().clean()
        amount = cleaned.get("amount")
        if amount is not None and cleaned.get("unit") == "workdays" and amount != int(amount):
            self.add_error("amount", _("Working days are whole days."))
        return cleaned


class SlaPolicyForm(forms.ModelForm):
    """An SLA policy: its conditions as boxes to tick (none ticked: any), its two targets with units."""

    tiers = forms.MultipleChoiceField(label=gettext_lazy("customer tiers"), required=False,
                                      widget=forms.CheckboxSelectMultiple)
    priorities = forms.MultipleChoiceField(label=gettext_lazy("priorities"), required=False,
                                           choices=Priority.choices, widget=forms.CheckboxSelectMultiple)
    channels = forms.MultipleChoiceField(label=gettext_lazy("channels"), required=False,
                                         choices=Channel.choices, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = SlaPolicy
        fields = ["name", "is_active", "calendar", "tiers", "priorities", "channels", "types", "first_response",
                  "first_response_unit", "resolution", "resolution_unit", "warn_remaining_percent"]
        widgets = {"types": forms.CheckboxSelectMultiple}

    def __init__(self, *args, **kwargs):
        from crm.models import Tier

        super().__init__(*args, **kwargs)
        self.fields["tiers"].choices = Tier.choices
        self.fields["types"].queryset = TicketType.objects.filter(is_active=True) | TicketType.objects.filter(
            pk__in=self.instance.types.values("pk") if self.instance.pk else [])
        self.fields["calendar"].empty_label = _("The default calendar")
        for name in ("tiers", "priorities", "channels", "types"):
            self.fields[name].help_text = _("None ticked: any.")

    def clean(self):
        cleaned = super().clean()
        for target in ("first_response", "resolution"):
            amount = cleaned.get(target)
            if cleaned.get(f"{target}_unit") == TargetUnit.WORKING_DAYS and amount is not None and amount % 1:
                self.add_error(target, _("Working days are whole days."))
        return cleaned

    def service_fields(self):
        data = dict(self.cleaned_data)
        return {"types": list(data.pop("types")), **data}


class TicketTypeForm(forms.ModelForm):
    class Meta:
        model = TicketType
        fields = ["name", "name_en", "is_complaint", "order", "is_active"]

    def service_fields(self):
        return dict(self.cleaned_data)


class AfterSalesRuleForm(forms.ModelForm):
    class Meta:
        model = AfterSalesRule
        fields = ["is_active", "type", "priority", "team", "checklist"]
        widgets = {"checklist": forms.Textarea(attrs={"rows": 5})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current = self.instance.type_id if self.instance.pk else None
        self.fields["type"].queryset = TicketType.objects.filter(Q(is_active=True) | Q(pk=current))
        self.fields["type"].empty_label = None

    def service_fields(self):
        return dict(self.cleaned_data)


class AssignmentRuleForm(forms.ModelForm):
    """An assignment rule: its conditions as boxes to tick and provinces typed (none: any), the team and
    how its agents get the tickets."""

    tiers = forms.MultipleChoiceField(label=gettext_lazy("customer tiers"), required=False,
                                      widget=forms.CheckboxSelectMultiple)
    channels = forms.MultipleChoiceField(label=gettext_lazy("channels"), required=False,
                                         choices=Channel.choices, widget=forms.CheckboxSelectMultiple)
    provinces = forms.CharField(
        label=gettext_lazy("customer provinces"), required=False, max_length=500,
        help_text=gettext_lazy("Separated by commas, written exactly as on the customer, e.g. “上海, 江苏”. "
                               "Empty: any."))

    class Meta:
        model = AssignmentRule
        fields = ["name", "is_active", "tiers", "channels", "types", "provinces", "team", "method"]
        widgets = {"types": forms.CheckboxSelectMultiple, "method": forms.RadioSelect}

    def __init__(self, *args, **kwargs):
        from crm.models import Tier

        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["provinces"] = ", ".join(self.instance.provinces)
        self.fields["tiers"].choices = Tier.choices
        self.fields["types"].queryset = TicketType.objects.filter(is_active=True) | TicketType.objects.filter(
            pk__in=self.instance.types.values("pk") if self.instance.pk else [])
        for name in ("tiers", "channels", "types"):
            self.fields[name].help_text = _("None ticked: any.")

    def clean_provinces(self):
        found = []
        for part in _SEPARATORS.split(self.cleaned_data["provinces"]):
            if part and part not in found:
                if len(part) > 30:
                    raise forms.ValidationError(_("“%(part)s” is longer than a province.") % {"part": part})
                found.append(part)
        return found

    def service_fields(self):
        data = dict(self.cleaned_data)
        return {"types": list(data.pop("types")), **data}
