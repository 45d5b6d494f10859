"""Duplicates and merge: the duplicates alert of the customer form (htmx), the merge chooser, undo."""
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.access import get_visible_or_404
from accounts.capabilities import Module
from accounts.permissions import capability_required

from .. import selectors, services
from ..forms_merge import MergeForm
from ..models import Customer, CustomerMerge


@require_GET
@capability_required(module=Module.CUSTOMERS)
def duplicate_check(request):
    """The duplicates alert for what is typed in the customer form; empty when nothing matches. Past
    the user's rate limit: 429 with a message, and nothing looked up."""
    if not selectors.duplicate_check_allowed(request.user):
        return render(request, "crm/partials/duplicates.html", {"limited": True}, status=429)
    context = selectors.duplicate_warning(request.user, request.GET, request.GET.get("exclude"))
    return render(request, "crm/partials/duplicates.html", context)


@capability_required(module=Module.CUSTOMERS)
def customer_merge(request):
    """GET ?ids=1&ids=2: choose the surviving record and values; POST merges and goes to the survivor.
    Customers outside the user's scope are 404 (checked first, so nothing tells they exist); visible
    ones the user may not merge are 403."""
    source = request.POST if request.method == "POST" else request.GET
    customers = selectors.customers_for_merge(request.user, source.getlist("ids"))
    if len(customers) < 2:
        messages.error(request, _("Choose at least two different customers to merge."))
        return redirect(customers[0])
    form = MergeForm(customers, request.POST or None, tier_labels=selectors.tier_labels())
    if request.method == "POST" and form.is_valid():
        arguments = form.merge_arguments()
        try:
            merge = services.customers_merge(by=request.user, **arguments)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, render_to_string("crm/merge/merged_message.html", {
                "merge": merge, "survivor": arguments["survivor"], "merged": arguments["others"],
            }, request=request))
            return redirect(arguments["survivor"])
    status = 422 if form.errors else 200
    return render(request, "crm/merge/merge_form.html", {"form": form, "customers": customers}, status=status)


@require_POST
@capability_required(module=Module.CUSTOMERS)
def customer_merge_undo(request, pk):
    """Undo a merge: 404 unless the survivor is visible; 403 without the right to merge all of them."""
    merge = get_object_or_404(CustomerMerge, pk=pk)
    survivor = get_visible_or_404(request.user, Customer, merge.survivor_id)
    try:
        merge = services.customer_merge_undo(merge=merge, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(survivor)
    messages.success(request, _("The merge was undone: the merged customers are back with their contacts, "
                                "follow-ups and everything else."))
    if merge.kept_fields:
        labels = ", ".join(str(Customer._meta.get_field(n).verbose_name) for n in merge.kept_fields)
        messages.warning(request, _("These fields were changed after the merge and keep their current value: "
                                    "%(fields)s") % {"fields": labels})
    return redirect(survivor)


urlpatterns = [
    path("duplicates/check/", duplicate_check, name="duplicate_check"),
    path("merge/", customer_merge, name="customer_merge"),
    path("merges/<int:pk>/undo/", customer_merge_undo, name="customer_merge_undo"),
]
