"""The merge chooser: which customer survives, and whose value each field keeps."""
from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .lib import inputs
from .lib.text import display_phone
from .models import Customer
from .services.customers import EDITABLE_FIELDS
from .services.merge import MERGE_CONCAT, MERGE_UNION

PHONE_FIELDS = ("phone", "mobile")


def display_value(customer, name, tier_labels=None):
    """How one field's value reads in the chooser ("" when empty)."""
    field = Customer._meta.get_field(name)
    value = getattr(customer, name)
    if value in (None, "", []):
        return ""
    if name == "tier" and tier_labels:
        return tier_labels.get(value, customer.get_tier_display())
    if field.choices:
        return getattr(customer, f"get_{name}_display")()
    if name in PHONE_FIELDS:
        return display_phone(value)
    if name == "tags":
        return ", ".join(value)
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if hasattr(value, "tzinfo"):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


class MergeForm(forms.Form):
    """`customers` are the ones to merge, already checked through the access layer. The first is
    the proposed survivor; each field starts on the survivor's value, or on the first customer that
    has one when the survivor's is empty. Fields whose value is the same everywhere are not asked."""

    survivor = forms.TypedChoiceField(label=gettext_lazy("Keep this record"), coerce=int,
                                      widget=forms.RadioSelect(attrs={"class": "form-check-input"}))

    def __init__(self, customers, *args, tier_labels=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.customers = list(customers)
        choices = [(c.pk, c.name) for c in self.customers]
        self.fields["survivor"].choices = choices
        self.fields["survivor"].initial = self.customers[0].pk
        self.displays = {c.pk: {n: display_value(c, n, tier_labels) for n in EDITABLE_FIELDS} for c in self.customers}
        self.asked = [n for n in EDITABLE_FIELDS if len({self._raw(c, n) for c in self.customers}) > 1]
        for name in self.asked:
            extra = {"tags": [(MERGE_UNION, _("All tags together"))],
                     "notes": [(MERGE_CONCAT, _("All notes, one after another"))]}.get(name, [])
            self.fields[f"value_{name}"] = forms.ChoiceField(
                label=Customer._meta.get_field(name).verbose_name, choices=[*extra, *choices],
                initial=self._initial_choice(name, extra), widget=forms.RadioSelect(attrs={"class": "form-check-input"}))
        for customer in self.customers:
            self.fields[f"version_{customer.pk}"] = inputs.IntegerField(widget=forms.HiddenInput, initial=customer.version)

    @staticmethod
    def _raw(customer, name):
        value = getattr(customer, Customer._meta.get_field(name).attname)
        return tuple(value) if isinstance(value, list) else value

    def _initial_choice(self, name, extra):
        if extra:
            return extra[0][0]
        for customer in self.customers:
            if self.displays[customer.pk][name]:
                return customer.pk
        return self.customers[0].pk

    def survivor_options(self):
        """[(radio, customer)] of the "keep this record" choice."""
        by_value = {str(c.pk): c for c in self.customers}
        return [(radio, by_value[str(radio.data["value"])]) for radio in self["survivor"]]

    def rows(self):
        """[{name, label, field, options: [(radio, customer, shown value)], extra: [radio]}] for the
        asked fields, the options in the order of the customers; `extra` holds "all tags together"
        and "all notes one after another"."""
        by_value = {str(c.pk): c for c in self.customers}
        rows = []
        for name in self.asked:
            bound = self[f"value_{name}"]
            options, extra = [], []
            for radio in bound:
                customer = by_value.get(str(radio.data["value"]))
                if customer is None:
                    extra.append(radio)
                else:
                    options.append((radio, customer, self.displays[customer.pk][name]))
            rows.append({"name": name, "label": bound.label, "field": bound, "options": options, "extra": extra})
        return rows

    def same_fields(self):
        """Labels of the fields that read the same in every customer (nothing to choose)."""
        return [Customer._meta.get_field(n).verbose_name for n in EDITABLE_FIELDS if n not in self.asked]

    def merge_arguments(self):
        """survivor, others, values, versions for `customers_merge`."""
        data = self.cleaned_data
        survivor = next(c for c in self.customers if c.pk == data["survivor"])
        values = {}
        for name in self.asked:
            choice = data[f"value_{name}"]
            values[name] = choice if choice in (MERGE_UNION, MERGE_CONCAT) else int(choice)
        for name in EDITABLE_FIELDS:  # the same everywhere: any customer's value, the survivor's will do
            values.setdefault(name, survivor.pk)
        return {
            "survivor": survivor,
            "others": [c for c in self.customers if c.pk != survivor.pk],
            "values": values,
            "versions": {c.pk: data[f"version_{c.pk}"] for c in self.customers},
        }
