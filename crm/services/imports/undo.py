"""Undo: what a batch created is removed and what it changed restored, in one transaction, but for
the customers edited or linked to since, which are listed as conflicts."""
import json

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User

from ...lib.audit import audited, delete_recorded, flush_deferred_checks, trigger_ignored, triggers_skipped
from ...lib.queue import enqueue_on_commit
from ...models import Contact, Customer, CustomerSearch, ImportBatch, ImportRecord, ImportRow
from .common import Status, _require_importer, _search_texts_pending


def import_request_undo(*, batch, by):
    """Queue the undo of a finished batch."""
    from ... import tasks

    _require_importer(by)
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.status != Status.DONE:
            raise ValidationError(_("Only a finished import can be undone."))
        batch.status = Status.UNDOING
        batch.save(update_fields=["status"])
        enqueue_on_commit(tasks.import_undo, batch_id=batch.pk, by_id=by.pk)
    return batch


def import_undo(batch_id, *, by_id):
    """(worker) Remove the customers the batch created and restore the ones it changed, in one
    transaction. A customer edited since (its version moved on), or one that has gained follow-ups or
    other records, is left as it is and listed in `conflicts`. Safe to run twice."""
    by = User.objects.get(pk=by_id)
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().get(pk=batch_id)
        if batch.status not in (Status.DONE, Status.UNDOING):
            return batch
        with audited(by, "customer_import_undo", import_batch=batch.pk):
            conflicts = _undo_rows(batch)
        batch.status, batch.undone_at, batch.undone_by, batch.conflicts = Status.UNDONE, timezone.now(), by, conflicts
        batch.save(update_fields=["status", "undone_at", "undone_by", "conflicts"])
    return batch


def _merge_search_index_later(cursor):
    """_search_texts_pending, with the merge queued for after the commit."""
    from ...tasks import customers_search_index_merge

    _search_texts_pending(cursor)
    enqueue_on_commit(customers_search_index_merge)


def _blocking_relations():
    """(model, table, column) of every table that points at a customer and whose rows undo must not
    delete silently (follow-ups, merges, later areas' records). Contacts and pool events go with the
    customer; the audit trail stays, it is history."""
    import pghistory.models

    from ...models import ImportRawValue, PoolEvent

    ours = {Contact, ImportRow, ImportRecord, ImportRawValue, PoolEvent}
    found = []
    for relation in Customer._meta.related_objects:
        model = relation.related_model
        if model in ours or issubclass(model, pghistory.models.Event) or not relation.field.concrete:
            continue
        found.append((model, model._meta.db_table, relation.field.column))
    return found


def _undo_rows(batch):
    """Undo the batch's records but those of conflicting customers; returns the conflicts by id."""
    records = ImportRecord._meta.db_table
    with connection.cursor() as cursor:
        _merge_search_index_later(cursor)
        conflicts = _undo_conflicts(cursor, batch)
        blocked = list(conflicts) or [0]
        _remove_created(cursor, batch, blocked)
        cursor.execute(f"""
            SELECT rec.customer_id, rec.before FROM {records} rec
            WHERE rec.batch_id = %s AND rec.action = 'updated' AND rec.customer_id <> ALL(%s)""", [batch.pk, blocked])
        restore = cursor.fetchall()
        flush_deferred_checks(cursor)  # the restore fires row triggers
        _restore(cursor, restore)
    return sorted(conflicts.values(), key=lambda c: c["id"])


def _undo_conflicts(cursor, batch):
    """{customer id: conflict} of the batch's customers that undo leaves alone: edited (or merged)
    since the import, or, for the ones it created, linked to since by a record undo must not delete."""
    records, customers = ImportRecord._meta.db_table, Customer._meta.db_table
    conflicts = {}
    cursor.execute(f"""
            SELECT rec.customer_id, c.name FROM {records} rec JOIN {customers} c ON c.id = rec.customer_id
            WHERE rec.batch_id = %s AND (c.version <> rec.version OR c.merged_into_id IS NOT NULL)""", [batch.pk])
    for pk, name in cursor.fetchall():
        conflicts[pk] = {"id": pk, "name": name, "why": "edited"}
    for _model, table, column in _blocking_relations():
        cursor.execute(f"""
                SELECT DISTINCT rec.customer_id, c.name FROM {records} rec
                JOIN {table} t ON t.{column} = rec.customer_id JOIN {customers} c ON c.id = rec.customer_id
                WHERE rec.batch_id = %s AND rec.action = 'created'""", [batch.pk])
        for pk, name in cursor.fetchall():
            conflicts.setdefault(pk, {"id": pk, "name": name, "why": "linked"})
    return conflicts


def _remove_created(cursor, batch, blocked):
    """Delete the customers the batch created but the `blocked` ones, with their contacts, pool
    events and search rows, a statement each."""
    from ...models import ImportRawValue, PoolEvent

    records, customers, contacts = ImportRecord._meta.db_table, Customer._meta.db_table, Contact._meta.db_table
    cursor.execute(f"""
            CREATE TEMP TABLE import_undo_created ON COMMIT DROP AS
            SELECT customer_id AS id FROM {records}
            WHERE batch_id = %s AND action = 'created' AND customer_id <> ALL(%s)""", [batch.pk, blocked])
    # The removed contacts and customers leave their history events, written with each DELETE
    # (delete_recorded), not by a trigger per row.
    with trigger_ignored(Contact, operation="delete"):
        delete_recorded(Contact, f"DELETE FROM {contacts} WHERE customer_id IN (SELECT id FROM import_undo_created)",
                        [], cursor)
    cursor.execute(f"DELETE FROM {PoolEvent._meta.db_table} WHERE customer_id IN (SELECT id FROM import_undo_created)")
    # The cells kept beside customers: this batch's of those it undoes, any batch's of those removed.
    cursor.execute(f"DELETE FROM {ImportRawValue._meta.db_table} WHERE (batch_id = %s AND customer_id <> ALL(%s)) "
                   "OR customer_id IN (SELECT id FROM import_undo_created)", [batch.pk, blocked])
    # Their search rows in one statement, not by the copy trigger once per customer.
    cursor.execute(f"DELETE FROM {CustomerSearch._meta.db_table} "
                   "WHERE customer_id IN (SELECT id FROM import_undo_created)")
    with trigger_ignored(Customer, operation="delete"), triggers_skipped("crm.Customer:search_copy_delete"):
        delete_recorded(Customer, f"DELETE FROM {customers} WHERE id IN (SELECT id FROM import_undo_created)",
                        [], cursor)


def _restore(cursor, restore):
    """Put back the fields an import changed, grouped by the set of fields so each group is one UPDATE."""
    customers = Customer._meta.db_table
    groups = {}
    for pk, before in restore:
        before = json.loads(before) if isinstance(before, str) else before
        groups.setdefault(tuple(sorted(before)), []).append((pk, before))
    for columns, items in groups.items():
        if not columns:
            continue
        values = ", ".join(f"{column} = (v.earlier).{column}" for column in columns)
        # Each customer's earlier values are read into a record once (MATERIALIZED keeps the planner
        # from repeating the conversion for every column).
        cursor.execute(f"""
            WITH v AS MATERIALIZED (
                SELECT (x->>'id')::bigint AS id, jsonb_populate_record(NULL::{customers}, x->'before') AS earlier
                FROM jsonb_array_elements(%s::jsonb) x)
            UPDATE {customers} c SET {values}, version = c.version + 1, updated_at = now()
            FROM v WHERE c.id = v.id""", [json.dumps([{"id": pk, "before": before} for pk, before in items],
                                              ensure_ascii=False)])
    if restore:
        from ..customers import customers_refresh_search

        customers_refresh_search([pk for pk, _before in restore])
