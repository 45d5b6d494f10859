"""Import a legacy customer list from the command line, for IT scripts: the same reading, cleaning,
verdicts, policy and error report as the web flow, run in this process.

    manage.py import_customers FILE --user it [--sheet NAME] [--header-row N] [--mapping NAME]
                               [--policy skip|fill|overwrite] [--owner USERNAME] [--team ID] [--pool ID] [--dry-run]

Like the browser, it refuses a sheet without a heading row or without a column for the customer's name
before reading its rows, and says so of a sheet that has headings but no data rows. Messages are in
the importer's language.
"""
import contextlib
import json
import time

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.models import Team, User
from crm.imports.read import ImportFileError, open_workbook
from crm.models import ImportBatch, ImportPolicy, Pool
from crm.services.imports.cancel import import_cancel
from crm.services.imports.check import import_preview, import_require_checkable
from crm.services.imports.commit import import_commit, import_search_fill
from crm.services.imports.configure import import_configure
from crm.services.imports.upload import import_upload


def _wal_position():
    """The server's write-ahead log position in bytes (0 where the server does not say, e.g. a replica)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')")
            return int(cursor.fetchone()[0])
    except DatabaseError:
        return 0


class Command(BaseCommand):
    help = "Import customers from an .xlsx, .xls or .csv file (see --help); --dry-run stops after the check."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--user", required=True, help="username of the importer (needs the import capability)")
        parser.add_argument("--sheet", help="the sheet to read (default: the first with a customer-name column)")
        parser.add_argument("--header-row", type=int, metavar="N",
                            help="the row that holds the column headings, numbered from 1 as the spreadsheet "
                                 "shows it (default: found by itself, as in the browser)")
        parser.add_argument("--mapping", help="a saved column mapping, by name")
        parser.add_argument("--policy", choices=ImportPolicy.values, default=ImportPolicy.SKIP,
                            help="what to do with customers that exist already (default: skip)")
        parser.add_argument("--owner", help="username given the customers whose owner is unknown or missing "
                                            "(default: they go to the pool)")
        parser.add_argument("--team", type=int, help="team id for customers without an owner")
        parser.add_argument("--pool", type=int, help="pool id for customers without an owner")
        parser.add_argument("--dry-run", action="store_true", help="check and report, write nothing")
        parser.add_argument("--timings", help="write the time and database round trips of each step, as JSON, "
                                              "to this file (for the benchmark)")

    def handle(self, *args, user, **options):
        by = _get(User, username=user)
        with translation.override(getattr(by, "preferred_language", "") or settings.LANGUAGE_CODE):
            self.run(by, **options)

    def run(self, by, *, file, sheet, header_row, mapping, policy, owner, team, pool, dry_run, timings, **options):
        default_owner = _get(User, username=owner) if owner else None
        if header_row is not None and header_row < 1:
            raise CommandError(_("--header-row counts rows from 1, as the spreadsheet numbers them."))
        self.steps = {}
        batch = None
        try:
            with contextlib.ExitStack() as stack:
                with self.step("upload"):
                    # Opened once: the check reads the sheet the upload has already parsed.
                    book = stack.enter_context(open_workbook(file, max_bytes=settings.CRM_IMPORT_MAX_BYTES))
                    batch = import_upload(by=by, path=file, file_name=file, book=book)
                    if sheet or mapping or header_row:
                        batch = import_configure(batch=batch, by=by, sheet=sheet, mapping_name=mapping or "",
                                                 header_row=header_row - 1 if header_row else None)
                    # What the browser refuses before its check: no heading row, no column for the name.
                    import_require_checkable(batch)
                with self.step("check"):
                    batch = import_preview(batch.pk, book=book)
        except (ImportFileError, ValidationError, OSError) as exc:
            if batch is not None:
                import_cancel(batch=batch, by=by)  # a refused sheet leaves no batch waiting in the browser
            raise CommandError(_message(exc)) from exc
        except PermissionDenied as exc:
            raise CommandError(_("%(user)s may not import data.") % {"user": by.username}) from exc
        if batch.status == ImportBatch.Status.FAILED:
            raise CommandError(batch.error)
        if not batch.counts.get("data"):
            import_cancel(batch=batch, by=by)
            raise CommandError(_("The sheet “%(sheet)s” has its headings (row %(row)d) but no data rows: there is "
                                 "nothing to import.") % {"sheet": batch.sheet, "row": batch.header_row + 1})
        self.report(batch, "checked")
        if dry_run:
            return
        batch.policy = policy
        batch.unknown_owner = ImportBatch.UnknownOwner.DEFAULT if default_owner else ImportBatch.UnknownOwner.POOL
        batch.default_owner = default_owner
        batch.team = _get(Team, pk=team) if team else None
        batch.pool = _get(Pool, pk=pool) if pool else None
        batch.status = ImportBatch.Status.COMMITTING
        batch.save()
        with self.step("commit"):
            batch = import_commit(batch.pk, by_id=by.pk)
        if batch.status == ImportBatch.Status.FAILED:
            raise CommandError(batch.error)
        # A worker would write the new customers' search rows after the commit; a script does it here.
        with self.step("search_index"):
            import_search_fill(batch.pk)
        self.report(batch, "imported")
        if timings:
            with open(timings, "w") as handle:
                json.dump({"batch": batch.pk, "counts": batch.counts, "steps": self.steps}, handle)

    @contextlib.contextmanager
    def step(self, name):
        """Time one step, count its database round trips and the write-ahead log it made (the
        server's, so other sessions' writes meanwhile count too)."""
        wal = _wal_position()
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as captured:
            yield
        self.steps[name] = {"seconds": round(time.perf_counter() - started, 3), "round_trips": len(captured),
                            "wal_mb": round((_wal_position() - wal) / 2**20, 1)}

    def report(self, batch, stage):
        counts = batch.counts
        self.stdout.write(f"batch {batch.pk} ({batch.file_name}, sheet {batch.sheet!r}) {stage}:")
        order = ("data", "new", "existing", "in_file", "error", "warnings", "created", "updated", "unchanged",
                 "merged_in_file", "skipped", "errors", "with_warnings", "entries_added", "title", "blank", "header",
                 "hint", "section", "total")
        for key in order:
            if key in counts:
                self.stdout.write(f"  {key:<15}{counts[key]:>10,}")
        if batch.error_report:
            self.stdout.write(f"  error report: {batch.error_report.path}")


def _get(model, **lookup):
    try:
        return model.objects.get(**lookup)
    except model.DoesNotExist as exc:
        raise CommandError(f"No {model._meta.verbose_name} with {lookup}.") from exc


def _message(exc):
    return " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
