"""Cancel: a batch not yet written is dropped; a running commit is told, through the cache, to roll
back at its next step."""
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from ...models import ImportBatch
from .common import Status, _require_importer


def import_cancel(*, batch, by):
    """Stop a batch: an upload, a check or a checked batch is dropped; a running commit is told to
    stop and rolls back as a whole at its next step (nothing is half written)."""
    _require_importer(by)
    current = ImportBatch.objects.values_list("status", flat=True).get(pk=batch.pk)
    if current == Status.COMMITTING:
        # The commit's transaction holds the batch row: the request goes through the cache.
        from django.core.cache import cache

        cache.set(_cancel_key(batch.pk), True, 3600)
        ImportBatch.objects.filter(pk=batch.pk, status=Status.COMMITTING).update(cancel_requested=True)
        return batch
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.status not in (Status.UPLOADED, Status.PREVIEWING, Status.PREVIEWED, Status.FAILED):
            raise ValidationError(_("This import has finished and cannot be cancelled; undo it instead."))
        batch.status = Status.CANCELLED
        batch.save(update_fields=["status"])
    return batch


class ImportCancelled(Exception):
    """The importer cancelled a running commit; its transaction is rolled back."""


def _cancel_key(batch_id):
    return f"crm:import:{batch_id}:cancel"


def _stop_if_cancelled(batch):
    """Between the steps of a commit: roll it back if the importer pressed cancel."""
    from django.core.cache import cache

    if cache.get(_cancel_key(batch.pk)):
        raise ImportCancelled
