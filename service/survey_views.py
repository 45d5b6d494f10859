"""The satisfaction survey's public page (/survey/<token>/), open without signing in. GET only shows it
(mail scanners and link previews open links); POST records the answer. An unknown or forged token is a
404, an expired survey a 410; the page shows the ticket's reference and subject and nothing else."""
from django import forms
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from crm.lib import inputs

from .services.surveys import survey_answer, survey_by_token


class SurveyForm(forms.Form):
    csat = forms.TypedChoiceField(label=_("How satisfied are you with how we handled your request?"), coerce=int,
                                  choices=[(n, str(n)) for n in range(1, 6)], widget=forms.RadioSelect)
    comment = forms.CharField(label=_("Anything you would like to tell us? (optional)"), required=False,
                              max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    nps = inputs.IntegerField(label=_("How likely are you to recommend us to a friend or colleague? (0–10)"),
                              min_value=0, max_value=10, required=False)

    def __init__(self, *args, asks_nps, **kwargs):
        super().__init__(*args, **kwargs)
        if not asks_nps:
            del self.fields["nps"]


@require_http_methods(["GET", "POST"])
def answer(request, token):
    survey = survey_by_token(token)
    if survey is None:
        raise Http404
    if survey.expires_at <= timezone.now():
        return render(request, "service/public/survey_expired.html", status=410)
    initial = {"csat": survey.csat, "comment": survey.comment, "nps": survey.nps} if survey.answered_at else None
    form = SurveyForm(request.POST if request.method == "POST" else None, initial=initial, asks_nps=survey.asks_nps)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            survey_answer(survey=survey, csat=data["csat"], comment=data["comment"], nps=data.get("nps"))
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect(request.path + "?thanks=1")
    return render(request, "service/public/survey.html", {
        "survey": survey, "ticket": survey.ticket, "form": form, "thanks": request.GET.get("thanks") == "1"},
        status=422 if form.errors else 200)
