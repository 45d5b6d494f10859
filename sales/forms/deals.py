"""Forms of the deal pages (the settings pages have theirs in settings_forms.py)."""
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.access import visible
from crm.lib import inputs
from crm.models import Choice, Contact
from marketing.models import Campaign

from ..models import Opportunity, Stage


class OpportunityForm(forms.ModelForm):
    class Meta:
        formfield_callback = inputs.formfield_callback  # dates within the calendar we keep
        model = Opportunity
        fields = ["name", "pipeline", "contact", "amount", "expected_close", "source", "campaign", "next_step"]
        widgets = {"expected_close": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, customer, pipelines, user, **kwargs):
        super().__init__(*args, **kwargs)
        if "pipeline" in self.fields:
            self.fields["pipeline"].queryset = pipelines
            self.fields["pipeline"].empty_label = None
        # The customer's contacts as the user may see them (a deal can be visible to someone whose
        # customer scope is narrower).
        self.fields["contact"].queryset = visible(user, Contact).filter(customer=customer)
        self.fields["source"].queryset = Choice.objects.filter(kind=Choice.Kind.SOURCE, active=True)
        self.fields["amount"].min_value = 0
        campaigns = Campaign.objects.filter(is_active=True)
        if self.instance.campaign_id:  # a deal keeps the campaign it came from after the campaign ends
            campaigns = Campaign.objects.filter(Q(is_active=True) | Q(pk=self.instance.campaign_id))
        self.fields["campaign"].queryset = campaigns


class OpportunityEditForm(OpportunityForm):
    version = inputs.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta(OpportunityForm.Meta):
        fields = ["name", "contact", "amount", "expected_close", "source", "campaign", "next_step"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, customer=kwargs["instance"].customer, pipelines=None, user=user, **kwargs)


class MoveForm(forms.Form):
    stage = forms.ModelChoiceField(queryset=Stage.objects.none(), label=_("stage"))
    lost_reason = forms.ModelChoiceField(
        queryset=Choice.objects.filter(kind=Choice.Kind.LOST_REASON, active=True), required=False,
        label=_("lost reason"))
    version = inputs.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, opportunity, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["stage"].queryset = opportunity.pipeline.stages.all()


class ProbabilityForm(forms.Form):
    probability = inputs.IntegerField(label=_("win probability (%)"), min_value=0, max_value=100)
    reason = forms.CharField(label=_("reason"), max_length=200, required=False,
                             help_text=_("Empty: the stage's probability again."))
