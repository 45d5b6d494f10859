"""Forms of the sales settings pages: pipelines, stages, gate items and products. They parse input only;
the rules (unique names and codes, a probability between 0 and 100, known gate fields) live in
sales/services.py, whose ValidationErrors the views put back onto these forms."""
from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, Team
from crm.lib import inputs

from .models import DiscountRule, Stage, StageKind


class PipelineForm(forms.Form):
    name = forms.CharField(label=_("name"), max_length=60)
    teams = forms.ModelMultipleChoiceField(
        label=_("teams"), queryset=Team.objects.order_by("path"), required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        help_text=_("Only these teams and their sub-teams open deals in this pipeline. None ticked: every team."))
    is_active = forms.BooleanField(
        label=_("active"), required=False, initial=True,
        help_text=_("An inactive pipeline takes no new deals and is hidden from the board; its deals stay."))

    def __init__(self, *args, pipeline=None, **kwargs):
        if pipeline is not None:
            kwargs.setdefault("initial", {
                "name": pipeline.name, "is_active": pipeline.is_active,
                "teams": [team.pk for team in pipeline.teams.all()],
            })
        super().__init__(*args, **kwargs)

    def service_fields(self):
        return dict(self.cleaned_data)


class StageForm(forms.Form):
    name = forms.CharField(label=_("name"), max_length=60)
    kind = forms.ChoiceField(
        label=_("Stage type"), choices=StageKind.choices, initial=StageKind.OPEN,
        help_text=_("Won, lost and invalid stages close the deal."))
    # The range is the service's rule (its message is shown); the attributes only help the keyboard.
    probability = inputs.IntegerField(
        label=_("win probability (%)"), initial=10,
        widget=forms.NumberInput(attrs={"min": 0, "max": 100, "inputmode": "numeric"}))
    stale_after_days = inputs.IntegerField(
        label=_("stale after (days)"), required=False, min_value=1, max_value=3650,
        help_text=_("A deal that stays longer in this stage counts as stale. Empty: never."),
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}))
    required_fields = forms.MultipleChoiceField(
        label=_("fields required to enter"), required=False, widget=forms.CheckboxSelectMultiple,
        choices=list(Stage.GATE_FIELDS.items()),
        help_text=_("A deal enters this stage only when these fields are filled in."))

    def __init__(self, *args, stage=None, **kwargs):
        if stage is not None:
            kwargs.setdefault("initial", {
                "name": stage.name, "kind": stage.kind, "probability": stage.probability,
                "stale_after_days": stage.stale_after_days, "required_fields": list(stage.required_fields),
            })
        super().__init__(*args, **kwargs)

    def service_fields(self):
        return dict(self.cleaned_data)


class GateItemForm(forms.Form):
    label = forms.CharField(label=_("checklist item"), max_length=100)
    role = forms.ModelChoiceField(
        label=_("ticked by role"), queryset=Role.objects.order_by("priority", "name"), required=False,
        empty_label=_("Anyone who may edit the deal"),
        help_text=_("Only holders of this role may tick the item."))

    def __init__(self, *args, item=None, **kwargs):
        if item is not None:
            kwargs.setdefault("initial", {"label": item.label, "role": item.role_id})
        super().__init__(*args, **kwargs)

    def service_fields(self):
        return dict(self.cleaned_data)


class ProductForm(forms.Form):
    code = forms.CharField(label=_("Product code"), max_length=40)
    name = forms.CharField(label=_("name"), max_length=120)
    unit = forms.CharField(label=_("unit"), max_length=20, required=False,
                           help_text=_("For example: set, year, user."))
    list_price = inputs.DecimalField(label=_("list price"), max_digits=14, decimal_places=2, min_value=0,
                                    initial=0, widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}))
    is_active = forms.BooleanField(label=_("active"), required=False, initial=True,
                                   help_text=_("Untick to stop offering the product on new quotes."))

    def __init__(self, *args, product=None, **kwargs):
        if product is not None:
            kwargs.setdefault("initial", {
                "code": product.code, "name": product.name, "unit": product.unit,
                "list_price": product.list_price, "is_active": product.is_active,
            })
        super().__init__(*args, **kwargs)

    def service_fields(self):
        return dict(self.cleaned_data)


class StageIdsField(forms.Field):
    """Stage ids posted under one name, in the order posted. Whether they are exactly the pipeline's
    stages is the service's rule (stages_reorder)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        ids = [inputs.parse_id(v) if isinstance(v, str) else None for v in value or []]
        if None in ids:  # ASCII digits within bigint only
            raise forms.ValidationError(_("The order is not valid."), code="invalid")
        return ids


class StageOrderForm(forms.Form):
    """The new order of a pipeline's stages from the drag-and-drop list, first stage first."""

    stage_ids = StageIdsField()


class DiscountRuleForm(forms.Form):
    over_percent = inputs.DecimalField(
        label=_("discount over (%)"), max_digits=5, decimal_places=2,
        help_text=_("A quote whose total discount off the list prices is over this needs the approval."),
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}))
    approver = forms.ChoiceField(label=_("approved by"), choices=DiscountRule.Approver.choices,
                                 widget=forms.RadioSelect)
    role = forms.ModelChoiceField(
        label=_("role"), queryset=Role.objects.order_by("priority", "name"), required=False,
        help_text=_("When a role approves: any holder of it who may see the deal."))
    is_active = forms.BooleanField(label=_("active"), required=False, initial=True)

    def __init__(self, *args, rule=None, **kwargs):
        if rule is not None:
            kwargs.setdefault("initial", {"over_percent": rule.over_percent, "approver": rule.approver,
                                          "role": rule.role_id, "is_active": rule.is_active})
        super().__init__(*args, **kwargs)

    def service_fields(self):
        return dict(self.cleaned_data)


class NumberingForm(forms.Form):
    pattern = forms.CharField(
        label=_("number pattern"), max_length=60,
        help_text=_("{yyyy} {yy} {mm} {dd}: the date; {seq:4}: a counter of four digits, which starts again "
                    "when the rest of the number changes. For example BJ-Q{yyyy}{mm}-{seq:4}."))
