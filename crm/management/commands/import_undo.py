"""Undo an import batch from the command line: `manage.py import_undo BATCH --user it`."""
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from accounts.access import user_access
from accounts.capabilities import Capability
from accounts.models import User
from crm.models import ImportBatch
from crm.services.imports.undo import import_undo


class Command(BaseCommand):
    help = "Remove what an import created and restore what it changed; customers edited since are left alone."

    def add_arguments(self, parser):
        parser.add_argument("batch", type=int)
        parser.add_argument("--user", required=True, help="username of the person undoing it")
        parser.add_argument("--include-edited", action="store_true",
                            help="undo the customers edited since the import too (not merged or linked ones)")

    def handle(self, *args, batch, user, include_edited=False, **options):
        try:
            by = User.objects.get(username=user)
            found = ImportBatch.objects.get(pk=batch)
        except (User.DoesNotExist, ImportBatch.DoesNotExist) as exc:
            raise CommandError(str(exc)) from exc
        if not user_access(by).has(Capability.IMPORT_DATA):
            raise CommandError(_("%(user)s may not import data.") % {"user": by.username})
        if found.status not in (ImportBatch.Status.DONE, ImportBatch.Status.PARTLY_UNDONE, ImportBatch.Status.UNDOING):
            raise CommandError(f"Batch {batch} is {found.get_status_display()}; only a finished import can be undone.")
        found.status = ImportBatch.Status.UNDOING
        found.save(update_fields=["status"])
        found = import_undo(found.pk, by_id=by.pk, include_edited=include_edited)
        self.stdout.write(f"batch {found.pk} {found.status}; {len(found.conflicts)} customers left as they are"
                          f"{':' if found.conflicts else ''}")
        for conflict in found.conflicts:
            detail = ", ".join(filter(None, [conflict.get("by"), conflict.get("at"), *conflict.get("relations", [])]))
            self.stdout.write(f"  #{conflict['id']} {conflict['name']} ({conflict['why']}{': ' if detail else ''}{detail})")
