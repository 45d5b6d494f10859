"""The customer pool (公海): the pools a rep may open, the customers waiting in one, claiming and
assigning from it, and the claim and release buttons of the customer page. The settings pages for
pools and picklists live in `crm_settings`, served by the settings area (crm/settings_sections.py)."""
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts.access import get_visible_or_404, user_access, visible
from accounts.capabilities import Capability, Module
from accounts.permissions import capability_required
from accounts.views import posted_next_url

from .. import selectors, services
from ..forms_pool import AssignForm, ClaimForm, PoolSearchForm, ReleaseForm
from ..lib import inputs
from ..models import Customer

customers_module = capability_required(module=Module.CUSTOMERS)


def _go(request, url):
    """A redirect, or for htmx an HX-Redirect, so the message shows on a full page."""
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


def _error(request, error):
    messages.error(request, " ".join(error.messages))


@customers_module
def pool_list(request):
    pools = list(selectors.pools_for(request.user))
    for pool in pools:
        pool.waiting_label = selectors.capped_label(pool.waiting)
    return render(request, "crm/pool/list.html", {"pools": pools})


@customers_module
def pool_detail(request, pool_pk):
    pool = selectors.pool_for(request.user, pool_pk)
    tiers = selectors.tier_labels()
    search = PoolSearchForm(request.GET or None, tiers=tiers)
    if search.is_bound and not search.is_valid() and "before" in search.errors:
        raise inputs.BadInput(_("The page link is not valid (it may have been cut short). Go back to the first page."))
    context = selectors.pool_page(request.user, pool, tiers=tiers, **search.values())
    context["search"] = search
    if context["can_assign"]:
        context["assign_form"] = AssignForm(assignees=selectors.assignable_users(request.user))
    if request.htmx and request.htmx.target == "pool-more":
        return render(request, "crm/pool/detail.html#rows", context)
    if request.htmx and request.htmx.target == "pool-results":
        return render(request, "crm/pool/detail.html#results", context)
    return render(request, "crm/pool/detail.html", context)


@require_POST
@customers_module
def pool_claim(request, pool_pk):
    pool = selectors.pool_for(request.user, pool_pk)
    form = ClaimForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["ids"]))
        return _go(request, pool.get_absolute_url())
    try:
        claimed = services.pool_claim(ids=form.cleaned_data["ids"], by=request.user)
    except ValidationError as error:
        _error(request, error)
    except PermissionDenied:
        raise Http404 from None
    else:
        messages.success(request, ngettext("You claimed %(n)s customer.", "You claimed %(n)s customers.", claimed)
                         % {"n": claimed})
    return _go(request, pool.get_absolute_url())


@require_POST
@customers_module
def pool_assign(request, pool_pk):
    pool = selectors.pool_for(request.user, pool_pk)
    if not user_access(request.user).has(Capability.ASSIGN_FROM_POOL):
        raise PermissionDenied
    form = AssignForm(request.POST, assignees=selectors.assignable_users(request.user))
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return _go(request, pool.get_absolute_url())
    owner = form.cleaned_data["owner"]
    try:
        assigned = services.pool_assign(ids=form.cleaned_data["ids"], owner=owner, by=request.user)
    except ValidationError as error:
        _error(request, error)
    except PermissionDenied:
        raise Http404 from None
    else:
        messages.success(request, ngettext("%(n)s customer assigned to %(owner)s.",
                                           "%(n)s customers assigned to %(owner)s.", assigned)
                         % {"n": assigned, "owner": owner.name})
    return _go(request, pool.get_absolute_url())


@require_POST
@customers_module
def customer_claim(request, pk):
    """The "claim" button of a pool customer's page."""
    customer = get_visible_or_404(request.user, Customer.objects.live(), pk)
    back = posted_next_url(request, customer.get_absolute_url())
    try:
        services.pool_claim(ids=[customer.pk], by=request.user)
    except ValidationError as error:
        _error(request, error)
        if not visible(request.user, Customer.objects.filter(pk=customer.pk)).exists():
            back = reverse("crm:pool_list")
        return _go(request, back)
    messages.success(request, _("%(name)s is now yours.") % {"name": customer.name})
    return _go(request, customer.get_absolute_url())


@require_POST
@customers_module
def customer_release(request, pk):
    """The "release to pool" button of a customer's page."""
    customer = get_visible_or_404(request.user, Customer.objects.live(), pk, write=True)
    form = ReleaseForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        services.pool_release(ids=[customer.pk], by=request.user, reason=reason)
    except ValidationError as error:
        _error(request, error)
        return _go(request, customer.get_absolute_url())
    customer.refresh_from_db(fields=["pool"])
    messages.success(request, _("%(name)s was released to the pool %(pool)s.")
                     % {"name": customer.name, "pool": customer.pool})
    if visible(request.user, Customer.objects.filter(pk=customer.pk)).exists():
        return _go(request, posted_next_url(request, customer.get_absolute_url()))
    if customer.pool_id in selectors.member_pool_ids(request.user):
        return _go(request, customer.pool.get_absolute_url())
    return _go(request, reverse("crm:pool_list"))


urlpatterns = [
    path("pools/", pool_list, name="pool_list"),
    path("pools/<int:pool_pk>/", pool_detail, name="pool_detail"),
    path("pools/<int:pool_pk>/claim/", pool_claim, name="pool_claim"),
    path("pools/<int:pool_pk>/assign/", pool_assign, name="pool_assign"),
    path("<int:pk>/claim/", customer_claim, name="customer_claim"),
    path("<int:pk>/release/", customer_release, name="customer_release"),
]
