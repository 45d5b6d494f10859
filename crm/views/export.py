"""Customer-list exports: start one from the list's query string, follow a background one, download it."""
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.cache import never_cache

from accounts.capabilities import Capability, Module
from accounts.permissions import capability_required

from .. import selectors
from ..lib.xlsx import xlsx_response
from ..services.export import export_filename, export_start

export_required = capability_required(Capability.EXPORT_DATA, module=Module.CUSTOMERS)


@never_cache
@export_required
def customer_export(request):
    """GET with the customer list's query string: the file now, or the status page of a queued export."""
    try:
        started = export_start(user=request.user, params=request.GET)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(reverse("crm:customer_list") + "?" + request.GET.urlencode())
    if started.export is not None:
        return redirect("crm:export_status", started.export.pk)
    return xlsx_response(started.file, started.filename, ascii_name="customers")


@never_cache
@export_required
def export_status(request, export_pk):
    """The progress of one of the user's exports; htmx polls the progress partial every second."""
    export = selectors.export_for(request.user, export_pk)
    template = "crm/export/status.html#progress" if request.htmx else "crm/export/status.html"
    return render(request, template, {"export": export})


@never_cache
@export_required
def export_download(request, export_pk):
    """The finished file, streamed to its owner only (never a public media URL)."""
    export = selectors.export_for(request.user, export_pk)
    if export.status != export.Status.DONE or not export.file:
        raise Http404
    try:
        file = export.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    return xlsx_response(file, export_filename(request.user, export.created_at), ascii_name="customers")


@export_required
def export_list(request):
    return render(request, "crm/export/list.html", {"exports": selectors.exports_of(request.user)})


urlpatterns = [
    path("export/", customer_export, name="customer_export"),
    path("exports/", export_list, name="export_list"),
    # Keyed by the export (never a customer): someone else's is a 404.
    path("exports/<int:export_pk>/", export_status, name="export_status"),
    path("exports/<int:export_pk>/download/", export_download, name="export_download"),
]
