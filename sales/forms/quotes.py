"""Forms of deal line items, quotes and approval decisions. They parse input only; the rules (active
products, quantity over 0, discounts between 0 and 100, who may decide) are the services'."""
from django import forms
from django.utils.translation import gettext_lazy as _

from crm.lib import inputs

__all__ = ["DecisionForm", "LineForm", "QuoteCreateForm", "QuoteForm", "VersionForm", "line_formset",
           "lines_from_formset"]

_DECIMAL = {"inputmode": "decimal", "step": "0.01"}


class LineForm(forms.Form):
    # A plain choice over a list the view loads once: a ModelChoiceField would ask the database again
    # for every row of the formset.
    product = forms.TypedChoiceField(label=_("product"), coerce=int,
                                     widget=forms.Select(attrs={"data-line": "product"}))
    description = forms.CharField(label=_("description"), max_length=200, required=False)
    quantity = inputs.DecimalField(label=_("quantity"), max_digits=12, decimal_places=2, initial=1,
                                  widget=forms.NumberInput(attrs={**_DECIMAL, "data-line": "quantity"}))
    unit_price = inputs.DecimalField(label=_("unit price"), max_digits=14, decimal_places=2, required=False,
                                    widget=forms.NumberInput(attrs={**_DECIMAL, "data-line": "unit_price"}))
    discount_percent = inputs.DecimalField(label=_("discount (%)"), max_digits=5, decimal_places=2, required=False,
                                          initial=0,
                                          widget=forms.NumberInput(attrs={**_DECIMAL, "data-line": "discount"}))

    def __init__(self, *args, products=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.products = {product.pk: product for product in products}
        self.fields["product"].choices = [("", "---------")] + [
            (product.pk, f"{product.code} {product.name}") for product in products]

    def clean_product(self):
        return self.products[self.cleaned_data["product"]]


class _LineFormSet(forms.BaseFormSet):
    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), "products": self.products}

    def __init__(self, *args, products=(), **kwargs):
        self.products = list(products)
        super().__init__(*args, **kwargs)


def line_formset(data=None, *, lines=(), products=()):
    """A formset of product lines: one form per existing line (or one empty row), rows can be added
    (static/js/sales_quotes.js clones the empty form) and ticked for removal."""
    initial = [{"product": line.product_id, "description": line.description, "quantity": line.quantity,
                "unit_price": line.unit_price, "discount_percent": line.discount_percent} for line in lines]
    factory = forms.formset_factory(LineForm, formset=_LineFormSet, extra=0 if initial else 1, can_delete=True,
                                    max_num=200, validate_max=True)
    return factory(data, initial=initial, prefix="lines", products=products)


def lines_from_formset(formset):
    """The kept rows of a valid formset as the services' line dicts, in order."""
    return [{name: form.cleaned_data.get(name) for name in
             ("product", "description", "quantity", "unit_price", "discount_percent")}
            for form in formset.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE") and form.cleaned_data.get("product")]


class VersionForm(forms.Form):
    """The version of the record the page showed, to refuse a save over someone else's change."""

    version = inputs.IntegerField(required=False, widget=forms.HiddenInput)


class QuoteCreateForm(forms.Form):
    title = forms.CharField(label=_("Quote title"), max_length=120, required=False,
                            help_text=_("Empty: “Quote for” and the deal's name."))
    valid_until = inputs.DateField(label=_("valid until"), required=False,
                                  widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                                  help_text=_("Empty: 30 days from today."))


class QuoteForm(VersionForm):
    title = forms.CharField(label=_("Quote title"), max_length=120)
    valid_until = inputs.DateField(label=_("valid until"),
                                  widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    extra_discount_percent = inputs.DecimalField(
        label=_("discount on the whole (%)"), max_digits=5, decimal_places=2, initial=0,
        help_text=_("Taken off the sum of the lines."),
        widget=forms.NumberInput(attrs={**_DECIMAL, "data-line": "extra"}))
    terms = forms.CharField(label=_("terms and notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, quote, **kwargs):
        kwargs.setdefault("initial", {"title": quote.title, "valid_until": quote.valid_until, "terms": quote.terms,
                                      "extra_discount_percent": quote.extra_discount_percent,
                                      "version": quote.version})
        super().__init__(*args, **kwargs)


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", _("Approve")), ("reject", _("Reject"))])
    comment = forms.CharField(label=_("comment"), max_length=500, required=False,
                              widget=forms.Textarea(attrs={"rows": 2}),
                              help_text=_("Needed when you reject."))
