"""The import benchmark (`manage.py benchmark import`): a generated legacy-style .xlsx imported into
the scale database end to end, in a separate process so its peak memory is its own; the raw parse
rates of calamine and openpyxl on the same file; django-import-export on the same file's first rows
(a development package, imported only for that comparison, which is skipped when it is missing)."""
import os
import resource
import tempfile
import time

from django.db import transaction

from accounts.models import Role, User


def importer():
    """A user with the seed role 数据管理员/IT (created once in the scale database)."""
    user, created = User.objects.get_or_create(username="bench_importer", defaults={"display_name": "导入基准"})
    if created:
        user.roles.set([Role.objects.get(name="数据管理员/IT")])
    return user


def parse_rates(path, limit=None):
    """Rows per second of calamine (through crm.imports.read) and of openpyxl read-only, data only."""
    from openpyxl import load_workbook

    from ...imports.read import open_workbook

    started = time.perf_counter()
    with open_workbook(path) as book:
        count = sum(1 for _ in book.rows())
    calamine = count / (time.perf_counter() - started)
    started = time.perf_counter()
    book = load_workbook(path, read_only=True, data_only=True)
    seen = 0
    for _row in book.active.iter_rows(values_only=True):
        seen += 1
        if limit and seen >= limit:
            break
    book.close()
    return {"rows": count, "calamine_rows_per_s": round(calamine),
            "openpyxl_rows_per_s": round(seen / (time.perf_counter() - started))}


def run_import(path, user):
    """The import as IT scripts run it (`manage.py import_customers`), in a child process so that its
    peak memory is its own, then its undo here (timed too)."""
    import json
    import subprocess
    import sys

    from django.conf import settings

    from ...models import ImportBatch
    from ...services.imports.undo import import_undo

    report = f"{path}.timings.json"
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(settings.BASE_DIR / "manage.py"), "import_customers", str(path), "--user", user.username,
         "--policy", "fill", "--timings", report], capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode:
        return {"error": done.stderr[-2000:]}
    with open(report) as handle:
        result = json.load(handle)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    ImportBatch.objects.filter(pk=result["batch"]).update(status=ImportBatch.Status.UNDOING)
    started = time.perf_counter()
    import_undo(result["batch"], by_id=user.pk)
    undo_s = time.perf_counter() - started
    forget_batch(result["batch"])
    steps = result["steps"]
    result["timings"] = {"upload_s": steps["upload"]["seconds"], "check_s": steps["check"]["seconds"],
                         "commit_s": steps["commit"]["seconds"],
                         "search_index_s": steps["search_index"]["seconds"],
                         "total_s": sum(steps[name]["seconds"] for name in ("upload", "check", "commit")),
                         "process_s": wall, "undo_s": undo_s}
    result["round_trips"] = {name: step["round_trips"] for name, step in steps.items()}
    result["wal_mb"] = {name: step.get("wal_mb") for name, step in steps.items()}
    result["peak_rss_mb"] = peak
    return result


def forget_batch(batch_id):
    """Leave the scale database as the run found it: the undone batch's staged rows, undo records,
    audit events and files go, so that a run is not slowed by the rows of the runs before it."""
    from django.db import connection
    from pghistory.models import Context

    from ...lib.audit import event_model
    from ...models import Contact, Customer, ImportBatch, ImportRecord, ImportRow

    batch = ImportBatch.objects.get(pk=batch_id)
    contexts = Context.objects.filter(metadata__import_batch=batch_id)
    with transaction.atomic(), connection.cursor() as cursor:
        for model in (Customer, Contact):
            event_model(model).objects.filter(pgh_context__in=contexts).delete()
        contexts.delete()
        for model in (ImportRow, ImportRecord):
            cursor.execute(f"DELETE FROM {model._meta.db_table} WHERE batch_id = %s", [batch_id])
        for stored in (batch.file, batch.error_report):
            if stored:
                stored.delete(save=False)
        cursor.execute(f"DELETE FROM {ImportBatch._meta.db_table} WHERE id = %s", [batch_id])


def import_export_rate(path, rows):
    """django-import-export, a plain ModelResource with its defaults, on the first `rows` data rows
    of the same file (as a dataset under the model's field names), in a rolled-back transaction."""
    import tablib
    from import_export import resources

    from ...imports.fields import BY_KEY
    from ...imports.layout import ROW_DATA, auto_mapping, classify, find_header
    from ...imports.read import open_workbook
    from ...models import Customer

    plain = {"name", "phone", "mobile", "email", "website", "province", "city", "district", "address", "notes"}
    with open_workbook(path) as book:
        head = []
        data = []
        for row in book.rows():
            if len(head) < 40 and not data:
                head.append(row)
                index = find_header(head) if len(head) >= 3 else None
                if index is None:
                    continue
                header, mapping = head[index], auto_mapping(head[index])
                columns = [(i, key) for i, key in mapping.items() if key in plain]
                data.append(None)
                continue
            if classify(row, header, mapping) != ROW_DATA:
                continue
            data.append([("" if i >= len(row) or row[i] is None else str(row[i]))[:200] for i, _key in columns])
            if len(data) > rows:
                break
    dataset = tablib.Dataset(*data[1:], headers=[BY_KEY[key].key for _i, key in columns])

    class CustomerResource(resources.ModelResource):
        class Meta:
            model = Customer
            fields = tuple(BY_KEY[key].key for _i, key in columns)
            import_id_fields = ()

    started = time.perf_counter()
    with transaction.atomic():
        result = CustomerResource().import_data(dataset, dry_run=False, raise_errors=False)
        transaction.set_rollback(True)
    seconds = time.perf_counter() - started
    return {"rows": len(dataset), "seconds": round(seconds, 1), "rows_per_s": round(len(dataset) / seconds),
            "errors": result.has_errors()}


def benchmark_import(stdout, rows, compare_rows, keep_file=None):
    from ...tests.import_files import big_legacy_xlsx

    user = importer()
    folder = tempfile.mkdtemp(prefix="crm-import-bench-")
    path = keep_file or os.path.join(folder, f"legacy-{rows}.xlsx")
    started = time.perf_counter()
    if not (keep_file and os.path.exists(keep_file)):
        described = big_legacy_xlsx(path, rows=rows)
    else:
        described = {"data_rows": rows}
    stdout.write(f"file: {path} ({os.path.getsize(path) / 2**20:.1f} MB, {described['data_rows']:,} data rows; "
                 f"written in {time.perf_counter() - started:.1f} s)")
    rates = parse_rates(path)
    stdout.write(f"raw parse: calamine {rates['calamine_rows_per_s']:,} rows/s, "
                 f"openpyxl read-only {rates['openpyxl_rows_per_s']:,} rows/s ({rates['rows']:,} rows)")
    result = run_import(path, user)
    if "error" in result:
        stdout.write(f"import failed: {result['error']}")
        return result
    t, c = result["timings"], result["counts"]
    data = c["data"]
    stdout.write(f"import: {data:,} data rows — upload {t['upload_s']:.1f} s, check (parse, clean, stage, match) "
                 f"{t['check_s']:.1f} s, commit {t['commit_s']:.1f} s; end to end {t['total_s']:.1f} s = "
                 f"{data / t['total_s']:,.0f} rows/s; then the new customers' search rows and index merge (a worker's job, "
                 f"after the commit) "
                 f"{t['search_index_s']:.1f} s; undo {t['undo_s']:.1f} s")
    stdout.write(f"  verdicts: new {c['new']:,}, existing {c['existing']:,}, in file {c['in_file']:,}, "
                 f"errors {c['error']:,}; written: created {c['created']:,}, updated {c['updated']:,}, "
                 f"unchanged {c.get('unchanged', 0):,}, merged {c['merged_in_file']:,}, skipped {c['skipped']:,}, errors {c['errors']:,}")
    stdout.write(f"  not data: title {c['title']}, blank {c['blank']}, header {c['header']}, "
                 f"hint {c.get('hint', 0)}, section {c['section']}, total {c['total']}")
    stdout.write(f"  peak memory of the importing process: {result['peak_rss_mb']:.0f} MB; database round trips: "
                 f"{result['round_trips']}; write-ahead log (MB): {result['wal_mb']}")
    stdout.write(f"  the whole import reaches {data / t['total_s'] / rates['calamine_rows_per_s'] * 100:.0f}% "
                 f"of calamine's raw parse rate")
    compare = compare_with_import_export(stdout, path, compare_rows, data / t["total_s"]) if compare_rows else None
    result.update({"parse": rates, "import_export": compare, "file": path})
    return result


def compare_with_import_export(stdout, path, rows, rate):
    """django-import-export's rate on the file's first `rows` rows against ours (`rate` rows/s), or
    None, said so, when that development package is not installed (a runtime-only install)."""
    try:
        compare = import_export_rate(path, rows)
    except ImportError as exc:
        stdout.write(f"django-import-export comparison skipped: {exc.name} is not installed "
                     "(it comes with requirements-dev.txt).")
        return None
    stdout.write(f"django-import-export (ModelResource, defaults) on the first {compare['rows']:,} data rows: "
                 f"{compare['seconds']} s = {compare['rows_per_s']:,} rows/s; this import is "
                 f"{rate / compare['rows_per_s']:.0f}× faster")
    return compare
