"""The commit: a checked batch written in one transaction, by a handful of statements whatever its
size: new customers and their primary contacts (with their audit events and undo records), the
existing ones by the batch's duplicate policy; their search rows after the commit."""
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.access import editable
from accounts.models import User

from ...lib.audit import (
    audited,
    flush_deferred_checks,
    insert_recorded,
    record_inserts,
    trigger_ignored,
    triggers_skipped,
)
from ...lib.queue import enqueue_on_commit
from ...models import (
    Contact,
    Customer,
    CustomerStatus,
    ImportBatch,
    ImportMapping,
    ImportPolicy,
    ImportRecord,
    ImportRow,
)
from .cancel import ImportCancelled, _cancel_key, _stop_if_cancelled
from .common import Status, _progress, _require_importer, _search_texts_pending
from .matching import _match_existing, _refuse_owners_outside
from .values import checked_choices, merged_choices, record_raw_values, resolve_unknown_values, rows_with_warnings

# Customer fields an import may write (the contact's are written to its primary contact).
CUSTOMER_FIELDS = (
    "name", "kind", "industry", "tier", "source", "status", "tags", "phone", "mobile", "email", "website",
    "province", "city", "district", "address", "notes", "created_at", "last_followup_at", "next_followup_at",
    "deal_date", "deal_amount",
)
# How each field is cast from the staged JSON in SQL.
SQL_TYPES = {
    "industry": "bigint", "source": "bigint", "deal_amount": "numeric", "deal_date": "date",
    "created_at": "date", "last_followup_at": "date", "next_followup_at": "date",
}
DATE_TIMES = ("created_at", "last_followup_at", "next_followup_at")
PHONE_FIELDS = frozenset({"mobile", "phone", "contact_mobile"})
# The line "其他电话：…" of the numbers a row's phone cells held more of than its fields take.
OTHER_PHONES = "(r.data->>'other_phones')"
# An existing customer's contacts are not written, so its line also names the number the contact took.
OTHER_PHONES_EXISTING = "COALESCE(r.data->>'other_phones_existing', r.data->>'other_phones')"


def import_request_commit(*, batch, by, policy, unknown_owner, default_owner=None, team=None, pool=None,
                          value_choices=None):
    """Record the importer's choices for a previewed batch and queue its commit. `value_choices`:
    {field: {word: "add" | "empty" | entry}} for the picklist words the check found unknown (those not
    given: a saved mapping's choice, else the default); kept with the batch and its saved mapping."""
    from ... import tasks

    _require_importer(by)
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.status != Status.PREVIEWED:
            raise ValidationError(_("Only a checked import can be imported."))
        if unknown_owner == ImportBatch.UnknownOwner.DEFAULT and default_owner is None:
            raise ValidationError(_("Choose the owner for customers without a known owner."))
        _check_commit_choices(by, default_owner, team)
        unknown = (batch.counts or {}).get("unknown_values") or {}
        batch.value_choices = checked_choices(merged_choices(batch.value_choices, value_choices), unknown)
        _remember_value_choices(batch, by)
        batch.policy, batch.unknown_owner = policy, unknown_owner
        batch.default_owner, batch.team, batch.pool = default_owner, team, pool
        batch.status, batch.cancel_requested = Status.COMMITTING, False
        batch.save()
        from django.core.cache import cache

        cache.delete(_cancel_key(batch.pk))
        enqueue_on_commit(tasks.import_commit, batch_id=batch.pk, by_id=by.pk)
    _progress(batch, 0)
    return batch


def _remember_value_choices(batch, by):
    """The saved mapping the batch was read with keeps its choices for unknown words, for the next file."""
    if not batch.mapping_name or not batch.value_choices:
        return
    saved = ImportMapping.objects.select_for_update().filter(name=batch.mapping_name).first()
    if saved is None:
        return
    with audited(by, "import_mapping_save"):
        saved.value_choices = merged_choices(saved.value_choices, batch.value_choices)
        saved.save(update_fields=["value_choices"])


def _check_commit_choices(by, default_owner, team):
    """The default owner must be one `by` may give customers to, the team of customers without an
    owner one within `by`'s scope (as for customers created or assigned by hand)."""
    from accounts.capabilities import Module
    from accounts.grants import teams_within_scope

    from ...selectors.pool import assignable_users

    if default_owner is not None and not assignable_users(by).filter(pk=default_owner.pk).exists():
        raise ValidationError({"default_owner": _("Choose someone you may give customers to.")})
    if team is not None and not teams_within_scope(by, Module.CUSTOMERS).filter(pk=team.pk).exists():
        raise ValidationError({"team": _("Choose a team within your own scope.")})


def import_commit(batch_id, *, by_id):
    """(worker) Write the previewed batch in one transaction: new customers (with their primary
    contact), existing ones by the batch's duplicate policy, a record of each for undo, the audit
    trail with the batch id. Run twice, or again after a worker died mid-way, it leaves what one
    clean run leaves: the batch row is locked and a finished batch is not written again."""
    from django.core.cache import cache

    by = User.objects.get(pk=by_id)
    try:
        with transaction.atomic():
            batch = ImportBatch.objects.select_for_update().get(pk=batch_id)
            if batch.status not in (Status.PREVIEWED, Status.COMMITTING):
                return batch
            if batch.cancel_requested:
                raise ImportCancelled
            if _staged_rows_lost(batch):
                batch.status, batch.error = Status.FAILED, _(
                    "The checked rows of this import are gone (the database server was restarted). "
                    "Nothing was imported: please check the file again.")
                batch.save(update_fields=["status", "error"])
                return batch
            with audited(by, "customer_import", import_batch=batch.pk):
                counts = _commit_rows(batch, by)
            _stop_if_cancelled(batch)
            batch.counts = {**batch.counts, **counts}
            batch.status = Status.DONE
            batch.committed_at = timezone.now()
            batch.save(update_fields=["counts", "status", "committed_at"])
    except ImportCancelled:
        ImportBatch.objects.filter(pk=batch_id).update(status=Status.CANCELLED, cancel_requested=False)
        cache.delete(_cancel_key(batch_id))
        return ImportBatch.objects.get(pk=batch_id)
    return batch


def _staged_rows_lost(batch):
    """Whether a checked batch with data rows has none staged: ImportRow is an unlogged table, which a
    crash of the database server empties (migration crm 0028)."""
    if not (batch.counts or {}).get("data"):
        return False
    return not ImportRow.objects.filter(batch=batch).exists()


def import_search_fill(batch_id):
    """(worker, after an import's commit) The search texts and name keys of the customers the batch
    updated, worked out again; the search rows (CustomerSearch) of the customers the batch
    created, which the commit wrote without them so as not to update the trigram index row by row
    inside its transaction; then the index's pending entries merged. Until this has run (seconds
    after the commit) the new customers are listed and filtered but not yet found by a search.
    Safe to run twice, and after an undo: a row already there (a customer edited meanwhile, whose
    own save wrote it) is left alone, and a customer that no longer exists gets none."""
    from ..customers import customers_refresh_search, customers_search_copy, customers_search_index_merge

    with transaction.atomic(), connection.cursor() as cursor:
        _search_texts_pending(cursor)
        cursor.execute(f"SELECT customer_id FROM {ImportRecord._meta.db_table} "
                       "WHERE batch_id = %s AND action = 'updated' AND undone_at IS NULL", [batch_id])
        customers_refresh_search([pk for (pk,) in cursor.fetchall()])
        # From the undo records, which are logged: the staged rows are not (see _staged_rows_lost).
        filled = customers_search_copy(
            cursor, f"c.id IN (SELECT customer_id FROM {ImportRecord._meta.db_table} "
                    "WHERE batch_id = %s AND action = 'created' AND undone_at IS NULL)", [batch_id])
    customers_search_index_merge()
    return filled


def _owner_sql(batch):
    """SQL of the owner id of a staged row `r`: its own owner, else (unknown or no owner column) the
    chosen owner when the batch says so, else none (the customer goes to a pool)."""
    default = batch.default_owner_id if batch.unknown_owner == ImportBatch.UnknownOwner.DEFAULT else None
    if default:
        return f"COALESCE((r.data->>'owner')::bigint, {int(default)})"
    return "(r.data->>'owner')::bigint"


def _value_sql(field):
    cast = SQL_TYPES.get(field)
    if field == "tags":
        return "ARRAY(SELECT jsonb_array_elements_text(r.data->'tags'))::varchar(30)[]"
    if field in DATE_TIMES:
        return f"((r.data->>'{field}')::date::timestamp AT TIME ZONE %s)"
    if cast:
        return f"(r.data->>'{field}')::{cast}"
    return f"(r.data->>'{field}')"


def _commit_rows(batch, by):
    """Write the batch's rows (its transaction is the caller's): match them again against the
    customers as they are now, insert the new ones, update the existing ones by the policy. Stops
    (ImportCancelled) between the steps if the importer cancels. Returns the commit's counts."""
    _progress(batch, 0)
    found = _match_existing(batch, preview=False)
    from ..pool import pool_for_team

    fallback_pool = batch.pool or pool_for_team(batch.team)
    _refuse_owners_outside(batch, by)  # the importer's scope now, which may differ from the uploader's
    owner = _owner_sql(batch)
    with connection.cursor() as cursor:
        from ...tasks import import_search_fill as search_fill_task

        enqueue_on_commit(search_fill_task, batch_id=batch.pk)
        _reserve_new_ids(cursor, batch)
        added = resolve_unknown_values(cursor, batch, by)
        _stop_if_cancelled(batch)
        # The audit events of the new customers and contacts are written by the same statements, from
        # the rows they insert (insert_recorded), not by a trigger per row; so is the record of each
        # new customer for undo.
        # Nor is the search row written per customer: import_search_fill writes them after the commit.
        with trigger_ignored(Customer, Contact), triggers_skipped("crm.Customer:search_copy_insert"):
            created = _insert_new_customers(cursor, batch, by, owner, fallback_pool)
            _insert_primary_contacts(cursor, batch)
        _progress(batch, created)
        _pause_for_the_crash_test()
        _stop_if_cancelled(batch)
        flush_deferred_checks(cursor)  # the updates below fire row triggers
        existing = _update_existing(cursor, batch, by, owner, existing=found["existing"])
        record_raw_values(cursor, batch)
    # created + updated + unchanged + skipped + merged_in_file + errors = the data rows.
    return {"created": created, **existing, "merged_in_file": found["in_file"], "errors": found["error"],
            "with_warnings": rows_with_warnings(batch, written=True), "entries_added": added}


def _reserve_new_ids(cursor, batch):
    """The new rows' customer ids were reserved when they were checked; a row that has become new
    since (its match was deleted meanwhile) gets one now."""
    cursor.execute(f"UPDATE {ImportRow._meta.db_table} SET new_id = nextval(pg_get_serial_sequence(%s, 'id')) "
                   "WHERE batch_id = %s AND verdict = 'new' AND new_id IS NULL", [Customer._meta.db_table, batch.pk])


def _new_customer_values():
    """(columns, SQL of each column's value from a staged row `r`, their parameters) of the customer
    fields an import writes but created_at, with the model's defaults where the row has no value."""
    params = []
    values = []
    for field in CUSTOMER_FIELDS:
        if field in ("created_at",):
            continue
        sql = _value_sql(field)
        if field == "notes":  # with the line of the numbers a phone cell held more of (see cleaning)
            sql = f"NULLIF(concat_ws(E'\\n', {sql}, {OTHER_PHONES}), '')"
        if field in DATE_TIMES:
            params.append(settings.TIME_ZONE)
        defaults = {"kind": "'company'", "tier": "'B'", "status": f"'{CustomerStatus.PROSPECT}'",
                    "tags": "'{}'::varchar(30)[]"}
        if field in defaults:
            sql = f"COALESCE({sql}, {defaults[field]})"
        elif field not in SQL_TYPES and field not in DATE_TIMES:
            sql = f"COALESCE({sql}, '')"
        values.append(sql)
    field_columns = [f"{f}_id" if f in ("industry", "source") else f for f in CUSTOMER_FIELDS if f != "created_at"]
    return field_columns, values, params


def _insert_new_customers(cursor, batch, by, owner, fallback_pool):
    """One INSERT of the batch's new customers with their reserved ids, their history events and
    the undo record of each; a customer without an active owner goes to `fallback_pool`. Returns
    how many."""
    rows, customers, records = ImportRow._meta.db_table, Customer._meta.db_table, ImportRecord._meta.db_table
    zone = settings.TIME_ZONE
    field_columns, values, params = _new_customer_values()
    return insert_recorded(Customer, f"""
        INSERT INTO {customers} (id, {", ".join(field_columns)}, owner_id, team_id, pool_id, created_by_id,
            claimed_at, deal_status, locked, name_key, search_text, version, created_at, updated_at)
        SELECT r.new_id, {", ".join(values)}, o.id,
            COALESCE(o.team_id, %s::bigint), CASE WHEN o.id IS NULL THEN %s::bigint END, %s,
            CASE WHEN o.id IS NOT NULL THEN now() END,
            CASE WHEN r.data->>'status' = 'won' OR r.data ? 'deal_date' THEN 'won' ELSE 'none' END,
            false, r.name_key, r.data->>'search_text', 1,
            COALESCE(((r.data->>'created_at')::date::timestamp AT TIME ZONE %s), now()), now()
        FROM {rows} r LEFT JOIN {User._meta.db_table} o ON o.id = {owner} AND o.is_active
        WHERE r.batch_id = %s AND r.verdict = 'new'""",
        [*params, batch.team_id, getattr(fallback_pool, "pk", None), by.pk, zone, batch.pk], cursor,
        also=[(f"INSERT INTO {records} (batch_id, customer_id, action, before, version) "
               "SELECT %s, id, 'created', NULL, 1 FROM written", [batch.pk])])


def _insert_primary_contacts(cursor, batch):
    """One INSERT of the primary contact of each new customer whose row names one, with their
    history events."""
    rows, contacts = ImportRow._meta.db_table, Contact._meta.db_table
    insert_recorded(Contact, f"""
        INSERT INTO {contacts} (customer_id, name, title, mobile, phone, email, wechat, is_primary, notes,
            created_at, updated_at)
        SELECT r.new_id,
            COALESCE(r.data->>'contact_name', r.data->>'contact_mobile', r.data->>'contact_email'),
            COALESCE(r.data->>'contact_title', ''), COALESCE(r.data->>'contact_mobile', ''), '',
            COALESCE(r.data->>'contact_email', ''), COALESCE(r.data->>'contact_wechat', ''), true, '', now(), now()
        FROM {rows} r
        WHERE r.batch_id = %s AND r.verdict = 'new'
          AND (r.data ? 'contact_name' OR r.data ? 'contact_mobile' OR r.data ? 'contact_email')""",
        [batch.pk], cursor)


def _pause_for_the_crash_test():
    if settings.CRM_IMPORT_COMMIT_PAUSE:  # the crash test kills the worker here
        import time

        time.sleep(settings.CRM_IMPORT_COMMIT_PAUSE)


def _update_existing(cursor, batch, by, owner, *, existing):
    """The rows that are customers already (`existing` of them), by the policy: skip them, fill the
    customers' empty fields, or overwrite with the file's non-empty values. A customer the importer
    may not change is skipped; one whose values the policy would leave as they are is unchanged: it
    is not written and gets no undo record. Returns {"updated", "unchanged", "skipped"}."""
    if batch.policy == ImportPolicy.SKIP or not existing:
        return {"updated": 0, "unchanged": 0, "skipped": existing}
    writable = editable(by, Customer.objects.all()).values("pk").query.sql_with_params()
    mapped = [key for key in batch.mapping.values() if key in CUSTOMER_FIELDS and key != "created_at"]
    if PHONE_FIELDS.intersection(batch.mapping.values()):
        # A phone cell may fill the other phone field and add a line to the notes (see cleaning).
        mapped += [key for key in ("mobile", "phone", "notes") if key not in mapped]
    if "owner" in batch.mapping.values():
        mapped += ["owner", "team"]
    columns = [f"{f}_id" if f in ("industry", "source", "owner", "team") else f for f in mapped]
    before = ", ".join(f"'{c}', c.{c}" for c in columns)
    new_values, params = _update_assignments(batch, mapped, columns, owner)
    allowed = _count_writable(cursor, batch, writable)
    updated = _record_updates(cursor, batch, before, (new_values, params), writable)
    _apply_updates(cursor, batch, new_values, params)
    # Their search texts and name keys are worked out again by the search-row task the commit queued
    # (import_search_fill), as the new customers' search rows are: 2 s of a 100,000-row commit.
    return {"updated": updated, "unchanged": allowed - updated, "skipped": existing - allowed}


def _count_writable(cursor, batch, writable):
    """How many of the batch's existing rows match a customer the importer may change."""
    writable_sql, writable_params = writable
    cursor.execute(f"""
        SELECT count(*) FROM {ImportRow._meta.db_table} r
        WHERE r.batch_id = %s AND r.verdict = 'existing' AND r.match_id IN ({writable_sql})""",
                   [batch.pk, *writable_params])
    return cursor.fetchone()[0]


def _record_updates(cursor, batch, before, new_values, writable):
    """An undo record of each existing customer the importer may change (`writable`: SQL and
    parameters of their ids) and whose values the policy changes (`new_values`: ([(column, SQL of
    its new value)], their parameters)), with the values it had (`before`: jsonb_build_object's
    arguments). Returns how many."""
    rows, customers, records = ImportRow._meta.db_table, Customer._meta.db_table, ImportRecord._meta.db_table
    writable_sql, writable_params = writable
    values, params = new_values
    after = ", ".join(f"'{column}', {new}" for column, new in values)
    cursor.execute(f"""
        INSERT INTO {records} (batch_id, customer_id, action, before, version)
        SELECT r.batch_id, c.id, 'updated', jsonb_build_object({before}), c.version + 1
        FROM {rows} r JOIN {customers} c ON c.id = r.match_id
        WHERE r.batch_id = %s AND r.verdict = 'existing' AND c.id IN ({writable_sql})
          AND jsonb_build_object({before}) IS DISTINCT FROM jsonb_build_object({after})""",
        [batch.pk, *writable_params, *params])
    return cursor.rowcount


def _update_assignments(batch, mapped, columns, owner):
    """([(column, SQL of its new value for a customer `c` from its staged row `r`)], their
    parameters), by the policy: tags are added to (left as they are when they hold the file's
    already), other fields filled where empty (fill) or overwritten where the file has a value."""
    values, params = [], []
    for field, column in zip(mapped, columns, strict=True):
        if field == "owner":
            new = f"(SELECT u.id FROM {User._meta.db_table} u WHERE u.id = {owner} AND u.is_active)"
        elif field == "team":
            new = f"(SELECT u.team_id FROM {User._meta.db_table} u WHERE u.id = {owner} AND u.is_active)"
        else:
            new = _value_sql(field)
        if field in DATE_TIMES:
            params.append(settings.TIME_ZONE)
        if field == "tags":
            values.append((column, f"CASE WHEN c.tags @> {new} THEN c.tags "
                                   f"ELSE COALESCE((SELECT array_agg(DISTINCT t) FROM unnest(c.tags || {new}) t), "
                                   "c.tags) END"))
            continue
        empty = f"(c.{column} IS NULL OR c.{column}::text = '')"
        if field == "notes" and field not in batch.mapping.values():
            value = f"c.{column}"
        elif batch.policy == ImportPolicy.FILL:
            value = f"CASE WHEN {empty} THEN COALESCE({new}, c.{column}) ELSE c.{column} END"
        else:
            value = f"COALESCE({new}, c.{column})"
        if field == "notes":
            value = _with_other_phones(value, OTHER_PHONES_EXISTING)
        values.append((column, value))
    return values, params


def _with_other_phones(notes, line):
    """SQL of `notes` with the row's `line` of other phone numbers added (once: an import run again
    does not repeat it), whatever the policy: no number a cell held is dropped."""
    return (f"CASE WHEN {line} IS NULL OR strpos({notes}, {line}) > 0 THEN {notes} "
            f"ELSE concat_ws(E'\\n', NULLIF({notes}, ''), {line}) END")


def _apply_updates(cursor, batch, new_values, params):
    """One UPDATE of the recorded customers (those whose values change), then one snapshot event per
    customer, written in one statement after the update (as the per-row update trigger would, which
    is skipped here)."""
    rows, customers, records = ImportRow._meta.db_table, Customer._meta.db_table, ImportRecord._meta.db_table
    changed = f"SELECT customer_id FROM {records} WHERE batch_id = %s AND action = 'updated'"
    assignments = ", ".join(f"{column} = {new}" for column, new in new_values)
    with trigger_ignored(Customer, operation="update"):
        cursor.execute(f"""
        UPDATE {customers} c SET {assignments}, version = c.version + 1, updated_at = now()
        FROM {rows} r
        WHERE r.batch_id = %s AND r.verdict = 'existing' AND c.id = r.match_id
          AND c.id IN ({changed})""", [*params, batch.pk, batch.pk])
    record_inserts(Customer, f"id IN ({changed})", [batch.pk], cursor, label="update")
