"""Deal pages: the board (kanban) per pipeline, the list, a deal's page, creating and moving deals,
ticking gate items and overriding the probability. Every deal is read through sales.selectors (the
access layer): another team's deal is a 404, and a deal one may see but not change is a 403."""
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.access import user_access
from accounts.capabilities import Capability, Module
from accounts.permissions import capability_required
from accounts.views import show_service_error
from crm import selectors as crm_selectors
from crm.lib.paging import older_page
from crm.lib.xlsx import xlsx_response
from crm.models import Choice

from .. import export, selectors, services
from ..forms.deals import MoveForm, OpportunityEditForm, OpportunityForm, ProbabilityForm
from ..models import GateItem, Pipeline, StageKind

LIST_SIZE = 50


def _pipelines():
    return Pipeline.objects.filter(is_active=True).order_by("order", "id")


@capability_required(module=Module.SALES)
def index(request):
    pipeline = _pipelines().first()
    if pipeline is not None:
        return redirect("sales:board", pipeline.pk)
    can_configure = user_access(request.user).has(Capability.CONFIGURE_PIPELINE)
    return render(request, "sales/index.html", {"can_configure": can_configure})


def _board_context(user, pipeline, *, blocked=None, only=None):
    return {"pipeline": pipeline, "pipelines": _pipelines(), "columns": selectors.board(user, pipeline, only=only),
            "blocked": blocked, "lost_reasons": Choice.objects.filter(kind=Choice.Kind.LOST_REASON, active=True),
            "can_create": services.pipelines_for(user).filter(pk=pipeline.pk).exists(),
            "board_closed_days": selectors.BOARD_CLOSED_DAYS}


@capability_required(module=Module.SALES)
def board(request, pipeline_pk):
    pipeline = get_object_or_404(Pipeline, pk=pipeline_pk, is_active=True)
    context = _board_context(request.user, pipeline)
    if request.htmx and request.htmx.target == "board":
        return render(request, "sales/board.html#board", context)
    return render(request, "sales/board.html", context)


@capability_required(module=Module.SALES)
def column_more(request, pipeline_pk, stage_pk):
    """The next cards of one column (htmx), older than `before`."""
    pipeline = get_object_or_404(Pipeline, pk=pipeline_pk)
    stage = get_object_or_404(pipeline.stages, pk=stage_pk)
    page = older_page(selectors.column_cards(request.user, pipeline, stage), request.GET, size=selectors.BOARD_CARDS)
    return render(request, "sales/board.html#more", {"cards": page["rows"], "pipeline": pipeline, "stage": stage,
                                                      "more": page["more"]})


@require_POST
@capability_required(module=Module.SALES)
def opportunity_move(request, pk):
    """Move a deal to another stage: from the board (answered with the two columns it touched, the
    refusal shown in the target column) or from the deal's page."""
    opportunity = selectors.opportunity_for(request.user, pk, write=True)
    form = MoveForm(request.POST, opportunity=opportunity)
    touched = {opportunity.stage_id}
    blocked = None
    if form.is_valid():
        stage = form.cleaned_data["stage"]
        touched.add(stage.pk)
        try:
            services.opportunity_move(opportunity=opportunity, stage=stage, by=request.user,
                                      lost_reason=form.cleaned_data["lost_reason"],
                                      version=form.cleaned_data["version"])
        except services.GateBlocked as error:
            blocked = {"stage": stage.pk, "opportunity": opportunity, "message": error.messages[0],
                       "missing": error.missing}
        except ValidationError as error:
            blocked = {"stage": stage.pk, "opportunity": opportunity, "message": " ".join(error.messages),
                       "needs_reason": stage.kind == StageKind.LOST and not form.cleaned_data["lost_reason"]}
    else:
        blocked = {"stage": None, "opportunity": opportunity,
                   "message": " ".join(e for errors in form.errors.values() for e in errors)}
    if request.POST.get("from") == "board":
        # The columns the card left and tried to enter, each swapped in by its id (the card back in its
        # column and the reason in the other when the move was refused).
        context = {**_board_context(request.user, opportunity.pipeline, blocked=blocked, only=touched), "oob": True}
        return render(request, "sales/board.html#moved", context, status=422 if blocked else 200)
    if blocked:
        messages.error(request, blocked["message"])
    else:
        messages.success(request, _("Moved."))
    return redirect(opportunity)


@capability_required(module=Module.SALES)
def opportunity_list(request):
    filterset, deals = selectors.opportunity_list(request.user, request.GET)
    page = older_page(deals, request.GET, size=LIST_SIZE)
    pipeline = filterset.form.cleaned_data.get("pipeline") if filterset.is_valid() else None
    return render(request, "sales/opportunity_list.html", {
        "filter": filterset, "deals": page["rows"], **page, "pipeline": pipeline,
        "can_export": user_access(request.user).has(Capability.EXPORT_DATA)},
        status=400 if filterset.errors else 200)  # an invalid filter: its errors and no rows


@capability_required(Capability.EXPORT_DATA, module=Module.SALES)
def opportunity_export(request):
    """The filtered deal list as .xlsx, rows exactly as the list shows them to this user."""
    try:
        file, filename = export.opportunities_xlsx(request.user, request.GET)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(reverse("sales:opportunity_list") + "?" + request.GET.urlencode())
    return xlsx_response(file, filename, ascii_name="opportunities")


@capability_required(module=Module.SALES)
def opportunity_create(request):
    # A deal is work on the customer: one the user may only read (e.g. shared read-only) is 403.
    customer = crm_selectors.customer_for(request.user, request.GET.get("customer") or request.POST.get("customer"),
                                          write=True)
    pipelines = services.pipelines_for(request.user)
    form = OpportunityForm(request.POST or None, customer=customer, pipelines=pipelines, user=request.user,
                           initial={"pipeline": request.GET.get("pipeline")})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            opportunity = services.opportunity_create(
                by=request.user, customer=customer, pipeline=data["pipeline"], name=data["name"],
                amount=data["amount"], expected_close=data["expected_close"], contact=data["contact"],
                source=data["source"], campaign=data["campaign"], next_step=data["next_step"])
        except ValidationError as error:
            show_service_error(form, error)
        else:
            messages.success(request, _("Opportunity created."))
            return redirect(opportunity)
    return render(request, "sales/opportunity_form.html", {"form": form, "customer": customer},
                  status=422 if form.errors else 200)


@capability_required(module=Module.SALES)
def opportunity_edit(request, pk):
    opportunity = selectors.opportunity_for(request.user, pk, write=True)
    form = OpportunityEditForm(request.POST or None, instance=opportunity, user=request.user,
                               initial={"version": opportunity.version})
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in services.EDITABLE_FIELDS}
        try:
            services.opportunity_update(opportunity=opportunity, by=request.user,
                                        version=form.cleaned_data["version"], **data)
        except ValidationError as error:
            show_service_error(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect(opportunity)
    return render(request, "sales/opportunity_form.html", {"form": form, "customer": opportunity.customer,
                                                           "opportunity": opportunity},
                  status=422 if form.errors else 200)


@capability_required(module=Module.SALES)
def opportunity_detail(request, pk):
    opportunity = selectors.opportunity_for(request.user, pk)
    return render(request, "sales/opportunity_detail.html", selectors.opportunity_page(request.user, opportunity))


@require_POST
@capability_required(module=Module.SALES)
def opportunity_tick(request, pk, item_pk):
    opportunity = selectors.opportunity_for(request.user, pk)
    item = get_object_or_404(GateItem.objects.select_related("stage", "role"), pk=item_pk,
                             stage__pipeline_id=opportunity.pipeline_id)
    try:
        services.opportunity_tick(opportunity=opportunity, item=item, by=request.user,
                                  ticked=request.POST.get("ticked") != "0")
    except PermissionDenied as error:
        messages.error(request, str(error) or _("You may not tick this item."))
    return redirect(reverse("sales:opportunity_detail", args=[opportunity.pk]) + "#gates")


@require_POST
@capability_required(module=Module.SALES)
def opportunity_probability(request, pk):
    opportunity = selectors.opportunity_for(request.user, pk, write=True)
    form = ProbabilityForm(request.POST)
    if form.is_valid():
        services.opportunity_set_probability(opportunity=opportunity, by=request.user,
                                             probability=form.cleaned_data["probability"],
                                             reason=form.cleaned_data["reason"])
        messages.success(request, _("Probability saved."))
    else:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    return redirect(opportunity)
