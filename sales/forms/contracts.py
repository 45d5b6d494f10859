"""Forms of the contract pages: the contract itself, its payment plan (a formset of instalments, with
a helper that splits an amount evenly into N monthly instalments), and recording a payment."""
import calendar
import datetime
from decimal import ROUND_DOWN, Decimal

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm.lib import inputs

from ..models import Contract, Payment

PLAN_PREFIX = "plan"


def _date_input(attrs=None):
    # <input type="date"> takes ISO dates only, whatever the language's date format.
    return forms.DateInput(attrs={"type": "date", **(attrs or {})}, format="%Y-%m-%d")
PLAN_MAX_ROWS = 60


class ContractForm(forms.ModelForm):
    class Meta:
        formfield_callback = inputs.formfield_callback  # dates within the calendar we keep
        model = Contract
        fields = ["title", "amount", "signed_on", "starts_on", "ends_on", "terms"]
        widgets = {"signed_on": _date_input(),
                   "starts_on": _date_input(),
                   "ends_on": _date_input(),
                   "terms": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The model's "title" is 职务 (a contact's job title) in Chinese; a contract's is its name.
        self.fields["title"].label = pgettext_lazy("contract", "Title")
        self.fields["amount"].required = False
        self.fields["amount"].help_text = _("Empty: the quote's total, or the deal's amount.")


_SMALL = {"class": "form-control form-control-sm"}


class InstalmentRowForm(forms.Form):
    """One row of the plan, shown in a table (the inputs carry their own classes, no crispy labels)."""

    id = inputs.IdField(required=False, widget=forms.HiddenInput)
    due_on = inputs.DateField(label=_("due on"), required=False,
                             widget=_date_input(_SMALL))
    amount = inputs.DecimalField(label=_("amount"), required=False, max_digits=14, decimal_places=2,
                                min_value=Decimal("0.01"),
                                widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal", **_SMALL}))
    note = forms.CharField(label=_("note"), required=False, max_length=200, widget=forms.TextInput(attrs=_SMALL))

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        if data.get("DELETE"):
            return data
        filled = data.get("due_on") is not None, data.get("amount") is not None
        if any(filled) and not all(filled):
            raise forms.ValidationError(_("Give the instalment both a due date and an amount."))
        return data


class _PlanFormSet(forms.BaseFormSet):
    def get_form_kwargs(self, index):
        # Every row is read, also an unchanged one beyond INITIAL_FORMS: a proposed row left as it was
        # is part of the plan, and an empty row is skipped by rows() anyway.
        return {**super().get_form_kwargs(index), "empty_permitted": False}

    def rows(self):
        """The filled, not deleted rows as dicts for the services (pk set for an existing instalment)."""
        rows = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if data.get("DELETE") or data.get("due_on") is None:
                continue
            rows.append({"pk": data.get("id"), "due_on": data["due_on"], "amount": data["amount"],
                         "note": data.get("note") or ""})
        return rows


def plan_formset(*, data=None, initial=None, can_delete=False, extra=2):
    """The payment plan's rows: `initial` (the current or proposed instalments) and `extra` blank ones."""
    formset_class = forms.formset_factory(InstalmentRowForm, formset=_PlanFormSet, extra=extra,
                                          can_delete=can_delete, max_num=PLAN_MAX_ROWS, validate_max=True)
    return formset_class(data=data, initial=initial, prefix=PLAN_PREFIX)


class SplitForm(forms.Form):
    """Split the amount evenly into `count` monthly instalments, the first due on `first_due`."""

    count = inputs.IntegerField(label=_("number of instalments"), min_value=1, max_value=PLAN_MAX_ROWS, initial=2)
    first_due = inputs.DateField(label=_("first due on"), widget=_date_input())

    prefix = "split"


def add_months(day, months):
    """The same day `months` months later, or the month's last day when it is shorter (31 Jan → 28 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return datetime.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def split_evenly(amount, count, first_due):
    """`count` instalments a month apart from `first_due`, of equal amounts to the fen; the last one
    takes the remainder so that they add up to `amount` exactly."""
    amount = Decimal(amount)
    share = (amount / count).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    rows = [{"due_on": add_months(first_due, n), "amount": share, "note": ""} for n in range(count)]
    rows[-1]["amount"] = amount - share * (count - 1)
    return rows


class PaymentForm(forms.ModelForm):
    class Meta:
        formfield_callback = inputs.formfield_callback  # dates within the calendar we keep
        model = Payment
        fields = ["amount", "received_on", "method", "note"]
        widgets = {"received_on": _date_input()}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["method"].widget.attrs["placeholder"] = _("e.g. bank transfer")
