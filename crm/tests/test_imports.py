"""The import engine end to end on the real database: upload, check, commit by policy, the counts
adding up, the error report, in-file and existing duplicates, undo with conflicts, running twice."""
import datetime
import decimal

import pytest
from django.core.management import call_command
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from accounts.history import record_history as history_of
from crm.models import Contact, Customer, ImportBatch, ImportRecord, ImportRow, Pool
from crm.services import imports
from crm.services.imports import cancel, check
from crm.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

HEADINGS = ["序号", "客户名称", "客户等级", "手机号码", "邮箱", "负责人", "建档日期", "成交金额", "联系人", "备注"]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def sheet_file(tmp_path, rows, *, name="客户.xlsx", title=True, total=True, headings=HEADINGS):
    """A small legacy-style sheet: a title row, the headings, `rows`, a totals row."""
    book = Workbook()
    sheet = book.active
    if title:
        sheet.append(["2024年客户名单"])
        sheet.merge_cells("A1:F1")
    sheet.append(headings)
    for number, row in enumerate(rows, start=1):
        sheet.append([number, *row])
    if total:
        sheet.append(["合计", f"{len(rows)}家"])
    path = tmp_path / name
    book.save(path)
    return path


def run(tmp_path, by, rows, headings=HEADINGS, **choices):
    """Upload, check and commit `rows`; returns the batch."""
    batch = imports.import_upload(by=by, path=sheet_file(tmp_path, rows, headings=headings), file_name="客户.xlsx")
    batch = imports.import_preview(batch.pk)
    assert batch.status == ImportBatch.Status.PREVIEWED, batch.error
    for key, value in choices.items():
        setattr(batch, key, value)
    batch.status = ImportBatch.Status.COMMITTING
    batch.save()
    return imports.import_commit(batch.pk, by_id=by.pk)


def test_it_imports_a_legacy_sheet_and_every_row_is_accounted_for(tmp_path, it_importer, rep_east, picklists):
    default_pool = Pool.objects.create(name="总公海", is_default=True)
    rows = [
        ["上海申通物流有限公司", "重点客户", "138 1234 5678", "Sales@ShenTong.example", "rep_east", "2021年3月5日",
         "¥12,000", "王建国", "老客户"],
        ["杭州西湖软件有限公司", "B类", 13912345678.0, "", "", 44260, "1.2万", "", ""],
        ["北京华信科技有限公司", "A", "12345", "", "", "", "", "", "电话有误"],
        ["上海申通物流有限公司", "", "", "", "", "", "", "", "重复一行"],
    ]
    batch = run(tmp_path, it_importer, rows)
    assert batch.status == ImportBatch.Status.DONE
    counts = batch.counts
    # A phone nobody can dial is a warning on its row, not a lost row.
    assert (counts["created"], counts["updated"], counts["unchanged"], counts["merged_in_file"], counts["skipped"],
            counts["errors"], counts["with_warnings"]) == (3, 0, 0, 1, 0, 0, 1)
    assert counts["created"] + counts["updated"] + counts["unchanged"] + counts["merged_in_file"] + \
        counts["skipped"] + counts["errors"] == counts["data"] == 4
    assert (counts["title"], counts["total"]) == (1, 1)

    shentong = Customer.objects.get(name="上海申通物流有限公司")
    assert (shentong.tier, shentong.mobile, shentong.email) == ("A", "+8613812345678", "sales@shentong.example")
    assert shentong.owner == rep_east and shentong.team == rep_east.team
    assert shentong.deal_amount == decimal.Decimal("12000.00")
    assert timezone.localtime(shentong.created_at).date() == datetime.date(2021, 3, 5)
    assert shentong.notes == "老客户"
    assert Contact.objects.get(customer=shentong).name == "王建国"
    assert " shentong" in shentong.search_text or "shentong" in shentong.search_text
    assert shentong.name_key

    xihu = Customer.objects.get(name="杭州西湖软件有限公司")
    assert (xihu.tier, xihu.mobile, xihu.owner, xihu.deal_amount) == ("B", "+8613912345678", None,
                                                                      decimal.Decimal("12000.00"))
    assert timezone.localtime(xihu.created_at).date() == datetime.date(2021, 3, 5)
    assert xihu.pool == default_pool  # unowned, no team: waits in the default pool

    warned = ImportRow.objects.get(batch=batch, row_number=5)
    assert warned.verdict == ImportRow.Verdict.NEW and "12345" in warned.reason
    huaxin = Customer.objects.get(name="北京华信科技有限公司")
    assert (huaxin.tier, huaxin.mobile, huaxin.notes) == ("A", "", "电话有误")
    kept = list(huaxin.import_raw_values.values_list("batch_id", "row_number", "field", "heading", "raw"))
    assert kept == [(batch.pk, 5, "mobile", "手机号码", "12345")]
    # The audit trail names the batch.
    created = [e for e in history_of(shentong) if e.get("batch")]
    assert created and created[0]["batch"] == batch.pk and created[0]["action"] == "customer_import"
    # The contact has its insert event too, in the same context (written in one statement, not by trigger).
    contact_events = [e for e in history_of(Contact.objects.get(customer=shentong)) if e.get("batch")]
    assert len(contact_events) == 1 and contact_events[0]["action"] == "customer_import"


def test_the_error_report_starts_with_the_reason_then_the_row(tmp_path, it_importer):
    batch = imports.import_upload(by=it_importer, path=sheet_file(tmp_path, [
        ["好公司", "", "13812345678", "", "", "", "", "", ""],
        ["坏电话公司", "", "12345", "", "", "", "", "", ""],
        ["坏日期公司", "", "", "", "", "2021-02-30", "", "", ""],
        ["", "", "13912345678", "", "", "", "", "", ""],
    ]), file_name="客户.xlsx")
    batch = imports.import_preview(batch.pk)
    # Only a row without a usable name is an error; a phone nobody can dial or a date no calendar has is
    # left out of its row, which is imported with a note saying so.
    assert batch.counts["error"] == 1 and batch.counts["new"] == 3 and batch.counts["warnings"] == 2
    assert "2021-02-30" in batch.rows.get(row_number=5).reason
    book = load_workbook(batch.error_report.path)
    errors, warnings = book.worksheets
    rows = list(errors.iter_rows(values_only=True))
    assert rows[0][:4] == ("错误原因", "行号", "序号", "客户名称")
    assert [r[1] for r in rows[1:]] == [6]
    assert rows[1][0]  # an empty name has a reason
    rows = list(warnings.iter_rows(values_only=True))
    assert rows[0] == ("行号", "列", "文件中的值", "留空的原因")
    assert [r[:3] for r in rows[1:]] == [(4, "手机号码", "12345"), (5, "建档日期", "2021-02-30")]
    assert all(r[3] for r in rows[1:])


def test_a_sheet_with_the_same_customer_twice_folds_the_second_into_the_first(tmp_path, it_importer):
    batch = run(tmp_path, it_importer, [
        ["申通物流有限公司", "", "", "", "", "", "", "", ""],
        ["申通物流有限责任公司", "", "13812345678", "a@b.example", "", "", "", "王芳", ""],
    ])
    assert batch.counts["created"] == 1 and batch.counts["merged_in_file"] == 1
    customer = Customer.objects.get()
    assert (customer.name, customer.mobile, customer.email) == ("申通物流有限公司", "+8613812345678", "a@b.example")
    assert Contact.objects.get(customer=customer).name == "王芳"
    assert "13812345678" in customer.search_text


@pytest.mark.parametrize("policy, expected_mobile, expected_notes", [
    ("skip", "", "原备注"),
    ("fill", "+8613812345678", "原备注"),
    ("overwrite", "+8613812345678", "文件备注"),
])
def test_existing_customers_follow_the_policy(tmp_path, it_importer, rep_east, policy, expected_mobile,
                                             expected_notes):
    existing = CustomerFactory(name="上海申通物流有限公司", owner=rep_east, mobile="", notes="原备注")
    version = Customer.objects.get(pk=existing.pk).version
    batch = run(tmp_path, it_importer, [["上海申通物流有限公司", "", "13812345678", "", "", "", "", "", "文件备注"]],
                policy=policy)
    existing.refresh_from_db()
    assert (existing.mobile, existing.notes) == (expected_mobile, expected_notes)
    assert Customer.objects.count() == 1
    if policy == "skip":
        assert (batch.counts["skipped"], batch.counts["updated"]) == (1, 0)
        assert existing.version == version
    else:
        assert (batch.counts["skipped"], batch.counts["updated"]) == (0, 1)
        assert existing.version == version + 1
        assert ImportRecord.objects.get(batch=batch).before["mobile"] == ""


def test_committing_twice_writes_once(tmp_path, it_importer):
    batch = run(tmp_path, it_importer, [["甲公司", "", "", "", "", "", "", "", ""]])
    again = imports.import_commit(batch.pk, by_id=it_importer.pk)
    assert again.status == ImportBatch.Status.DONE
    assert Customer.objects.filter(name="甲公司").count() == 1
    assert ImportRecord.objects.filter(batch=batch).count() == 1


def test_the_staged_rows_are_an_unlogged_table():
    """They can be made again from the file, so they write no WAL (migration crm 0028)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT relpersistence FROM pg_class WHERE relname = %s", [ImportRow._meta.db_table])
        assert cursor.fetchone() == ("u",)


def test_a_checked_batch_whose_staged_rows_a_database_crash_emptied_is_refused_not_imported_as_empty(
        tmp_path, it_importer):
    batch = imports.import_upload(by=it_importer, path=sheet_file(tmp_path, [["甲公司", "", "", "", "", "", "", "", ""]]),
                                  file_name="客户.xlsx")
    batch = imports.import_preview(batch.pk)
    assert batch.status == ImportBatch.Status.PREVIEWED
    # What crash recovery does to an unlogged table: it is emptied.
    ImportRow.objects.filter(batch=batch).delete()
    batch.status = ImportBatch.Status.COMMITTING
    batch.save()
    batch = imports.import_commit(batch.pk, by_id=it_importer.pk)
    assert batch.status == ImportBatch.Status.FAILED
    assert "重新检查" in batch.error or "check the file again" in batch.error
    assert not Customer.objects.filter(name="甲公司").exists()
    # It can be checked again and imported.
    batch = imports.import_preview(batch.pk)
    assert batch.status == ImportBatch.Status.PREVIEWED
    batch.status = ImportBatch.Status.COMMITTING
    batch.save()
    assert imports.import_commit(batch.pk, by_id=it_importer.pk).status == ImportBatch.Status.DONE
    assert Customer.objects.filter(name="甲公司").count() == 1


def test_undo_removes_what_was_created_and_restores_what_was_changed(tmp_path, it_importer, rep_east):
    existing = CustomerFactory(name="老客户有限公司", owner=rep_east, notes="原备注")
    edited_later = "改过的有限公司"
    batch = run(tmp_path, it_importer, [
        ["新客户有限公司", "", "13812345678", "", "", "", "", "张三", ""],
        ["老客户有限公司", "", "", "", "", "", "", "", "新备注"],
        [edited_later, "", "", "", "", "", "", "", ""],
    ], policy="overwrite")
    assert batch.counts["created"] == 2 and batch.counts["updated"] == 1
    assert Customer.objects.get(pk=existing.pk).notes == "新备注"
    # Someone edits one of the imported customers before the undo.
    from crm import services

    later = Customer.objects.get(name=edited_later)
    services.customer_update(customer=later, by=it_importer, version=later.version, notes="之后改的")
    batch.status = ImportBatch.Status.UNDOING
    batch.save()
    batch = imports.import_undo(batch.pk, by_id=it_importer.pk)
    # The customer edited since is left: the batch is partly undone (crm/tests/test_import_undo.py).
    assert batch.status == ImportBatch.Status.PARTLY_UNDONE
    assert not Customer.objects.filter(name="新客户有限公司").exists()
    assert not Contact.objects.filter(name="张三").exists()
    assert Customer.objects.get(pk=existing.pk).notes == "原备注"
    assert Customer.objects.get(name=edited_later).notes == "之后改的"
    assert [c["name"] for c in batch.conflicts] == [edited_later]
    # The same task run twice changes nothing.
    assert imports.import_undo(batch.pk, by_id=it_importer.pk).status == ImportBatch.Status.PARTLY_UNDONE
    assert Customer.objects.get(pk=existing.pk).notes == "原备注"


def test_unknown_owners_go_to_the_pool_or_to_the_chosen_owner(tmp_path, it_importer, rep_east):
    rows = [["甲有限公司", "", "", "", "不存在的人", "", "", "", ""]]
    batch = run(tmp_path, it_importer, rows)
    assert Customer.objects.get(name="甲有限公司").owner is None
    batch.status = ImportBatch.Status.UNDOING
    batch.save()
    imports.import_undo(batch.pk, by_id=it_importer.pk)
    run(tmp_path, it_importer, rows, unknown_owner="default", default_owner=rep_east)
    assert Customer.objects.get(name="甲有限公司").owner == rep_east


def test_a_rep_may_not_import(tmp_path, rep_east):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        imports.import_upload(by=rep_east, path=sheet_file(tmp_path, []), file_name="客户.xlsx")


def test_the_command_checks_imports_and_undoes(tmp_path, it_importer, capsys):
    path = sheet_file(tmp_path, [["甲有限公司", "", "13812345678", "", "", "", "", "", ""],
                                 ["乙有限公司", "", "bad", "", "", "", "", "", ""]])
    call_command("import_customers", str(path), "--user", it_importer.username, "--dry-run")
    out = capsys.readouterr().out
    assert "new" in out and "error" in out and not Customer.objects.exists()
    call_command("import_customers", str(path), "--user", it_importer.username)
    out = capsys.readouterr().out
    assert "created" in out and Customer.objects.filter(name="甲有限公司").exists()
    batch = ImportBatch.objects.filter(status=ImportBatch.Status.DONE).get()
    call_command("import_undo", str(batch.pk), "--user", it_importer.username)
    assert not Customer.objects.exists()


def test_the_command_writes_the_time_round_trips_and_write_ahead_log_of_each_step(tmp_path, it_importer):
    import json

    path = sheet_file(tmp_path, [["甲有限公司", "", "13812345678", "", "", "", "", "", ""]])
    report = tmp_path / "timings.json"
    call_command("import_customers", str(path), "--user", it_importer.username, "--timings", str(report))
    steps = json.loads(report.read_text())["steps"]
    assert list(steps) == ["upload", "check", "commit", "search_index"]
    assert all(step["seconds"] > 0 and step["round_trips"] > 0 for step in steps.values())
    # The commit writes customers, contacts, events and undo records: its log is not empty.
    assert steps["commit"]["wal_mb"] >= 0 and all(isinstance(step["wal_mb"], float) for step in steps.values())


@pytest.mark.parametrize("builder, name", [
    ("legacy_xlsx", "2019年客户名单.xlsx"),
    ("legacy_xls", "老客户.xls"),
    ("gbk_csv", "客户_GBK.csv"),
    ("english_crm_xlsx", "accounts_export.xlsx"),
    ("english_crm_csv", "accounts_export.csv"),
])
def test_every_legacy_file_imports_and_its_counts_add_up(tmp_path, it_importer, picklists, builder, name):
    """The files IT brings: each one checked and imported, every data row accounted for, and the
    rows that are not data (titles, blanks, repeated headings, sections, totals) reported apart."""
    from crm.tests import import_files

    path = tmp_path / name
    described = getattr(import_files, builder)(path)
    batch = imports.import_upload(by=it_importer, path=path, file_name=name)
    assert batch.header_row == described["header_row"]
    assert "name" in batch.mapping.values()
    batch = imports.import_preview(batch.pk)
    assert batch.status == ImportBatch.Status.PREVIEWED, batch.error
    counts = batch.counts
    assert counts["data"] == described["data_rows"]
    assert counts["new"] + counts["existing"] + counts["in_file"] + counts["error"] == counts["data"]
    assert counts["section"] == described.get("sections", 0)
    assert counts["total"] == described.get("totals", 0)
    assert counts["blank"] == described.get("blank", 0)
    assert counts["header"] == described.get("repeated_headers", 0)
    batch.status = ImportBatch.Status.COMMITTING
    batch.save()
    batch = imports.import_commit(batch.pk, by_id=it_importer.pk)
    done = batch.counts
    assert done["created"] + done["updated"] + done["unchanged"] + done["merged_in_file"] + done["skipped"] + \
        done["errors"] == described["data_rows"]
    assert Customer.objects.count() == done["created"] > 0
    # Every stored phone is E.164 and every stored email lower case.
    for mobile, email in Customer.objects.values_list("mobile", "email"):
        assert mobile == "" or mobile.startswith("+")
        assert email == email.lower()


def test_a_check_whose_file_is_gone_fails_with_a_reason_instead_of_hanging(tmp_path, it_importer):
    batch = imports.import_upload(by=it_importer, path=sheet_file(tmp_path, [["甲公司", "", "", "", "", "", "", "",
                                                                             ""]]), file_name="客户.xlsx")
    batch.file.delete(save=False)
    batch = imports.import_preview(batch.pk)
    assert batch.status == ImportBatch.Status.FAILED
    assert "重新上传" in batch.error


def test_an_update_by_import_shows_on_the_timeline_only_when_something_changed(tmp_path, it_importer, rep_east):
    filled = CustomerFactory(name="要补充的有限公司", owner=rep_east, mobile="")
    complete = CustomerFactory(name="已完整的有限公司", owner=rep_east, mobile="+8613900001111")
    run(tmp_path, it_importer, [["要补充的有限公司", "", "13812345678", "", "", "", "", "", ""],
                                ["已完整的有限公司", "", "13700001111", "", "", "", "", "", ""]], policy="fill")
    events = [e for e in history_of(filled) if e.get("action") == "customer_import"]
    assert len(events) == 1 and any(new == "+8613812345678" for _label, _old, new in events[0]["changes"])
    assert [e for e in history_of(complete) if e.get("action") == "customer_import"] == []
    assert Customer.objects.get(pk=complete.pk).mobile == "+8613900001111"


def checked_batch(tmp_path, by):
    batch = imports.import_upload(by=by, path=sheet_file(tmp_path, [["甲有限公司", "", "", "", "", "", "", "", ""],
                                                                  ["乙有限公司", "", "", "", "", "", "", "", ""]]),
                                  file_name="客户.xlsx")
    return imports.import_preview(batch.pk)


def test_cancel_stops_a_running_commit_and_nothing_is_written(tmp_path, it_importer):
    from django.core.cache import cache

    batch = checked_batch(tmp_path, it_importer)
    batch.status = ImportBatch.Status.COMMITTING
    batch.save()
    # The cancel arrives while the commit's transaction holds the batch row: it goes through the cache.
    cache.set(cancel._cancel_key(batch.pk), True)
    batch = imports.import_commit(batch.pk, by_id=it_importer.pk)
    assert batch.status == ImportBatch.Status.CANCELLED
    assert not Customer.objects.exists() and not ImportRecord.objects.exists()
    assert cache.get(cancel._cancel_key(batch.pk)) is None


def test_cancel_before_the_worker_starts_and_of_a_finished_import(tmp_path, it_importer):
    from django.core.exceptions import ValidationError

    batch = checked_batch(tmp_path, it_importer)
    batch.status = ImportBatch.Status.COMMITTING
    batch.save()
    imports.import_cancel(batch=batch, by=it_importer)
    assert imports.import_commit(batch.pk, by_id=it_importer.pk).status == ImportBatch.Status.CANCELLED
    assert not Customer.objects.exists()
    done = run(tmp_path, it_importer, [["丙有限公司", "", "", "", "", "", "", "", ""]])
    with pytest.raises(ValidationError):
        imports.import_cancel(batch=done, by=it_importer)


def test_a_check_cancelled_while_it_runs_stays_cancelled(tmp_path, it_importer, monkeypatch):
    batch = imports.import_upload(by=it_importer, path=sheet_file(tmp_path, [["甲有限公司", "", "", "", "", "", "", "",
                                                                             ""]]), file_name="客户.xlsx")
    fold = check._fold_in_file_duplicates

    def cancelled_meanwhile(staged):
        imports.import_cancel(batch=staged, by=it_importer)  # the importer presses cancel mid-check
        fold(staged)

    monkeypatch.setattr(check, "_fold_in_file_duplicates", cancelled_meanwhile)
    assert imports.import_preview(batch.pk).status == ImportBatch.Status.CANCELLED
    assert ImportBatch.objects.get(pk=batch.pk).status == ImportBatch.Status.CANCELLED


def test_old_finished_imports_lose_their_upload_and_rows_but_keep_their_record(tmp_path, it_importer, settings):
    import datetime as dt
    import os

    old = run(tmp_path, it_importer, [["甲有限公司", "", "", "", "", "", "", "", ""]])
    recent = run(tmp_path, it_importer, [["乙有限公司", "", "", "", "", "", "", "", ""]])
    ImportBatch.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=40))
    path = old.file.path
    assert imports.import_files_expire(keep_days=30) == 1
    old.refresh_from_db()
    assert not old.file and not os.path.exists(path) and not ImportRow.objects.filter(batch=old).exists()
    assert old.counts["created"] == 1 and ImportRecord.objects.filter(batch=old).count() == 1
    recent.refresh_from_db()
    assert recent.file and ImportRow.objects.filter(batch=recent).exists()
    assert imports.import_files_expire(keep_days=30) == 0  # twice is harmless
    # The undo still works without the file.
    old.status = ImportBatch.Status.UNDOING
    old.save()
    imports.import_undo(old.pk, by_id=it_importer.pk)
    assert not Customer.objects.filter(name="甲有限公司").exists()


def test_imported_customers_are_found_by_search_once_the_task_after_the_commit_wrote_their_search_rows(
        tmp_path, it_importer, picklists, django_capture_on_commit_callbacks):
    from django.db import connection

    from crm.models import CustomerSearch
    from crm.selectors.search import customers_matching_text
    from crm.services.customers import customers_search_index_merge

    rows = [["上海申通物流有限公司", "", "13812345678", "", "", "", "", "王建国", ""],
            ["杭州西湖软件有限公司", "", "13912345678", "", "", "", "", "", ""]]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        batch = run(tmp_path, it_importer, rows)
    assert batch.counts["created"] == 2
    created = list(Customer.objects.filter(name__in=[r[0] for r in rows]).values_list("pk", flat=True))

    def found(term):
        return list(customers_matching_text(Customer.objects.all(), term).values_list("name", flat=True))

    # The commit wrote the customers without their search rows (no trigram index update per row)...
    assert not CustomerSearch.objects.filter(customer_id__in=created).exists()
    assert found("shentong") == []
    # ...and queued the task that writes them, which a worker runs once the commit is in.
    assert len(callbacks) == 1
    assert imports.import_search_fill(batch.pk) == 2
    assert CustomerSearch.objects.filter(customer_id__in=created).count() == 2
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # the trigram index answers
        assert found("shentong") == ["上海申通物流有限公司"]
        assert found("xhrj") == ["杭州西湖软件有限公司"]
        assert found("王建国") == ["上海申通物流有限公司"]
        assert customers_search_index_merge() == 0  # the task merged the pending entries
    # Run twice, it adds nothing, and a customer whose search text changed meanwhile keeps the row
    # its own write made (the copy trigger).
    shentong = Customer.objects.get(name="上海申通物流有限公司")
    Customer.objects.filter(pk=shentong.pk).update(search_text=" changed text ")
    assert imports.import_search_fill(batch.pk) == 0
    assert CustomerSearch.objects.get(customer_id=shentong.pk).text == " changed text "
    assert found("shentong") == []
    assert found("changed") == ["上海申通物流有限公司"]


def test_a_lost_search_row_task_is_made_good_by_the_hourly_repair(tmp_path, it_importer, picklists,
                                                                   django_capture_on_commit_callbacks):
    from crm.models import CustomerSearch
    from crm.selectors.search import customers_matching_text
    from crm.services.customers import customers_search_repair

    with django_capture_on_commit_callbacks(execute=False):
        run(tmp_path, it_importer, [["上海申通物流有限公司", "", "13812345678", "", "", "", "", "", ""]])
    customer = Customer.objects.get(name="上海申通物流有限公司")
    assert not CustomerSearch.objects.filter(customer=customer).exists()
    assert customers_search_repair() == 1
    assert customers_search_repair() == 0
    assert list(customers_matching_text(Customer.objects.all(), "shentong")) == [customer]


def test_undoing_an_import_removes_its_customers_search_rows(tmp_path, it_importer, picklists,
                                                             django_capture_on_commit_callbacks):
    from crm.models import CustomerSearch

    with django_capture_on_commit_callbacks(execute=False):
        batch = run(tmp_path, it_importer, [["上海申通物流有限公司", "", "13812345678", "", "", "", "", "", ""]])
    imports.import_search_fill(batch.pk)
    pk = Customer.objects.get(name="上海申通物流有限公司").pk
    assert CustomerSearch.objects.filter(customer_id=pk).exists()
    imports.import_undo(batch.pk, by_id=it_importer.pk)
    assert not Customer.objects.filter(pk=pk).exists()
    assert not CustomerSearch.objects.filter(customer_id=pk).exists()
    assert imports.import_search_fill(batch.pk) == 0  # a late task writes nothing for customers gone


def test_a_check_puts_back_the_commits_that_wait_for_the_disk(tmp_path, it_importer, settings):
    """The staging statements commit without waiting for the disk; the connection, which a worker
    keeps for its next task, waits again afterwards, after a check that stops with a reason too."""
    from django.db import connection

    def waits():
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            return cursor.fetchone()[0]

    rows = [["甲有限公司", "", "", "", "", "", "", "", ""], ["乙有限公司", "", "", "", "", "", "", "", ""]]
    batch = imports.import_upload(by=it_importer, path=sheet_file(tmp_path, rows), file_name="客户.xlsx")
    assert imports.import_preview(batch.pk).status == ImportBatch.Status.PREVIEWED
    assert waits() == "on"
    settings.CRM_IMPORT_MAX_ROWS = 1
    failed = imports.import_preview(batch.pk)
    assert failed.status == ImportBatch.Status.FAILED and "1" in failed.error
    assert waits() == "on"


# Phones -----------------------------------------------------------------------------------------------------

PHONE_HEADINGS = ["序号", "客户名称", "手机", "电话", "联系人", "备注"]


def test_a_cell_of_several_numbers_is_split_over_the_fields_and_the_notes(tmp_path, it_importer):
    rows = [
        ["甲公司", "13812345671/021-62345678", "", "王建国", ""],
        ["乙公司", "13812345672、13912345672 14012345672", "0571-88886666", "李雷", "老客户"],
        ["丙公司", "13812345673；13912345673", "", "", ""],
        ["丁公司", "", "13712345674", "", ""],  # a mobile in 电话, 手机 empty: moves to 手机
        ["戊公司", "021-62345675", "", "", ""],  # a landline in 手机, 电话 empty: moves to 电话
        ["己公司", "13812345676", "13912345676", "", ""],  # 手机 taken: the mobile stays in 电话
        ["庚公司", "", "021-6234 5678 转 801", "", ""],
        ["辛公司", "(0571)88886666-12", "13612345678", "", ""],  # both misplaced: swapped
    ]
    batch = run(tmp_path, it_importer, rows, headings=PHONE_HEADINGS)
    assert batch.counts["created"] == len(rows), batch.counts
    found = {c.name: (c.mobile, c.phone, c.notes) for c in Customer.objects.all()}
    assert found == {
        "甲公司": ("+8613812345671", "+862162345678", ""),
        "乙公司": ("+8613812345672", "+8657188886666", "老客户\n其他电话：140 1234 5672"),
        "丙公司": ("+8613812345673", "", "其他电话：139 1234 5673"),
        "丁公司": ("+8613712345674", "", ""),
        "戊公司": ("", "+862162345675", ""),
        "己公司": ("+8613812345676", "+8613912345676", ""),
        "庚公司": ("", "+862162345678;ext=801", ""),
        "辛公司": ("+8613612345678", "+8657188886666;ext=12", ""),
    }
    contact = Contact.objects.get(customer__name="乙公司")
    assert (contact.name, contact.mobile) == ("李雷", "+8613912345672")


def test_an_existing_customer_keeps_its_notes_and_gets_every_number(tmp_path, it_importer, rep_east):
    existing = CustomerFactory(name="上海申通物流有限公司", owner=rep_east, mobile="", phone="", notes="原备注")
    run(tmp_path, it_importer, [["上海申通物流有限公司", "13812345678/13912345678/13712345678/021-62345678", "",
                                 "王建国", ""]], headings=PHONE_HEADINGS, policy="fill")
    existing.refresh_from_db()
    assert (existing.mobile, existing.phone) == ("+8613812345678", "+862162345678")
    # No contact is written for an existing customer: the number the contact would have had is noted.
    assert existing.notes == "原备注\n其他电话：139 1234 5678 / 137 1234 5678"
    # Imported again, the line is not repeated.
    run(tmp_path, it_importer, [["上海申通物流有限公司", "13812345678/13912345678/13712345678/021-62345678", "",
                                 "王建国", ""]], headings=PHONE_HEADINGS, policy="overwrite")
    existing.refresh_from_db()
    assert existing.notes == "原备注\n其他电话：139 1234 5678 / 137 1234 5678"


def test_a_well_formed_mobile_phonenumbers_does_not_know_is_imported(tmp_path, it_importer):
    batch = run(tmp_path, it_importer, [["新号段有限公司", "+86 140.1234.5678", "", "", ""]],
                headings=PHONE_HEADINGS)
    assert batch.counts["created"] == 1
    assert Customer.objects.get(name="新号段有限公司").mobile == "+8614012345678"


def test_a_bad_number_is_left_out_of_its_row_with_the_reason(tmp_path, it_importer):
    batch = run(tmp_path, it_importer, [["坏号码有限公司", "1381234", "", "", ""]], headings=PHONE_HEADINGS)
    assert (batch.counts["created"], batch.counts["errors"], batch.counts["with_warnings"]) == (1, 0, 1)
    row = ImportRow.objects.get(batch=batch)
    assert "“1381234”不是有效的电话号码。" in row.reason
    customer = Customer.objects.get(name="坏号码有限公司")
    assert customer.mobile == "" and customer.import_raw_values.get().raw == "1381234"


def test_an_updated_customers_search_text_is_worked_out_by_the_task_after_the_commit(tmp_path, it_importer):
    first = run(tmp_path, it_importer, [["申通物流有限公司", "", "", "", "", "", "", "", ""]])
    assert first.counts["created"] == 1
    second = run(tmp_path, it_importer, [["申通物流有限公司", "", "13912345678", "", "", "", "", "", ""]],
                 policy="fill")
    assert second.counts["updated"] == 1
    customer = Customer.objects.get()
    assert customer.mobile == "+8613912345678" and "13912345678" not in customer.search_text  # not in the commit
    imports.import_search_fill(second.pk)  # the task the commit queued
    customer.refresh_from_db()
    assert "13912345678" in customer.search_text


def test_the_commit_matches_the_rows_again_against_the_customers_as_they_are_then(tmp_path, it_importer, picklists):
    """Between the check and the commit, a customer of the file was created by hand, another was
    archived and a third merged away: the commit writes what holds then, not what the check saw."""
    archived = CustomerFactory(name="杭州西湖软件有限公司", mobile="+8613912345678")
    survivor = CustomerFactory(name="北京华信科技集团")
    merged = CustomerFactory(name="北京华信科技有限公司", email="info@huaxin.example")
    kept = CustomerFactory(name="南京长江贸易有限公司")
    rows = [
        ["上海申通物流有限公司", "A", "13812345678", "", "", "", "", "", ""],
        ["杭州西湖软件有限公司", "B", "13912345678", "", "", "", "", "", ""],
        ["北京华信科技有限公司", "B", "", "info@huaxin.example", "", "", "", "", ""],
        ["南京长江贸易有限公司", "B", "", "", "", "", "", "", "备注"],
    ]
    batch = imports.import_upload(by=it_importer, path=sheet_file(tmp_path, rows), file_name="客户.xlsx")
    batch = imports.import_preview(batch.pk)
    verdicts = dict(ImportRow.objects.filter(batch=batch).values_list("data__name", "verdict"))
    assert verdicts == {"上海申通物流有限公司": "new", "杭州西湖软件有限公司": "existing",
                        "北京华信科技有限公司": "existing", "南京长江贸易有限公司": "existing"}

    by_hand = CustomerFactory(name="上海申通物流有限公司")
    Customer.objects.filter(pk=archived.pk).update(archived_at=timezone.now())
    Customer.objects.filter(pk=merged.pk).update(merged_into=survivor)
    batch.status, batch.policy = ImportBatch.Status.COMMITTING, "fill"
    batch.save()
    batch = imports.import_commit(batch.pk, by_id=it_importer.pk)

    assert batch.status == ImportBatch.Status.DONE
    matched = dict(ImportRow.objects.filter(batch=batch).values_list("data__name", "match_id"))
    assert matched["上海申通物流有限公司"] == by_hand.pk
    assert matched["杭州西湖软件有限公司"] is None and matched["北京华信科技有限公司"] is None
    assert matched["南京长江贸易有限公司"] == kept.pk
    assert (batch.counts["created"], batch.counts["updated"]) == (2, 2)
    assert Customer.objects.filter(name="上海申通物流有限公司").count() == 1
    assert Customer.objects.filter(name="杭州西湖软件有限公司", archived_at=None).exclude(pk=archived.pk).exists()
    assert Customer.objects.get(pk=kept.pk).notes.endswith("备注")
