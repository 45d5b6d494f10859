"""Undo: what a batch created is removed and what it changed restored, in one transaction, but for
the customers edited, merged or linked to since, which are listed as conflicts; such a batch is
partly undone and its undo may be run again."""
import json

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.access import editable
from accounts.models import User

from ...lib.audit import audited, delete_recorded, flush_deferred_checks, trigger_ignored, triggers_skipped
from ...lib.queue import enqueue_on_commit
from ...models import Contact, Customer, CustomerSearch, ImportBatch, ImportRecord, ImportRow
from .common import Status, _require_importer, _search_texts_pending


def import_request_undo(*, batch, by, include_edited=False):
    """Queue the undo of a finished batch, or again of a partly undone one. With `include_edited`
    the customers edited since the import are undone too (the importer has decided so); customers
    merged or linked to since are still left alone."""
    from ... import tasks

    _require_importer(by)
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.status not in (Status.DONE, Status.PARTLY_UNDONE):
            raise ValidationError(_("Only a finished import can be undone."))
        batch.status = Status.UNDOING
        batch.save(update_fields=["status"])
        enqueue_on_commit(tasks.import_undo, batch_id=batch.pk, by_id=by.pk, include_edited=include_edited)
    return batch


def import_undo(batch_id, *, by_id, include_edited=False):
    """(worker) Remove the customers the batch created and restore the ones it changed, in one
    transaction, but for the records whose customer was edited since (by a person, or by an import
    that has not been undone), merged, or, for a created one, linked to by follow-ups, deals or other
    records: those are left as they are and listed in `conflicts`, each with why. The batch is
    undone when nothing is left, else partly undone, and its undo can be run again: it applies the
    records left then that it now can. Each record's undo is marked on it, so a record is never
    undone twice and an earlier import's undo does not take this one's changes for an edit. Safe
    to run twice."""
    by = User.objects.get(pk=by_id)
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().get(pk=batch_id)
        if batch.status not in (Status.DONE, Status.UNDOING):
            return batch
        with audited(by, "customer_import_undo", import_batch=batch.pk):
            conflicts = _undo_rows(batch, by=by, include_edited=include_edited)
        batch.status = Status.PARTLY_UNDONE if conflicts else Status.UNDONE
        batch.undone_at, batch.undone_by, batch.conflicts = timezone.now(), by, conflicts
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


def _undo_rows(batch, *, by, include_edited=False):
    """Undo the batch's records not undone yet but those of conflicting customers, and mark them
    undone; returns the conflicts by id."""
    records = ImportRecord._meta.db_table
    with connection.cursor() as cursor:
        _merge_search_index_later(cursor)
        conflicts = _undo_conflicts(cursor, batch, by=by, include_edited=include_edited)
        blocked = list(conflicts) or [0]
        _remove_created(cursor, batch, blocked)
        cursor.execute(f"""
            SELECT rec.customer_id, rec.before FROM {records} rec
            WHERE rec.batch_id = %s AND rec.action = 'updated' AND rec.undone_at IS NULL
              AND rec.customer_id <> ALL(%s)""", [batch.pk, blocked])
        restore = cursor.fetchall()
        flush_deferred_checks(cursor)  # the restore fires row triggers
        _restore(cursor, restore)
        _mark_undone(cursor, batch, blocked)
    return sorted(conflicts.values(), key=lambda c: c["id"])


def _mark_undone(cursor, batch, blocked):
    """Mark the batch's records but the `blocked` ones undone, a restored customer's with its
    version after the restore (what an earlier import's undo expects to find, see _undo_conflicts)."""
    records, customers = ImportRecord._meta.db_table, Customer._meta.db_table
    cursor.execute(f"""
        UPDATE {records} rec SET undone_at = now(), undone_version = (
            SELECT c.version FROM {customers} c WHERE c.id = rec.customer_id AND rec.action = 'updated')
        WHERE rec.batch_id = %s AND rec.undone_at IS NULL AND rec.customer_id <> ALL(%s)""", [batch.pk, blocked])


def _undo_conflicts(cursor, batch, *, by, include_edited=False):
    """{customer id: conflict} of the batch's records not undone yet whose customer undo leaves
    alone: merged since; edited since (with `include_edited`, only those `by` may not change: undoing
    over an edit is a write like any other); or, for one it created, linked to
    since by a record undo must not delete. A conflict is {"id", "name", "why": "merged", "edited"
    or "linked", "by" and "at" of the last edit when known, "relations": the models linking to it}.

    Edited since: the customer's version is not the one the import left, nor the one the undo of a
    later import gave it back, the later import having changed it from exactly that version (and so
    on along the chain). An import undone since is no edit; a person's edit, or an import not
    undone, is."""
    records, customers = ImportRecord._meta.db_table, Customer._meta.db_table
    conflicts = {}
    cursor.execute(f"""
        SELECT rec.customer_id, c.name FROM {records} rec JOIN {customers} c ON c.id = rec.customer_id
        WHERE rec.batch_id = %s AND rec.undone_at IS NULL AND c.merged_into_id IS NOT NULL""", [batch.pk])
    for pk, name in cursor.fetchall():
        conflicts[pk] = {"id": pk, "name": name, "why": "merged"}
    # Edited since: with `include_edited`, left only where `by` may not change the customer.
    cursor.execute(f"""
        WITH RECURSIVE suspects AS MATERIALIZED (
            -- Only a customer whose version is not the one this import left can have been edited: the
            -- chain below is walked for those alone (on 100,000 records it took minutes for all).
            SELECT rec.customer_id, rec.version, c.version AS now, c.name
            FROM {records} rec JOIN {customers} c ON c.id = rec.customer_id
            WHERE rec.batch_id = %s AND rec.undone_at IS NULL AND c.version <> rec.version
        ), chain(customer_id, v) AS (
            SELECT customer_id, version FROM suspects
          UNION
            SELECT chain.customer_id, later.undone_version FROM chain
            JOIN {records} later ON later.customer_id = chain.customer_id AND later.undone_version IS NOT NULL
             AND later.action = 'updated' AND later.version = chain.v + 1)
        SELECT s.customer_id, s.name FROM suspects s
        WHERE NOT EXISTS (SELECT 1 FROM chain WHERE chain.customer_id = s.customer_id AND chain.v = s.now)""",
                   [batch.pk])
    edited = dict(cursor.fetchall())
    if include_edited and edited:
        for pk in editable(by, Customer.objects.filter(pk__in=list(edited))).values_list("pk", flat=True):
            del edited[pk]
    for pk, name in edited.items():
        conflicts.setdefault(pk, {"id": pk, "name": name, "why": "edited"})
    _last_edits(cursor, batch, [pk for pk, c in conflicts.items() if c["why"] == "edited"], conflicts)
    for model, table, column in _blocking_relations():
        cursor.execute(f"""
                SELECT DISTINCT rec.customer_id, c.name FROM {records} rec
                JOIN {table} t ON t.{column} = rec.customer_id JOIN {customers} c ON c.id = rec.customer_id
                WHERE rec.batch_id = %s AND rec.action = 'created' AND rec.undone_at IS NULL""", [batch.pk])
        for pk, name in cursor.fetchall():
            found = conflicts.setdefault(pk, {"id": pk, "name": name, "why": "linked"})
            found.setdefault("relations", []).append(model._meta.label_lower)
    return conflicts


def _last_edits(cursor, batch, ids, conflicts):
    """Note on each of the `ids` conflicts who last changed the customer and when: its newest
    history event that is not of this batch nor of an import undone since."""
    if not ids:
        return
    from ...lib.audit import event_model

    events, records = event_model(Customer)._meta.db_table, ImportRecord._meta.db_table
    cursor.execute(f"""
        SELECT DISTINCT ON (e.pgh_obj_id) e.pgh_obj_id, e.pgh_created_at,
            COALESCE(NULLIF(u.display_name, ''), u.username)
        FROM {events} e
        LEFT JOIN pghistory_context ctx ON ctx.id = e.pgh_context_id
        LEFT JOIN {User._meta.db_table} u ON u.id = (ctx.metadata->>'user')::bigint
        WHERE e.pgh_obj_id = ANY(%s) AND NOT COALESCE((ctx.metadata->>'import_batch')::bigint = %s OR EXISTS (
            SELECT 1 FROM {records} r2 WHERE r2.customer_id = e.pgh_obj_id AND r2.undone_at IS NOT NULL
              AND r2.batch_id = (ctx.metadata->>'import_batch')::bigint), false)
        ORDER BY e.pgh_obj_id, e.pgh_created_at DESC, e.pgh_id DESC""", [ids, batch.pk])
    for pk, at, name in cursor.fetchall():
        conflicts[pk].update({"at": at.isoformat(), "by": name})


def _remove_created(cursor, batch, blocked):
    """Delete the customers the batch created but the `blocked` ones, with their contacts, pool
    events and search rows, a statement each."""
    from ...models import ImportRawValue, PoolEvent

    records, customers, contacts = ImportRecord._meta.db_table, Customer._meta.db_table, Contact._meta.db_table
    # Dropped first: a second undo in the same transaction (a partly undone batch's again) would find it.
    cursor.execute("DROP TABLE IF EXISTS import_undo_created")
    cursor.execute(f"""
            CREATE TEMP TABLE import_undo_created ON COMMIT DROP AS
            SELECT customer_id AS id FROM {records}
            WHERE batch_id = %s AND action = 'created' AND undone_at IS NULL AND customer_id <> ALL(%s)""",
                   [batch.pk, blocked])
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
