"""Writing the audit trail (django-pghistory): which models keep a history (`tracked`), who and why on
every event (`audited`), and the events of bulk writes in sets, with the row triggers they replace
skipped. Reading it as the product shows it is crm/history.py."""
import contextlib
import json
import uuid

import pghistory
import pghistory.config
import pghistory.models
import pghistory.runtime
import pgtrigger
import psycopg
from django.db import connection, models, transaction

# Context keys a block's own context takes over from the one around it (the request's URL); who and
# why are each block's own.
_INHERITED = ("url",)


@contextlib.contextmanager
def audited(by, action, **extra):
    """Run a write in a transaction whose history events all say who (`by`, None for the system) and
    why (`action`, plus `extra` such as a reason or an import batch).

    The block gets a history context of its own even inside another one (the request's, or an
    outer service's): pghistory groups every event of nested contexts under the outermost one and
    keeps only its last metadata, so the events of a seed that creates users, then customers, all
    said "user_create"; and a service calling another would lend it its action."""
    metadata = {"user": getattr(by, "pk", None), "action": action, **extra}
    tracker = pghistory.runtime._tracker
    outer = getattr(tracker, "value", None)
    with transaction.atomic():
        if outer is None:
            with pghistory.context(**metadata):
                yield
            return
        inherited = {key: outer.metadata[key] for key in _INHERITED if key in outer.metadata}
        tracker.value = pghistory.runtime.Context(id=uuid.uuid4(), metadata={**inherited, **metadata})
        try:
            yield
        finally:
            tracker.value = outer


def record_inserts(model, where_sql, params, cursor, *, label="insert"):
    """Write the audit events of many rows of `model` in one statement, as its pghistory trigger
    would one by one (same columns, the current pghistory context), for rows written with that
    trigger ignored (`trigger_ignored`). `where_sql` selects the rows of `model`'s table; `label` is
    "insert", or "update" for a snapshot after a change."""
    event_table, listed, context_id = _event_columns(model, cursor)
    cursor.execute(
        f'INSERT INTO "{event_table}" ({listed}, pgh_context_id, pgh_created_at, pgh_label, pgh_obj_id) '
        f'SELECT {listed}, %s, now(), %s, id FROM "{model._meta.db_table}" WHERE {where_sql}',
        [context_id, label, *params])
    return cursor.rowcount


def insert_recorded(model, insert_sql, params, cursor, *, also=()):
    """Run `insert_sql`, an INSERT into `model`'s table (no RETURNING) made with its insert trigger
    ignored (`trigger_ignored`), and write the audit events of the rows it inserts in the same
    statement, from the rows it returns: what record_inserts writes, without reading a large table
    again to find them (a scan of all customers was half of that statement's time). `also`: more
    (sql, params) writes that read the inserted rows as `written`, run in the same statement.
    Returns how many rows were inserted."""
    return _written_recorded(model, insert_sql, params, cursor, label="insert", also=also)


def delete_recorded(model, delete_sql, params, cursor):
    """Run `delete_sql`, a DELETE from `model`'s table (no RETURNING) made with its delete trigger
    skipped (`trigger_ignored(model, operation="delete")`), and write the audit event of every row
    it deletes (the row as it was) in the same statement. Returns how many rows were deleted."""
    return _written_recorded(model, delete_sql, params, cursor, label="delete")


def _written_recorded(model, sql, params, cursor, *, label, also=()):
    event_table, listed, context_id = _event_columns(model, cursor)
    more = "".join(f", also_{i} AS ({also_sql})" for i, (also_sql, _params) in enumerate(also))
    cursor.execute(
        f'WITH written AS ({sql} RETURNING *){more} '
        f'INSERT INTO "{event_table}" ({listed}, pgh_context_id, pgh_created_at, pgh_label, pgh_obj_id) '
        f"SELECT {listed}, %s, now(), %s, id FROM written",
        [*params, *(p for _sql, more_params in also for p in more_params), context_id, label])
    return cursor.rowcount


def _event_columns(model, cursor):
    """(event table, its quoted columns that copy `model`'s, the current pghistory context id)."""
    event = event_model(model)
    columns = [f.column for f in event._meta.concrete_fields if not f.name.startswith("pgh_")]
    return event._meta.db_table, ", ".join(f'"{c}"' for c in columns), _context_id(cursor)


def _context_id(cursor):
    """The id of the current history context, its row written: what a trigger's event would carry.
    A SELECT is not given the context by pghistory (it only prefixes writes), so without this the
    id would be that of the last write, perhaps an outer block's (see `audited`)."""
    current = getattr(pghistory.runtime._tracker, "value", None)
    if current is None:
        cursor.execute("SELECT _pgh_attach_context()")
    else:
        # The settings first (a subquery with volatile functions is run before the outer query).
        cursor.execute("SELECT _pgh_attach_context() FROM (SELECT set_config('pghistory.context_id', %s, true), "
                       "set_config('pghistory.context_metadata', %s, true) OFFSET 0) AS settings",
                       [str(current.id), json.dumps(current.metadata, cls=pghistory.config.json_encoder())])
    (context_id,) = cursor.fetchone()
    return context_id


# Row triggers a bulk write skips: each checks, in its WHEN clause, this transaction-local list
# (",app.Model:trigger name,..."), so a skipped trigger is never called. pgtrigger.ignore() calls the
# trigger function for every row, which reads its own setting inside an exception block (a
# subtransaction per row): 0.65 s of an import's insert of 93,000 customers.
SKIPPED_TRIGGERS = "crm.skipped_triggers"


def _skip_sql(label):
    return f"strpos(coalesce(current_setting('{SKIPPED_TRIGGERS}', true), ''), ',{label},') = 0"


def unless_skipped(label):
    """The condition of a trigger that `triggers_skipped(label)` can turn off; `label` is its
    pgtrigger label, "app.Model:trigger name"."""
    return pgtrigger.Condition(_skip_sql(label))


class ChangedUnlessSkipped(pgtrigger.AnyChange):
    """pghistory's update condition (a tracked field changed) that `triggers_skipped(label)` can
    turn off."""

    def __init__(self, label):
        super().__init__()
        self.label = label

    def resolve(self, model):
        return f"(({super().resolve(model)}) AND {_skip_sql(self.label)})"


@contextlib.contextmanager
def triggers_skipped(*labels):
    """Within the current transaction, the row triggers `labels` (each declared with
    `unless_skipped` or `ChangedUnlessSkipped`) do not fire; the list is put back as it was on
    the way out. A bulk write then does in one statement what they would have done row by row."""
    if not connection.in_atomic_block:
        raise RuntimeError("triggers_skipped() only works inside a transaction (its setting is the transaction's)")
    _require_skippable(labels)
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting(%s, true)", [SKIPPED_TRIGGERS])
        (before,) = cursor.fetchone()
        names = sorted({*filter(None, (before or "").split(",")), *labels})
        cursor.execute("SELECT set_config(%s, %s, true)", [SKIPPED_TRIGGERS, f",{','.join(names)},"])
    try:
        yield
    finally:
        if connection.connection.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS:
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config(%s, %s, true)", [SKIPPED_TRIGGERS, before or ""])


def _require_skippable(labels):
    """A label that names no trigger, or one without the skip condition, is a mistake that would
    otherwise pass silently (the trigger would keep firing)."""
    found = {}
    for model, trigger in pgtrigger.registered(*labels):
        condition = trigger.condition.resolve(model) if trigger.condition else ""
        found[f"{model._meta.label}:{trigger.name}"] = _skip_sql(f"{model._meta.label}:{trigger.name}") in condition
    missing = [label for label in labels if not found.get(label)]
    if missing:
        raise LookupError(f"these triggers cannot be skipped: {', '.join(missing)}")


def trigger_ignored(*models, operation="insert"):
    """Skip the per-row pghistory trigger ("insert", "update" or "delete") of `models`; their events
    are written in one statement by `insert_recorded`, `record_inserts` or `delete_recorded` instead."""
    return triggers_skipped(*(f"{m._meta.label}:{operation}_{operation}" for m in models))


# Columns no event copies: set once when a row is made, or kept by the machinery on every write. A
# seed that backdated the creation time without an event made the next event show it as a change.
UNTRACKED = ("created_at", "updated_at", "version")


def tracked(label, *, skippable=(), exclude=(), parent=None, parent_index="deletions", model_name=None,
            related_name=None, trigger_names=None):
    """pghistory.track() with an event for every insert, update (of a tracked column) and delete of
    the model `label` ("app.Model"), none of the UNTRACKED columns nor `exclude` copied.

    The operations in `skippable` ("insert", "update", "delete") get triggers a bulk write can skip
    (`trigger_ignored`) when it writes their events itself, in one statement. `parent` names the
    foreign key by which the parent's page finds the events (accounts.history.hanging_off): they are
    indexed by it, every one (`parent_index="all"`) or only the deletions (each index costs every
    bulk write: an import writes a contact event per row). `model_name` names the event model when
    "<Model>Event" is taken, `related_name` the record's events when `events` is; `trigger_names`
    {operation: name} renames a trigger whose Postgres function name (a 5-digit hash of model and
    name) another one already has."""
    names = {op: f"{op}_{op}" for op in ("insert", "update", "delete")} | (trigger_names or {})

    def options(operation, skippable_condition):
        found = {"trigger_name": names[operation]}
        if operation in skippable:
            found["condition"] = skippable_condition(f"{label}:{names[operation]}")
        return found

    return pghistory.track(
        pghistory.InsertEvent(**options("insert", unless_skipped)),
        pghistory.UpdateEvent(**options("update", ChangedUnlessSkipped)),
        pghistory.DeleteEvent(**options("delete", unless_skipped)),
        exclude=[*UNTRACKED, *exclude], model_name=model_name, meta=_parent_index(label, parent, parent_index),
        **({"obj_field": pghistory.ObjForeignKey(related_name=related_name, db_index=True)} if related_name else {}))


def _parent_index(label, field, which):
    if field is None:
        return None
    model = label.split(".")[1].lower()
    if which == "all":
        return {"indexes": [models.Index(fields=[field], name=f"{model}_event_parent")]}
    return {"indexes": [models.Index(fields=[field], name=f"{model}_event_deleted",
                                     condition=models.Q(pgh_label="delete"))]}


def tracked_links():
    """pghistory.track() for a proxy of a many-to-many table: a link added is an insert event, a
    link removed a delete event."""
    return pghistory.track(pghistory.InsertEvent(), pghistory.DeleteEvent())


def event_model(model):
    for candidate in model._meta.apps.get_models():
        if issubclass(candidate, pghistory.models.Event) and getattr(candidate, "pgh_tracked_model", None) is model:
            return candidate
    raise LookupError(f"no pghistory event model tracks {model._meta.label}")


def flush_deferred_checks(cursor):
    """Run the foreign-key checks a large write has queued for its commit now, and defer later
    ones again. Before a statement that fires row triggers: pgtrigger's and pghistory's trigger
    functions enter an exception block per row, and leaving one that caught an error makes
    PostgreSQL walk the whole queue of deferred checks, so a row trigger after 100,000 queued
    checks costs milliseconds per row instead of microseconds (measured: 4.3 s for 3,241 customers).
    The checks themselves cost the same now as at the commit."""
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")
