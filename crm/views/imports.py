"""The import flow for the IT persona: upload → sheet and mapping → check (on a worker) → choose the
duplicate policy and owners → import (on a worker, with progress and cancel) → result, error report
and undo. Every page of a batch is a 404 to anyone who may not open it."""
import os
import tempfile
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRefresh

from accounts.capabilities import Capability, Module
from accounts.grants import teams_within_scope
from accounts.permissions import capability_required

from .. import selectors
from ..forms_imports import ImportCommitForm, ImportMappingForm, ImportUndoForm, ImportUploadForm
from ..imports.template import template_workbook
from ..lib import inputs
from ..lib.xlsx import xlsx_response
from ..models import ImportBatch, ImportRow
from ..services import imports as services

importer_required = capability_required(Capability.IMPORT_DATA)


def batch_view(view):
    """Look the batch up first: one the user may not open is a 404 (a rep without the import
    capability included), so its existence is never revealed."""
    @login_required
    @wraps(view)
    def wrapped(request, pk, *args, **kwargs):
        batch = selectors.import_batch_for(request.user, pk)
        return view(request, batch, *args, **kwargs)

    return wrapped


def _message(exc):
    return " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)


@never_cache
@importer_required
def import_list(request):
    """Upload a file, and the history of imports."""
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        suffix = os.path.splitext(upload.name)[1][:8]
        with tempfile.NamedTemporaryFile(suffix=suffix) as handle:
            for chunk in upload.chunks():
                handle.write(chunk)
            handle.flush()
            try:
                batch = services.import_upload(by=request.user, path=handle.name, file_name=upload.name)
                if form.cleaned_data["mapping"]:
                    batch = services.import_configure(batch=batch, by=request.user,
                                                      mapping_name=form.cleaned_data["mapping"].name)
            except (services.ImportFileError, ValidationError) as exc:
                form.add_error("file", _message(exc))
            else:
                return redirect(batch)
    batches = selectors.import_batches_for(request.user)[:50]
    return render(request, "crm/imports/list.html", {"form": form, "batches": batches},
                  status=422 if form.errors else 200)


@never_cache
@importer_required
def import_template(request):
    """An empty .xlsx with the headings, picklist dropdowns and an example row."""
    return xlsx_response(template_workbook(), _("customer-import-template.xlsx"))


@never_cache
@batch_view
def import_detail(request, batch):
    """The batch at whatever step it is."""
    context = {"batch": batch, "progress": services.progress_of(batch)}
    if batch.status in (ImportBatch.Status.UPLOADED, ImportBatch.Status.FAILED):
        context.update(_mapping_context(batch, ImportMappingForm(batch=batch)))
    elif batch.status == ImportBatch.Status.PREVIEWED:
        context["commit_form"] = _commit_form(request, batch)
        context["rows"], context["next_after"] = selectors.import_rows_page(request.user, batch)
        context["verdicts"] = ImportRow.Verdict.choices
    elif batch.status in (ImportBatch.Status.DONE, ImportBatch.Status.UNDONE, ImportBatch.Status.PARTLY_UNDONE):
        first = ImportRow.Verdict.ERROR if (batch.counts or {}).get("errors") else selectors.WARNINGS
        context["rows"], context["next_after"] = selectors.import_rows_page(request.user, batch, verdict=first)
        context["verdict"] = first
        context["search_pending"] = selectors.import_search_pending(batch)
        context["undo_left"] = selectors.import_undo_left(request.user, batch)
    if request.htmx and request.htmx.target == "import-progress":
        if batch.status not in (ImportBatch.Status.PREVIEWING, ImportBatch.Status.COMMITTING,
                                ImportBatch.Status.UNDOING):
            return HttpResponseClientRefresh()  # the step is over: show the whole page of the next one
        return render(request, "crm/imports/detail.html#progress", context)
    return render(request, "crm/imports/detail.html", context)


_CONFIDENCE = {"high": _lazy("High confidence"), "medium": _lazy("Medium confidence"),
               "low": _lazy("Low confidence")}


def _mapping_context(batch, form):
    """The mapping form with, per column, three of its values and, while the column keeps the field
    the upload guessed, how sure that guess is; a column mapped to no field says "not imported", so
    none is left out unseen."""
    from ..imports.guess import column_values

    sample = _first_rows(batch)
    columns = []
    for index, field in enumerate(form.column_fields):
        chosen = field.value() or ""
        guessed, confidence = (batch.guesses or {}).get(str(index)) or ("", "")
        columns.append({
            "field": field, "samples": column_values(sample, index, limit=3), "imported": bool(chosen),
            "confidence": confidence if chosen and chosen == guessed else "",
            "confidence_label": _CONFIDENCE.get(confidence, "") if chosen and chosen == guessed else "",
        })
    return {"batch": batch, "form": form, "columns": columns}


def _first_rows(batch, count=50):
    """The first data rows of the chosen sheet (not sections, totals or repeated headings)."""
    from ..imports import layout
    from ..imports.read import ImportFileError, open_workbook

    rows, header = [], None
    mapping = {int(i): key for i, key in batch.mapping.items()}
    try:
        with open_workbook(batch.file.path, filename=batch.file_name) as book:
            for index, row in enumerate(book.rows(batch.sheet)):
                if batch.header_row is not None and index <= batch.header_row:
                    header = row
                    continue
                if header is not None and layout.classify(row, header, mapping) != layout.ROW_DATA:
                    continue
                rows.append([services._shown(v) for v in row[: len(batch.headings)]])
                if len(rows) >= count:
                    break
    except (ImportFileError, OSError):
        return []
    return rows


@never_cache
@batch_view
def import_rows(request, batch):
    """More rows of the check, by verdict (htmx partial)."""
    verdict = request.GET.get("verdict", "")
    if verdict not in ImportRow.Verdict.values and verdict != selectors.WARNINGS:
        verdict = ""
    after = inputs.query_int(request.GET, "after", minimum=0) or 0  # 400 for a row number that is none
    rows, next_after = selectors.import_rows_page(request.user, batch, verdict=verdict, after=after)
    return render(request, "crm/imports/detail.html#rows",
                  {"batch": batch, "rows": rows, "next_after": next_after, "verdict": verdict})


@require_POST
@batch_view
def import_configure(request, batch):
    """Another sheet or heading row finds the header again (and the page shows the new columns);
    otherwise the mapping is kept, saved under a name if asked, and with "check" the rows are checked."""
    form = ImportMappingForm(request.POST, batch=batch)
    if not form.is_valid():
        # The columns again with the form's errors, whatever step the batch is at (a checked one too).
        return render(request, "crm/imports/detail.html", {**_mapping_context(batch, form), "remapping": True},
                      status=422)
    data = form.cleaned_data
    try:
        if data["sheet"] != batch.sheet:
            services.import_configure(batch=batch, by=request.user, sheet=data["sheet"])
        elif data["header_row"] - 1 != batch.header_row:
            services.import_configure(batch=batch, by=request.user, header_row=data["header_row"] - 1,
                                      tier_words=data["tier_words"])
        else:
            services.import_configure(batch=batch, by=request.user, mapping=form.mapping(),
                                      tier_words=data["tier_words"])
            if data["save_as"]:
                services.import_mapping_save(batch=batch, by=request.user, name=data["save_as"])
                messages.success(request, _("Mapping “%(name)s” saved.") % {"name": data["save_as"]})
            if "check" in request.POST:
                services.import_request_preview(batch=batch, by=request.user)
    except (ValidationError, services.ImportFileError) as exc:
        form.add_error(None, _message(exc))
        return render(request, "crm/imports/detail.html", {**_mapping_context(batch, form), "remapping": True},
                      status=422)
    return redirect(batch)


def _commit_form(request, batch, data=None):
    return ImportCommitForm(data, owner_choices=selectors.assignable_choices(request.user),
                            teams=_import_teams(request.user), unknown=(batch.counts or {}).get("unknown_values"),
                            value_choices=batch.value_choices)


def _import_teams(user):
    """The teams an importer may give customers without an owner to: those within their scope."""
    return teams_within_scope(user, Module.CUSTOMERS)


@require_POST
@batch_view
def import_commit(request, batch):
    form = _commit_form(request, batch, data=request.POST)
    if form.is_valid():
        data = form.cleaned_data
        owner = None
        if data["default_owner"]:
            owner = selectors.assignable_users(request.user).filter(pk=data["default_owner"]).first()
            if owner is None:
                form.add_error("default_owner", ValidationError(_("Choose someone you may give customers to.")))
        if not form.errors:
            try:
                services.import_request_commit(
                    batch=batch, by=request.user, policy=data["policy"], unknown_owner=data["unknown_owner"],
                    default_owner=owner, team=data["team"], pool=data["pool"],
                    value_choices=form.value_choices())
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                return redirect(batch)
    rows, next_after = selectors.import_rows_page(request.user, batch)
    return render(request, "crm/imports/detail.html",
                  {"batch": batch, "commit_form": form, "rows": rows, "next_after": next_after,
                   "verdicts": ImportRow.Verdict.choices}, status=422)


def _batch_action(service):
    """A POST that runs `service(batch=…, by=…)` on the batch and shows its page again; a refusal
    (the batch is past that step) is said in a message."""
    @require_POST
    @batch_view
    def action(request, batch):
        try:
            service(batch=batch, by=request.user)
        except ValidationError as exc:
            messages.error(request, _message(exc))
        return redirect(batch)

    return action


import_cancel = _batch_action(services.import_cancel)
import_reopen = _batch_action(services.import_reopen)  # back to the columns, e.g. after a picklist fix


@require_POST
@batch_view
def import_undo(request, batch):
    """Undo a finished import, or run a partly undone one's undo again (optionally over the edits
    made since, as the importer decides)."""
    form = ImportUndoForm(request.POST)
    form.is_valid()  # a lone optional checkbox: never invalid
    try:
        services.import_request_undo(batch=batch, by=request.user,
                                     include_edited=form.cleaned_data.get("include_edited", False))
    except ValidationError as exc:
        messages.error(request, _message(exc))
    return redirect(batch)


@never_cache
@batch_view
def import_error_report(request, batch):
    if not batch.error_report:
        raise Http404
    stem = os.path.splitext(batch.file_name)[0]
    return xlsx_response(batch.error_report.open("rb"), _("%(file)s-errors.xlsx") % {"file": stem})


urlpatterns = [
    path("imports/", import_list, name="import_list"),
    path("imports/template.xlsx", import_template, name="import_template"),
    path("imports/<int:pk>/", import_detail, name="import_detail"),
    path("imports/<int:pk>/rows/", import_rows, name="import_rows"),
    path("imports/<int:pk>/configure/", import_configure, name="import_configure"),
    path("imports/<int:pk>/commit/", import_commit, name="import_commit"),
    path("imports/<int:pk>/cancel/", import_cancel, name="import_cancel"),
    path("imports/<int:pk>/undo/", import_undo, name="import_undo"),
    path("imports/<int:pk>/reopen/", import_reopen, name="import_reopen"),
    path("imports/<int:pk>/errors.xlsx", import_error_report, name="import_error_report"),
]
