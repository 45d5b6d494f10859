"""Forms of the targets page: the grid of amount and count inputs, one pair per team or rep in the
manager's scope, for one month or quarter."""
import re

from django import forms
from django.utils.translation import gettext_lazy as _

from crm.lib import inputs

from ..models import TargetPeriod

_SUBJECT_KEY = re.compile(r"^(team|user)-(\d+)-(amount|count)$")


class TargetGridForm(forms.Form):
    """Fields `<team|user>-<id>-amount` and `-count` for the given rows only. A post naming any other
    team or rep is refused as a whole: targets are set only within one's scope."""

    period = forms.ChoiceField(choices=TargetPeriod.choices, widget=forms.HiddenInput)
    start = inputs.DateField(widget=forms.HiddenInput)

    def __init__(self, *args, rows, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = rows
        amount_label, count_label = _("target amount"), _("target deals")
        for row in rows:
            target = row.target
            self.fields[f"{row.prefix}-amount"] = inputs.DecimalField(
                label=_("target amount"), required=False, min_value=0, max_digits=14, decimal_places=2,
                initial=target.amount if target else None,
                widget=forms.NumberInput(attrs={"class": "form-control form-control-sm", "step": "0.01",
                                                "inputmode": "decimal",
                                                "aria-label": f"{row.subject} · {amount_label}"}))
            self.fields[f"{row.prefix}-count"] = inputs.IntegerField(
                label=_("target deals"), required=False, min_value=0, initial=target.count if target else None,
                widget=forms.NumberInput(attrs={"class": "form-control form-control-sm", "inputmode": "numeric",
                                                "aria-label": f"{row.subject} · {count_label}"}))

    def clean(self):
        data = super().clean()
        strangers = [key for key in self.data if _SUBJECT_KEY.match(key) and key not in self.fields]
        if strangers:
            raise forms.ValidationError(_("You may set targets only for the teams and reps listed here."),
                                        code="out_of_scope")
        return data

    def bound_rows(self):
        """(row, amount field, count field) for the template."""
        return [(row, self[f"{row.prefix}-amount"], self[f"{row.prefix}-count"]) for row in self.rows]

    def changes(self):
        """The rows whose inputs differ from their saved target, as dicts for targets_save: amount and
        count (both None: remove the target)."""
        changes = []
        for row in self.rows:
            amount = self.cleaned_data.get(f"{row.prefix}-amount")
            count = self.cleaned_data.get(f"{row.prefix}-count")
            target = row.target
            if amount is None and count is None:
                if target is not None:
                    changes.append({row.kind: row.subject, "amount": None, "count": None})
                continue
            amount, count = amount or 0, count or 0
            if target is None or (target.amount, target.count) != (amount, count):
                changes.append({row.kind: row.subject, "amount": amount, "count": count})
        return changes
