"""Customer pages: list, create, the 360° page, edit, shares."""
import datetime
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from accounts import selectors as account_selectors
from accounts import services as account_services
from accounts.access import can_edit
from accounts.capabilities import Module
from accounts.grants import can, handable
from accounts.permissions import capability_required
from accounts.views import posted_next_url

from .. import selectors, services
from ..filters import VIEWS
from ..forms import BulkForm, CustomerForm, SavedViewForm, ShareForm


@capability_required(module=Module.CUSTOMERS)
def customer_list(request):
    context = selectors.customer_list(request.user, request.GET)
    context.update({
        "views": VIEWS, "current_view": request.GET.get("view", ""),
        "saved_views": selectors.saved_views_of(request.user),
        "bulk_form": BulkForm(user=request.user), "saved_view_form": SavedViewForm(), "now": timezone.now(),
        "owner_choices": selectors.assignable_choices(request.user), "team_choices": account_selectors.team_choices(),
    })
    status = 400 if context["filter"].errors else 200  # an invalid filter: its errors and no rows
    if request.htmx and request.htmx.target == "customer-results":
        return render(request, "crm/customer_list.html#results", context, status=status)
    return render(request, "crm/customer_list.html", context, status=status)


def _check_duplicates(request, form, exclude_pk=None):
    """On save, likely duplicates must be acknowledged once (the live warning may have been missed).
    A save counts against the duplicate checks' rate limit: past it, nothing is saved or revealed."""
    if not selectors.duplicate_check_allowed(request.user):
        form.add_error(None, _("You have checked for existing customers many times in the last minute. "
                               "Wait a minute, then save again."))
        return False
    form.duplicate_warning = selectors.duplicate_warning(request.user, form.cleaned_data, exclude_pk)
    form.duplicates = form.duplicate_warning["duplicates"]
    if form.duplicates and not form.cleaned_data.get("confirm_duplicate"):
        form.add_error(None, _("This looks like a customer that already exists (see below). "
                               "Tick the box to save anyway."))
        return False
    return True


@capability_required(module=Module.CUSTOMERS)
def customer_create(request):
    form = CustomerForm(request.POST or None, user=request.user, initial={"owner": request.user})
    if request.method == "POST" and form.is_valid() and _check_duplicates(request, form):
        try:
            customer = services.customer_create(by=request.user, contact=form.contact(), **form.customer_fields())
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Customer created."))
            return redirect(customer)
    return render(request, "crm/customer_form.html", {"form": form})


@capability_required(module=Module.CUSTOMERS)
def customer_detail(request, pk):
    context = selectors.customer_page(request.user, pk)
    form = ShareForm(user=request.user, can_grant_edit=context["can_edit"]) if context["can_share"] else None
    context.update(_share_context(request.user, context["customer"], context["can_share"], form))
    return render(request, "crm/customer_detail.html", context)


@capability_required(module=Module.CUSTOMERS)
def customer_edit(request, pk):
    customer = selectors.customer_for(request.user, pk, write=True)
    form = CustomerForm(request.POST or None, instance=customer, user=request.user)
    if request.method == "POST" and form.is_valid() and _check_duplicates(request, form, customer.pk):
        try:
            services.customer_update(customer=customer, by=request.user, version=form.cleaned_data["version"],
                                     **form.customer_fields())
        except services.EditConflict as exc:
            form.add_error(None, exc)
            return render(request, "crm/customer_form.html",
                          {"form": form, "customer": customer, "conflict": True}, status=409)
        except ValidationError as exc:  # e.g. the new owner is no longer one to assign to
            form.add_error(None, exc)
        else:
            messages.success(request, _("Customer saved."))
            return redirect(customer)
    return render(request, "crm/customer_form.html", {"form": form, "customer": customer})


@require_POST
@capability_required(module=Module.CUSTOMERS)
def customer_bulk(request):
    """Claim (from the pool), assign, tag, release or merge the ticked customers. Every id is checked; one that is not the
    user's to change rejects the whole request and nothing changes."""
    form = BulkForm(request.POST, user=request.user)
    back = posted_next_url(request, reverse("crm:customer_list"))
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(back)
    data = form.cleaned_data
    ids = data["ids"]
    if data["action"] == "merge":
        return redirect(reverse("crm:customer_merge") + "?" + urlencode([("ids", i) for i in ids]))
    try:
        if data["action"] == "claim":
            claimed = services.pool_claim(ids=ids, by=request.user)
            messages.success(request, ngettext("You claimed %(n)s customer.", "You claimed %(n)s customers.", claimed)
                             % {"n": claimed})
        elif data["action"] == "assign":
            services.pool_assign(ids=ids, owner=data["owner"], by=request.user)
            messages.success(request, _("Assigned %(n)d customers to %(owner)s.") % {
                "n": len(ids), "owner": data["owner"]})
        elif data["action"] == "tag":
            services.customers_tag(ids=ids, tag=data["tag"], by=request.user)
            messages.success(request, _("Tagged %(n)d customers “%(tag)s”.") % {"n": len(ids), "tag": data["tag"]})
        elif data["action"] == "release":
            services.pool_release(ids=ids, by=request.user)
            messages.success(request, _("Released %(n)d customers to the pool.") % {"n": len(ids)})
    except PermissionDenied as exc:
        message = str(exc) or _("Some of the ticked customers are not yours to change. Nothing was changed.")
        if request.htmx:
            return HttpResponse(message, status=403)
        messages.error(request, message)
        return redirect(back)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect(back)


@require_POST
@capability_required(module=Module.CUSTOMERS)
def saved_view_create(request):
    form = SavedViewForm(request.POST)
    query = request.POST.get("query", "")[:1000]
    if form.is_valid():
        services.saved_view_save(user=request.user, name=form.cleaned_data["name"], query=query)
        messages.success(request, _("View saved."))
    else:
        messages.error(request, _("Give the view a name."))
    return redirect(reverse("crm:customer_list") + ("?" + query if query else ""))


@require_POST
@capability_required(module=Module.CUSTOMERS)
def saved_view_delete(request, pk):
    view = get_object_or_404(selectors.saved_views_of(request.user), pk=pk)
    services.saved_view_delete(view=view, user=request.user)
    messages.success(request, _("View deleted."))
    return redirect("crm:customer_list")


def _share_form(user, customer, data=None):
    return ShareForm(data, user=user, can_grant_edit=can_edit(user, customer))


def _share_context(user, customer, can_share, form=None):
    """The share form with its user and team options (read only when the form is shown): teams
    within the user's scope only."""
    selects = []
    if can_share:
        form = form or _share_form(user, customer)
        selects = [(form["user"], account_selectors.people_choices()),
                   (form["team"], account_selectors.team_choices(form.fields["team"].queryset))]
    return {"share_form": form, "share_selects": selects, "can_share": can_share}


def _shares_partial(request, customer, form=None, status=200):
    context = {"customer": customer, "shares": selectors.shares_of(customer),
               **_share_context(request.user, customer, True, form)}
    return render(request, "crm/customer_detail.html#shares", context, status=status)


def _shareable_customer(user, pk):
    """The customer `pk` if `user` may share it: 404 outside their reach, 403 if they may see (or
    even edit) it but not pass it on (accounts.grants.handable)."""
    customer = selectors.customer_for(user, pk)
    if not can(handable, user, customer):
        raise PermissionDenied
    return customer


@require_POST
@capability_required(module=Module.CUSTOMERS)
def customer_share(request, pk):
    customer = _shareable_customer(request.user, pk)
    form = _share_form(request.user, customer, request.POST)
    if form.is_valid():
        until = form.cleaned_data["expires_at"]
        expires_at = None
        if until:
            expires_at = timezone.make_aware(datetime.datetime.combine(until, datetime.time.max))
        try:
            account_services.share_create(
                obj=customer, by=request.user, user=form.cleaned_data["user"],
                team=form.cleaned_data["team"], can_edit_record=form.cleaned_data.get("can_edit", False),
                expires_at=expires_at,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
    if form.errors:
        if request.htmx:
            return _shares_partial(request, customer, form, status=422)
        messages.error(request, " ".join(form.non_field_errors()) or _("Please correct the errors."))
        return redirect(customer)
    if request.htmx:
        return _shares_partial(request, customer)
    messages.success(request, _("Shared."))
    return redirect(customer)


@require_POST
@capability_required(module=Module.CUSTOMERS)
def customer_share_revoke(request, pk, share_pk):
    customer = _shareable_customer(request.user, pk)
    share = get_object_or_404(selectors.shares_of(customer), pk=share_pk)
    account_services.share_revoke(share=share, by=request.user)
    if request.htmx:
        return _shares_partial(request, customer)
    messages.success(request, _("Share withdrawn."))
    return redirect(customer)


