"""Sales configuration in the settings area: pipelines, their stages (order, gates, retiring), the
product catalogue, the discount approval rules of quotes and how quotes and contracts are numbered.
Every view needs sales.stage:configure (CONFIGURE_PIPELINE). Views parse a form, call a service in
sales/services and redirect; a service's ValidationError is shown on the form.

A stage or gate item is always looked up under the pipeline (and stage) of its URL, so an id that
belongs elsewhere is a 404."""
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.capabilities import Capability
from accounts.models import Team
from accounts.permissions import capability_required
from accounts.settings_views import render_settings
from accounts.views import show_service_error

from . import selectors, services
from .models import DiscountRule, DocumentNumbering, GateItem, Pipeline, Product, Stage
from .settings_forms import (
    DiscountRuleForm,
    GateItemForm,
    NumberingForm,
    PipelineForm,
    ProductForm,
    StageForm,
    StageOrderForm,
)

configure = capability_required(Capability.CONFIGURE_PIPELINE)

PRODUCTS_PER_PAGE = 50


# Reads: each pipeline with its teams, and its stages in order with their gate items and roles, in four
# queries however many there are. (Configuration only, no customer data: no access layer involved.)

def _pipelines_for_settings():
    items = GateItem.objects.select_related("role").order_by("order", "id")
    stages = Stage.objects.order_by("order", "id").prefetch_related(Prefetch("gate_items", queryset=items))
    return Pipeline.objects.order_by("order", "id").prefetch_related(
        Prefetch("teams", queryset=Team.objects.order_by("path")), Prefetch("stages", queryset=stages))


def _with_gate_labels(pipeline):
    """Each stage gets `gate_fields`: the names of its required fields as people read them."""
    for stage in pipeline.stages.all():
        stage.gate_fields = [Stage.GATE_FIELDS[name] for name in stage.required_fields if name in Stage.GATE_FIELDS]
    return pipeline


def _pipeline(pipeline_pk):
    return get_object_or_404(Pipeline, pk=pipeline_pk)


def _stage(pipeline, stage_pk):
    return get_object_or_404(Stage.objects.select_related("pipeline"), pk=stage_pk, pipeline=pipeline)


def _stages_url(pipeline, stage=None):
    url = reverse("settings:sales:pipeline", args=[pipeline.pk])
    return f"{url}#stage-{stage.pk}" if stage else url


# Pipelines -------------------------------------------------------------------------------------

@configure
def pipeline_list(request):
    pipelines = [_with_gate_labels(pipeline) for pipeline in _pipelines_for_settings()]
    return render_settings(request, "sales/settings/pipelines.html", {"pipelines": pipelines}, section="pipelines")


@configure
def pipeline_create(request):
    return _pipeline_form(request, None)


@configure
def pipeline_edit(request, pipeline_pk):
    pipeline = get_object_or_404(Pipeline.objects.prefetch_related("teams"), pk=pipeline_pk)
    return _pipeline_form(request, pipeline)


def _pipeline_form(request, pipeline):
    form = PipelineForm(request.POST or None, pipeline=pipeline)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.pipeline_save(by=request.user, pipeline=pipeline, **form.service_fields())
        except ValidationError as error:
            show_service_error(form, error)
        else:
            if pipeline is None:
                messages.success(request, _("Pipeline %(name)s created with the closed stages won, lost and "
                                            "invalid. Add the stages of your process.") % {"name": saved.name})
            else:
                messages.success(request, _("Pipeline %(name)s saved.") % {"name": saved.name})
            return redirect(_stages_url(saved))
    return render_settings(request, "sales/settings/pipeline_form.html", {"form": form, "pipeline": pipeline},
                           section="pipelines")


@configure
def pipeline_detail(request, pipeline_pk):
    """The pipeline's stages in order: drag (or the arrows) to reorder; edit, retire, gate items."""
    pipeline = _with_gate_labels(get_object_or_404(_pipelines_for_settings(), pk=pipeline_pk))
    return render_settings(request, "sales/settings/pipeline_detail.html", {"pipeline": pipeline},
                           section="pipelines")


@configure
@require_POST
def stages_reorder(request, pipeline_pk):
    """The drag-and-drop list posts every stage id in the new order. Answers the list as now saved, or
    409 with the reason (the stages changed meanwhile) as plain text."""
    pipeline = _pipeline(pipeline_pk)
    form = StageOrderForm(request.POST)
    if not form.is_valid():
        return HttpResponse(" ".join(form.errors["stage_ids"]), status=400, content_type="text/plain; charset=utf-8")
    try:
        services.stages_reorder(by=request.user, pipeline=pipeline, stage_ids=form.cleaned_data["stage_ids"])
    except ValidationError as error:
        return HttpResponse(" ".join(error.messages), status=409, content_type="text/plain; charset=utf-8")
    pipeline = _with_gate_labels(get_object_or_404(_pipelines_for_settings(), pk=pipeline.pk))
    return render(request, "sales/settings/pipeline_detail.html#stage_list", {"pipeline": pipeline})


@configure
@require_POST
def stage_move(request, pipeline_pk, stage_pk):
    """One step up or down: the arrows, for those without drag and drop (or JavaScript)."""
    pipeline = _pipeline(pipeline_pk)
    stage = _stage(pipeline, stage_pk)
    ids = list(pipeline.stages.order_by("order", "id").values_list("pk", flat=True))
    index = ids.index(stage.pk)
    other = index - 1 if request.POST.get("direction") == "up" else index + 1
    if 0 <= other < len(ids):
        ids[index], ids[other] = ids[other], ids[index]
        try:
            services.stages_reorder(by=request.user, pipeline=pipeline, stage_ids=ids)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
    return redirect(_stages_url(pipeline, stage))


# Stages ----------------------------------------------------------------------------------------

@configure
def stage_create(request, pipeline_pk):
    return _stage_form(request, _pipeline(pipeline_pk), None)


@configure
def stage_edit(request, pipeline_pk, stage_pk):
    pipeline = _pipeline(pipeline_pk)
    return _stage_form(request, pipeline, _stage(pipeline, stage_pk))


def _stage_form(request, pipeline, stage):
    form = StageForm(request.POST or None, stage=stage)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.stage_save(by=request.user, pipeline=pipeline, stage=stage, **form.service_fields())
        except ValidationError as error:
            show_service_error(form, error)
        else:
            messages.success(request, _("Stage %(name)s saved.") % {"name": saved.name})
            return redirect(_stages_url(pipeline, saved))
    return render_settings(request, "sales/settings/stage_form.html",
                           {"form": form, "pipeline": pipeline, "stage": stage}, section="pipelines")


def _set_retired(request, pipeline_pk, stage_pk, retired):
    pipeline = _pipeline(pipeline_pk)
    stage = _stage(pipeline, stage_pk)
    try:
        services.stage_retire(by=request.user, stage=stage, retired=retired)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if retired:
            messages.success(request, _("Stage %(name)s retired. It takes no new deals; the deals in it stay.")
                             % {"name": stage.name})
        else:
            messages.success(request, _("Stage %(name)s restored.") % {"name": stage.name})
    return redirect(_stages_url(pipeline, stage))


@configure
@require_POST
def stage_retire(request, pipeline_pk, stage_pk):
    return _set_retired(request, pipeline_pk, stage_pk, True)


@configure
@require_POST
def stage_restore(request, pipeline_pk, stage_pk):
    return _set_retired(request, pipeline_pk, stage_pk, False)


# Gate items ------------------------------------------------------------------------------------

@configure
def gate_item_create(request, pipeline_pk, stage_pk):
    pipeline = _pipeline(pipeline_pk)
    return _gate_item_form(request, pipeline, _stage(pipeline, stage_pk), None)


@configure
def gate_item_edit(request, pipeline_pk, stage_pk, item_pk):
    pipeline = _pipeline(pipeline_pk)
    stage = _stage(pipeline, stage_pk)
    return _gate_item_form(request, pipeline, stage, get_object_or_404(GateItem, pk=item_pk, stage=stage))


def _gate_item_form(request, pipeline, stage, item):
    form = GateItemForm(request.POST or None, item=item)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.gate_item_save(by=request.user, stage=stage, item=item, **form.service_fields())
        except ValidationError as error:
            show_service_error(form, error)
        else:
            messages.success(request, _("Checklist item %(label)s saved.") % {"label": saved.label})
            return redirect(_stages_url(pipeline, stage))
    return render_settings(request, "sales/settings/gate_item_form.html",
                           {"form": form, "pipeline": pipeline, "stage": stage, "item": item}, section="pipelines")


@configure
@require_POST
def gate_item_delete(request, pipeline_pk, stage_pk, item_pk):
    pipeline = _pipeline(pipeline_pk)
    stage = _stage(pipeline, stage_pk)
    item = get_object_or_404(GateItem, pk=item_pk, stage=stage)
    services.gate_item_delete(by=request.user, item=item)
    messages.success(request, _("Checklist item %(label)s deleted.") % {"label": item.label})
    return redirect(_stages_url(pipeline, stage))


# Products --------------------------------------------------------------------------------------

@configure
def product_list(request):
    page = Paginator(Product.objects.order_by("code"), PRODUCTS_PER_PAGE).get_page(request.GET.get("page"))
    return render_settings(request, "sales/settings/products.html", {"page": page}, section="products")


@configure
def product_create(request):
    return _product_form(request, None)


@configure
def product_edit(request, product_pk):
    return _product_form(request, get_object_or_404(Product, pk=product_pk))


def _product_form(request, product):
    form = ProductForm(request.POST or None, product=product)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.product_save(by=request.user, product=product, **form.service_fields())
        except ValidationError as error:
            show_service_error(form, error)
        else:
            messages.success(request, _("Product %(name)s saved.") % {"name": saved.name})
            return redirect("settings:sales:products")
    return render_settings(request, "sales/settings/product_form.html", {"form": form, "product": product},
                           section="products")


# Discount approval rules -----------------------------------------------------------------------

@configure
def discount_rule_list(request):
    rules = DiscountRule.objects.select_related("role").order_by("over_percent", "id")
    return render_settings(request, "sales/settings/discount_rules.html", {"rules": rules}, section="discount_rules")


@configure
def discount_rule_create(request):
    return _discount_rule_form(request, None)


@configure
def discount_rule_edit(request, rule_pk):
    return _discount_rule_form(request, get_object_or_404(DiscountRule, pk=rule_pk))


def _discount_rule_form(request, rule):
    form = DiscountRuleForm(request.POST or None, rule=rule)
    if request.method == "POST" and form.is_valid():
        try:
            services.discount_rule_save(by=request.user, rule=rule, **form.service_fields())
        except ValidationError as error:
            show_service_error(form, error)
        else:
            messages.success(request, _("Discount approval rule saved."))
            return redirect("settings:sales:discount_rules")
    return render_settings(request, "sales/settings/discount_rule_form.html", {"form": form, "rule": rule},
                           section="discount_rules", status=422 if form.errors else 200)


@configure
@require_POST
def discount_rule_toggle(request, rule_pk):
    """Deactivate an active rule (new quotes no longer ask it) or activate an inactive one."""
    rule = get_object_or_404(DiscountRule, pk=rule_pk)
    services.discount_rule_save(by=request.user, rule=rule, over_percent=rule.over_percent, approver=rule.approver,
                                role=rule.role, is_active=not rule.is_active)
    if rule.is_active:
        messages.success(request, _("Rule activated."))
    else:
        messages.success(request, _("Rule deactivated: new submissions no longer ask for it."))
    return redirect("settings:sales:discount_rules")


@configure
@require_POST
def discount_rule_delete(request, rule_pk):
    rule = get_object_or_404(DiscountRule, pk=rule_pk)
    services.discount_rule_delete(by=request.user, rule=rule)
    messages.success(request, _("Rule deleted. Approvals it asked for stay on their quotes."))
    return redirect("settings:sales:discount_rules")


# Document numbering ----------------------------------------------------------------------------

@configure
def numbering_list(request):
    return render_settings(request, "sales/settings/numbering.html",
                           {"kinds": selectors.document_numbering_overview()}, section="numbering")


@configure
def numbering_edit(request, kind):
    if kind not in DocumentNumbering.Kind.values:
        raise Http404
    current = DocumentNumbering.objects.filter(kind=kind).first()
    initial = {"pattern": current.pattern if current else DocumentNumbering.DEFAULTS[kind]}
    form = NumberingForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.numbering_save(by=request.user, kind=kind, pattern=form.cleaned_data["pattern"])
        except ValidationError as error:
            show_service_error(form, error)
        else:
            messages.success(request, _("Number pattern saved; the next document gets a number in it."))
            return redirect("settings:sales:numbering")
    return render_settings(request, "sales/settings/numbering_form.html",
                           {"form": form, "kind_label": DocumentNumbering.Kind(kind).label},
                           section="numbering", status=422 if form.errors else 200)
