"""Settings of the customer core in the product's settings area: picklists (industry, source,
follow-up kinds, tier labels) and customer pools with their rules. Every view needs
CONFIGURE_CUSTOMERS; served under /settings/customers/ by the settings area (crm/settings_sections.py)."""
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.capabilities import Capability
from accounts.permissions import capability_required
from accounts.settings_views import confirm_delete, render_settings
from accounts.views import show_service_error

from .. import selectors, services
from ..forms_pool import ChoiceForm, PoolForm
from ..models import Choice, Pool

configure = capability_required(Capability.CONFIGURE_CUSTOMERS)


# Picklists -------------------------------------------------------------------------------------

def _picklists_url(kind):
    return f"{reverse('settings:customers:picklists')}#list-{kind}"


@configure
def picklist_list(request):
    return render_settings(request, "crm/settings/picklists.html",
                   {"picklists": selectors.picklists_for_settings()}, section="picklists")


@configure
def choice_create(request, kind):
    if kind not in Choice.Kind.values or kind == Choice.Kind.TIER:
        raise Http404
    form = ChoiceForm(request.POST or None, kind=kind)
    if request.method == "POST" and form.is_valid():
        try:
            choice = services.choice_save(by=request.user, **form.service_fields())
        except ValidationError as error:
            show_service_error(form, error)
        else:
            messages.success(request, _("%(label)s added.") % {"label": choice.label})
            return redirect(_picklists_url(kind))
    return render_settings(request, "crm/settings/choice_form.html",
                   {"form": form, "kind_label": Choice.Kind(kind).label}, section="picklists")


@configure
def choice_edit(request, choice_pk):
    choice = get_object_or_404(Choice, pk=choice_pk)
    form = ChoiceForm(request.POST or None, instance=choice, kind=choice.kind)
    if request.method == "POST" and form.is_valid():
        try:
            services.choice_save(by=request.user, choice=choice, **form.service_fields())
        except ValidationError as error:
            show_service_error(form, error)
        else:
            messages.success(request, _("%(label)s saved.") % {"label": choice.label})
            return redirect(_picklists_url(choice.kind))
    return render_settings(request, "crm/settings/choice_form.html",
                   {"form": form, "choice": choice, "kind_label": choice.get_kind_display()}, section="picklists")


@configure
def choice_delete(request, choice_pk):
    choice = get_object_or_404(Choice, pk=choice_pk)
    return confirm_delete(
        request, choice, lambda: services.choice_delete(by=request.user, choice=choice),
        section="picklists", list_url="settings:customers:picklists",
        question=_("Delete %(label)s?") % {"label": choice.label},
        note=_("Only an entry no record uses can be deleted. Retire an entry in use instead."),
        done=_("%(label)s deleted.") % {"label": choice.label},
    )


@require_POST
@configure
def choice_move(request, choice_pk):
    choice = get_object_or_404(Choice, pk=choice_pk)
    services.choice_move(by=request.user, choice=choice, up=request.POST.get("direction") == "up")
    if request.htmx:
        entries = [e for kind, _label, items in selectors.picklists_for_settings() if kind == choice.kind
                   for e in items]
        return render(request, "crm/settings/picklists.html#entries", {
            "kind": choice.kind, "entries": entries})
    return redirect(_picklists_url(choice.kind))


# Pools -----------------------------------------------------------------------------------------

@configure
def pool_list(request):
    pools = list(selectors.pools_for_settings())
    for pool in pools:
        pool.waiting_label = selectors.capped_label(pool.waiting)
    return render_settings(request, "crm/settings/pools.html", {"pools": pools}, section="pools")


@configure
def pool_create(request):
    return _pool_form(request, None)


@configure
def pool_edit(request, pool_pk):
    return _pool_form(request, get_object_or_404(Pool, pk=pool_pk))


def _pool_form(request, pool):
    form = PoolForm(request.POST or None, instance=pool)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.pool_save(by=request.user, pool=pool, **form.service_fields())
        except ValidationError as error:
            show_service_error(form, error)
        else:
            messages.success(request, _("Pool %(name)s saved.") % {"name": saved.name})
            return redirect("settings:customers:pools")
    return render_settings(request, "crm/settings/pool_form.html", {"form": form, "pool": pool}, section="pools")


@configure
def pool_delete(request, pool_pk):
    pool = get_object_or_404(Pool, pk=pool_pk)
    return confirm_delete(
        request, pool, lambda: services.pool_delete(by=request.user, pool=pool),
        section="pools", list_url="settings:customers:pools",
        question=_("Delete the pool %(name)s?") % {"name": pool.name},
        note=_("Only an empty pool can be deleted. Its member teams then release customers into the default pool."),
        done=_("Pool %(name)s deleted.") % {"name": pool.name},
    )


urlpatterns = [
    path("picklists/", picklist_list, name="picklists"),
    path("picklists/<slug:kind>/new/", choice_create, name="choice_create"),
    path("picklists/<int:choice_pk>/", choice_edit, name="choice_edit"),
    path("picklists/<int:choice_pk>/delete/", choice_delete, name="choice_delete"),
    path("picklists/<int:choice_pk>/move/", choice_move, name="choice_move"),
    path("pools/", pool_list, name="pools"),
    path("pools/new/", pool_create, name="pool_create"),
    path("pools/<int:pool_pk>/", pool_edit, name="pool_edit"),
    path("pools/<int:pool_pk>/delete/", pool_delete, name="pool_delete"),
]
