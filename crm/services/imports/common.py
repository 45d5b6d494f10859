"""What several steps of an import share: who may import and change a batch, the limits, the
progress count the progress bar reads, and the hold on the search index during a large write."""
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from accounts.access import user_access
from accounts.capabilities import Capability

from ...models import ImportBatch, ImportRow

Status = ImportBatch.Status
Verdict = ImportRow.Verdict


def _require_importer(user):
    if not user_access(user).has(Capability.IMPORT_DATA):
        raise PermissionDenied


def _require_batch_editable(batch, by):
    _require_importer(by)
    if batch.status not in (Status.UPLOADED, Status.PREVIEWED, Status.FAILED):
        raise ValidationError(_("This import can no longer be changed."))


def _limits():
    return settings.CRM_IMPORT_MAX_BYTES, settings.CRM_IMPORT_MAX_ROWS


def _progress(batch, done, *, add=False):
    """Rows done so far (or `add` more done), kept outside the running transaction so the progress
    bar sees it; the processes that check one batch add to the same count."""
    from django.core.cache import cache

    key = f"crm:import:{batch.pk}:progress"
    if add:
        try:
            cache.incr(key, done)
            return
        except ValueError:  # expired meanwhile
            pass
    cache.set(key, done, 3600)


def progress_of(batch):
    """Rows the batch's running check or commit has done so far (for its progress bar)."""
    from django.core.cache import cache

    return cache.get(f"crm:import:{batch.pk}:progress", 0)


def _search_texts_pending(cursor):
    """New search texts of this transaction wait in the trigram index's pending list, where searches
    already find them, instead of being merged into the index again and again during a large write
    (with the default 4 MB list that cost a quarter of a millisecond per customer); the caller sees
    that a worker merges them in one pass after the commit."""
    cursor.execute("SET LOCAL gin_pending_list_limit = '1GB'")
