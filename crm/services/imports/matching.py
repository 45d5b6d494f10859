"""Duplicates, in sets: rows that repeat an earlier row of the file, rows that are customers
already, and owners the importer may not give customers to. The check runs them as it stages, the
commit again against the customers as they are then."""
import json

from django.db import connection
from django.utils.translation import gettext as _

from accounts.models import User

from ...models import Customer, ImportRow
from .cleaning import _search_text_of


def _mark_in_file(batch, keys):
    """Rows (number, name key, mobile, email), in file order, that share the name key, mobile or email
    of an earlier row are the same customer as that row (or as the row that one joined): marked
    in_file with it as their first row. Returns how many."""
    seen = {0: {}, 1: {}, 2: {}}
    numbers, firsts, reasons = [], [], []
    for number, *values in keys:
        first = next((seen[i][v] for i, v in enumerate(values) if v and v in seen[i]), None)
        for i, v in enumerate(values):
            if v:
                seen[i].setdefault(v, first or number)
        if first:
            numbers.append(number)
            firsts.append(first)
            reasons.append(_("Same customer as row %(n)d of the file.") % {"n": first})
    if numbers:
        with connection.cursor() as cursor:
            cursor.execute(f"""
                UPDATE {ImportRow._meta.db_table} r SET verdict = 'in_file', first_row = v.first_row,
                    reason = v.reason, new_id = NULL, match_id = NULL, match_on = '', data = r.data - 'search_text'
                FROM unnest(%s::int[], %s::int[], %s::text[]) AS v(row_number, first_row, reason)
                WHERE r.batch_id = %s AND r.row_number = v.row_number""", [numbers, firsts, reasons, batch.pk])
    return len(numbers)


def _fold_in_file_duplicates(batch):
    """A later row of the same customer fills what its first row left empty (the first row wins
    where both have a value); the first row's search text is then made again."""
    table = ImportRow._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"""
            UPDATE {table} p SET data = d.merged || p.data,
                flagged = p.flagged OR d.merged ?| ARRAY['warnings', 'unknown']
            FROM (
                SELECT first_row, jsonb_object_agg(key, value) AS merged FROM (
                    SELECT r.first_row, e.key, e.value FROM {table} r, jsonb_each(r.data) e
                    WHERE r.batch_id = %s AND r.verdict = 'in_file' AND e.key <> 'search_text'
                    ORDER BY r.row_number DESC
                ) s GROUP BY first_row
            ) d
            WHERE p.batch_id = %s AND p.row_number = d.first_row
            RETURNING p.id, p.data""", [batch.pk, batch.pk])
        folded = cursor.fetchall()
    if folded:
        pks, texts = [], []
        for pk, data in folded:
            data = json.loads(data) if isinstance(data, str) else data
            pks.append(pk)
            texts.append(_search_text_of(data))
        with connection.cursor() as cursor:
            cursor.execute(f"""
                UPDATE {table} p SET data = p.data || jsonb_build_object('search_text', v.search_text),
                    mobile = COALESCE(p.data->>'mobile', ''), email = COALESCE(p.data->>'email', '')
                FROM unnest(%s::bigint[], %s::text[]) AS v(id, search_text) WHERE p.id = v.id""", [pks, texts])


def _match_existing(batch, *, preview):
    """Mark the batch's new rows that are customers already (same name key, mobile or email, in that
    order; the oldest customer of several), and second rows that match the same customer as an
    earlier one. The check has matched its rows chunk by chunk as it staged them (`preview`); the
    commit matches them all again, against the customers as they are now. Returns
    {"new": n, "existing": n, "in_file": n, "error": n} of the rows now."""
    table = ImportRow._meta.db_table
    with connection.cursor() as cursor:
        if not preview:
            cursor.execute(f"UPDATE {table} SET verdict = 'new', match_id = NULL, match_on = '' "
                           "WHERE batch_id = %s AND verdict = 'existing'", [batch.pk])
            _match_rows(cursor, batch)
        # Two rows of the file that match one customer: the later one joins the earlier.
        cursor.execute(f"""
            UPDATE {table} r SET verdict = 'in_file', first_row = f.first_row
            FROM (
                SELECT id, min(row_number) OVER (PARTITION BY match_id) AS first_row, row_number
                FROM {table} WHERE batch_id = %s AND verdict = 'existing'
            ) f
            WHERE r.id = f.id AND f.row_number > f.first_row""", [batch.pk])
        cursor.execute(f"SELECT verdict, count(*) FROM {table} WHERE batch_id = %s GROUP BY verdict", [batch.pk])
        found = dict(cursor.fetchall())
    return {"new": found.get("new", 0), "existing": found.get("existing", 0), "in_file": found.get("in_file", 0),
            "error": found.get("error", 0)}


def _match_rows(cursor, batch, rows=None):
    """The new rows of the batch (or of its rows numbered rows[0]..rows[1]) that are customers already
    become 'existing', with the customer they match."""
    table, customers = ImportRow._meta.db_table, Customer._meta.db_table
    within, params = "", []
    if rows:
        within, params = "AND r2.row_number BETWEEN %s AND %s", list(rows)
    for column, how in (("name_key", "name"), ("mobile", "mobile"), ("email", "email")):
        cursor.execute(f"""
            UPDATE {table} r SET verdict = 'existing', match_id = m.id, match_on = %s
            FROM (
                SELECT DISTINCT ON (r2.id) r2.id AS row_id, c.id FROM {table} r2
                JOIN {customers} c ON c.{column} = r2.{column}
                WHERE r2.batch_id = %s {within} AND r2.verdict = 'new' AND r2.{column} <> '' AND c.{column} <> ''
                  AND c.archived_at IS NULL AND c.merged_into_id IS NULL
                ORDER BY r2.id, c.id
            ) m
            WHERE r.id = m.row_id""", [how, batch.pk, *params])


def _refuse_owners_outside(batch, by):
    """Take off the batch's rows the owners `by` may not give customers to (anyone outside their
    assignable users, `crm.selectors.pool.assignable_users`, as for an assignment by hand): such a row
    is imported as one without a known owner (the batch's choice: the pool or its default owner),
    keeps the name it gave under "owner_refused" and says why. The check runs it for the uploader,
    the commit again for whoever imports. One statement; returns how many rows."""
    from ...selectors.pool import assignable_users

    allowed_sql, allowed_params = assignable_users(by).order_by().values("pk").query.sql_with_params()
    note = _("The owner is not one of the people you may give customers to: "
             "the row is imported as one without a known owner.")
    with connection.cursor() as cursor:
        cursor.execute(f"""
            UPDATE {ImportRow._meta.db_table} r
            SET data = (r.data - 'owner') || jsonb_build_object('owner_refused',
                    COALESCE(NULLIF(u.display_name, ''), u.username)),
                reason = CASE WHEN r.reason = '' THEN %s ELSE r.reason || ' ' || %s END
            FROM {User._meta.db_table} u
            WHERE r.batch_id = %s AND r.verdict IN ('new', 'existing') AND r.data ? 'owner'
              AND u.id = (r.data->>'owner')::bigint AND u.id NOT IN ({allowed_sql})""",
            [note, note, batch.pk, *allowed_params])
        return cursor.rowcount
