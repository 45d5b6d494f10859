import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts import services as account_services
from accounts.capabilities import Module
from accounts.permissions import capability_required

from . import selectors, services
from .forms import CustomerForm, ShareForm
from .health import run_checks
from .navigation import home_url_for


@login_required
def home(request):
    """Each user lands on the home page of their role."""
    return redirect(home_url_for(request.user))


@never_cache
def healthz(request):
    """Liveness of PostgreSQL, Redis and the Celery workers as JSON; 503 when one is down."""
    checks = run_checks()
    healthy = all(c["ok"] for c in checks.values())
    return JsonResponse({"status": "ok" if healthy else "fail", "checks": checks}, status=200 if healthy else 503)


@capability_required(module=Module.CUSTOMERS)
def customer_list(request):
    page = Paginator(selectors.customers_visible_to(request.user), 50).get_page(request.GET.get("page"))
    return render(request, "crm/customer_list.html", {"page": page})


@capability_required(module=Module.CUSTOMERS)
def customer_create(request):
    form = CustomerForm(request.POST or None, initial={"owner": request.user, "team": request.user.team})
    if request.method == "POST" and form.is_valid():
        customer = services.customer_create(by=request.user, **form.cleaned_data)
        messages.success(request, _("Customer created."))
        return redirect(customer)
    return render(request, "crm/customer_form.html", {"form": form})


@capability_required(module=Module.CUSTOMERS)
def customer_detail(request, pk):
    context = selectors.customer_page(request.user, pk)
    context["share_form"] = ShareForm()
    return render(request, "crm/customer_detail.html", context)


@capability_required(module=Module.CUSTOMERS)
def customer_edit(request, pk):
    customer = selectors.customer_for(request.user, pk, write=True)
    form = CustomerForm(request.POST or None, instance=customer)
    if request.method == "POST" and form.is_valid():
        services.customer_update(customer=customer, by=request.user, **form.cleaned_data)
        messages.success(request, _("Customer saved."))
        return redirect(customer)
    return render(request, "crm/customer_form.html", {"form": form, "customer": customer})


def _shares_partial(request, customer, form=None, status=200):
    context = {"customer": customer, "shares": selectors.shares_of(customer), "can_edit": True,
               "share_form": form or ShareForm()}
    return render(request, "crm/customer_detail.html#shares", context, status=status)


@require_POST
@capability_required(module=Module.CUSTOMERS)
def customer_share(request, pk):
    customer = selectors.customer_for(request.user, pk, write=True)
    form = ShareForm(request.POST)
    if form.is_valid():
        until = form.cleaned_data["expires_at"]
        expires_at = None
        if until:
            expires_at = timezone.make_aware(datetime.datetime.combine(until, datetime.time.max))
        try:
            account_services.share_create(
                obj=customer, by=request.user, user=form.cleaned_data["user"],
                team=form.cleaned_data["team"], can_edit_record=form.cleaned_data["can_edit"],
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
    customer = selectors.customer_for(request.user, pk, write=True)
    share = get_object_or_404(selectors.shares_of(customer), pk=share_pk)
    account_services.share_revoke(share=share, by=request.user)
    if request.htmx:
        return _shares_partial(request, customer)
    messages.success(request, _("Share withdrawn."))
    return redirect(customer)


