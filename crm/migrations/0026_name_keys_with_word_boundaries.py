"""Name keys keep the boundary between two Latin words ("First Bank" is no longer "FirstBank") and drop
spaces next to Chinese: the keys of every customer, and of the staged rows of imports not yet
finished, are worked out again with the code that makes them today (`crm.lib.text.name_key`).

In batches by id, each its own transaction (the migration is not atomic), so the customers table is
never locked for long and a run that stops part way can simply run again; a batch writes only the
keys that changed. The customer_name_key index serves the duplicate queries as before (equality)."""
from django.db import connection, migrations

BATCH = 5000
UNFINISHED = ("uploaded", "previewing", "previewed", "committing")


def _recompute(table, select_sql, params):
    from crm.lib.text import name_key

    last = 0
    while True:
        with connection.cursor() as cursor:
            cursor.execute(select_sql, [*params, last, BATCH])
            rows = cursor.fetchall()
            if not rows:
                return
            last = rows[-1][0]
            cursor.execute(f"""
                UPDATE {table} t SET name_key = v.name_key
                FROM unnest(%s::bigint[], %s::text[]) AS v(id, name_key)
                WHERE t.id = v.id AND t.name_key IS DISTINCT FROM v.name_key""",
                [[pk for pk, _name in rows], [name_key(name or "") for _pk, name in rows]])


def recompute_keys(apps, schema_editor):
    customers = apps.get_model("crm", "Customer")._meta.db_table
    rows = apps.get_model("crm", "ImportRow")._meta.db_table
    batches = apps.get_model("crm", "ImportBatch")._meta.db_table
    _recompute(customers, f"SELECT id, name FROM {customers} WHERE id > %s ORDER BY id LIMIT %s", [])
    _recompute(rows, f"""
        SELECT r.id, r.data->>'name' FROM {rows} r JOIN {batches} b ON b.id = r.batch_id
        WHERE b.status = ANY(%s) AND r.verdict <> 'error' AND r.id > %s ORDER BY r.id LIMIT %s""",
        [list(UNFINISHED)])


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("crm", "0025_import_undo_per_record")]
    operations = [migrations.RunPython(recompute_keys, migrations.RunPython.noop, elidable=True)]
