"""Customer-list exports to .xlsx: only visible rows, formula-safe cells, translated headers, the
background path through a real worker, and the access grid of the export pages."""
import datetime
import io
import time
from urllib.parse import quote

import pytest
from django.db import connection
from django.http import QueryDict
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from accounts.access import forget_access
from accounts.capabilities import Capability, Scope
from accounts.tests.factories import RoleFactory
from crm.lib.xlsx import XLSX_CONTENT_TYPE
from crm.models import Customer, Export
from crm.services import export as export_service
from crm.services.export import export_start, export_write
from crm.tests.factories import CustomerFactory, choice

pytestmark = pytest.mark.dates

EXPORT_URL = "crm:customer_export"


@pytest.fixture
def media(settings, tmp_path):
    """Export files of in-process runs go to a temporary folder."""
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def grant_export(user):
    """Give a person the export capability (reps do not have it), without widening what they see."""
    role = RoleFactory(capabilities=[Capability.EXPORT_DATA.value], customers_scope=Scope.NONE,
                       sales_scope=Scope.NONE)
    user.roles.add(role)
    forget_access(user)
    return user


def workbook_of(response):
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return load_workbook(io.BytesIO(content)).active


def rows_of(response):
    return [list(row) for row in workbook_of(response).iter_rows(values_only=True)]


def names_in(response):
    return {row[0] for row in rows_of(response)[1:]}


def export(client, **params):
    query = QueryDict(mutable=True)
    query.update(params)
    return client.get(reverse(EXPORT_URL) + ("?" + query.urlencode() if params else ""))


# Only what the user may see

def test_it_exports_none_of_another_teams_customers(client_for, book, rep_west, rep_east):
    for i in range(3):
        CustomerFactory(name=f"上海新客户{i}", owner=rep_east)
    response = export(client_for(grant_export(rep_west)))
    assert response.status_code == 200
    assert names_in(response) == {"北京客户"}


def test_it_exports_a_managers_region_and_the_directors_whole_company(client_for, book, manager_west, director):
    assert names_in(export(client_for(manager_west))) == {"北京客户"}
    assert names_in(export(client_for(director))) == {c.name for c in book.values()}


def test_it_leaves_out_archived_and_merged_customers(client_for, director, book):
    Customer.objects.filter(pk=book["c_sh"].pk).update(archived_at=timezone.now())
    Customer.objects.filter(pk=book["c_sh2"].pk).update(merged_into=book["c_hz"])
    names = names_in(export(client_for(director)))
    assert "上海客户甲" not in names and "上海客户乙" not in names and "杭州客户" in names


def test_it_exports_the_filtered_and_sorted_list_across_all_pages(client_for, director):
    for name, tier in [("Charlie", "A"), ("Alpha", "A"), ("Bravo", "C"), ("Delta", "A")]:
        CustomerFactory(name=name, tier=tier, owner=director)
    rows = rows_of(export(client_for(director), tier="A", sort="name", after="bogus-cursor"))
    assert [row[0] for row in rows[1:]] == ["Alpha", "Charlie", "Delta"]


def test_it_refuses_to_queue_filters_too_long_to_store(settings, client_for, director):
    settings.CRM_EXPORT_SYNC_LIMIT = 1
    CustomerFactory(owner=director)
    CustomerFactory(owner=director)
    response = export(client_for(director), note="长" * 400)
    assert response.status_code == 302 and response["Location"].startswith(reverse("crm:customer_list"))
    assert not Export.objects.exists()


def test_it_refuses_people_without_the_export_capability(client_for, rep_east, book):
    client = client_for(rep_east)
    assert export(client).status_code == 403
    assert client.get(reverse("crm:export_list")).status_code == 403


# The file

def test_it_writes_every_column_in_the_users_language_and_time_zone(client_for, director, rep_east, picklists):
    rep_east.display_name = "王小明"
    rep_east.save()
    CustomerFactory(
        name="华信科技", kind="company", tier="A", status="following", owner=rep_east,
        industry=choice("industry", "it"), source=choice("source", "referral"), tags=["重点", "华东"],
        phone="+862162345678", mobile="+8613812345678", email="it@huaxin.example", website="huaxin.example",
        province="上海市", city="上海市", district="浦东新区", address="张江路 1 号", notes="年底续约",
        next_followup_at=datetime.datetime(2026, 3, 1, 2, 0, tzinfo=datetime.UTC),
        deal_status="won", deal_date=datetime.date(2026, 2, 14),
    )
    header, row = rows_of(export(client_for(director)))
    assert len(header) == len(row) == len(export_service.COLUMNS)
    cells = dict(zip(export_service.COLUMNS, row, strict=True))
    assert cells["name"] == "华信科技"
    assert cells["tier"] == "A 重点"
    assert (cells["industry"], cells["source"]) == ("信息技术", "客户介绍")
    assert cells["tags"] == "重点, 华东"
    assert (cells["phone"], cells["mobile"]) == ("021 6234 5678", "138 1234 5678")
    assert (cells["owner"], cells["team"]) == ("王小明", "上海分公司")
    assert cells["next_followup_at"] == datetime.datetime(2026, 3, 1, 10, 0)  # Asia/Shanghai
    assert cells["deal_date"].date() == datetime.date(2026, 2, 14)
    assert (cells["address"], cells["notes"]) == ("张江路 1 号", "年底续约")

    director.time_zone = "Europe/Berlin"
    director.save()
    _, row = rows_of(export(client_for(director)))
    assert dict(zip(export_service.COLUMNS, row, strict=True))["next_followup_at"] == datetime.datetime(2026, 3, 1, 3, 0)


def test_it_writes_the_header_in_chinese_by_default(client_for, director, book):
    header = rows_of(export(client_for(director)))[0]
    assert header[0] == "名称" and "负责人" in header and "创建时间" in header


def test_it_writes_the_header_and_labels_in_english_for_an_english_user(client_for, english_client_for, director, book, picklists):
    CustomerFactory(name="Acme", tier="A", owner=director)
    header, *rows = rows_of(export(english_client_for(director)))
    assert header[:3] == ["Name", "Type", "Tier"] and "Owner" in header and "Last follow-up" in header
    acme = next(row for row in rows if row[0] == "Acme")
    assert acme[1:3] == ["Company", "A key"]

    director.preferred_language = "en"
    director.save()
    client = client_for(director)
    client.cookies.pop("django_language", None)
    assert rows_of(export(client))[0][0] == "Name"


def test_it_writes_formula_like_text_as_text(client_for, director):
    dangerous = ["=HYPERLINK(\"http://evil.example\",\"点我\")", "+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)",
                 "\t=1+1", "\r=1+1"]
    for i, text in enumerate(dangerous):
        CustomerFactory(name=text, notes=text, address=f"=A{i}", owner=director)
    sheet = workbook_of(export(client_for(director)))
    written = {}
    for row in sheet.iter_rows(min_row=2):
        for cell in (row[0], row[14], row[23]):  # name, address, notes
            assert cell.data_type == "s", cell.value  # never "f": Excel shows it, never evaluates it
            assert cell.quotePrefix  # and keeps it text when someone edits the cell
        written[row[0].value] = row[23].value
    # Written as they were; a leading CR (which XML cannot carry) as the line break Excel uses.
    assert written == {text.replace("\r", "\n"): text.replace("\r", "\n") for text in dangerous}


def test_it_drops_characters_a_workbook_cannot_hold(client_for, director):
    CustomerFactory(name="控制\x01字符\x1f客户", owner=director)
    assert names_in(export(client_for(director))) == {"控制字符客户"}


def test_it_names_the_download_in_utf8(client_for, director, book):
    response = export(client_for(director))
    day = timezone.localdate(timezone=datetime.timezone(datetime.timedelta(hours=8)))
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote(f'客户_{day:%Y%m%d}.xlsx')}" in disposition
    assert f'filename="customers_{day:%Y%m%d}.xlsx"' in disposition
    assert response["Content-Type"] == XLSX_CONTENT_TYPE
    assert "no-store" in response["Cache-Control"]


# Counting and the query budget

def test_it_counts_no_further_than_the_sync_limit(settings, director, media):
    settings.CRM_EXPORT_SYNC_LIMIT = 3
    for _i in range(7):
        CustomerFactory(owner=director)
    with CaptureQueriesContext(connection) as queries:
        started = export_start(user=director, params=QueryDict("page=2"))
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(counts) == 1 and "LIMIT 4" in counts[0]  # a capped count, never a full COUNT
    assert started.file is None and started.export.total == 4
    assert started.export.query == ""  # the list's page is not part of what is exported


def test_it_writes_up_to_the_limit_in_the_request(settings, director, media):
    settings.CRM_EXPORT_SYNC_LIMIT = 3
    for _i in range(3):
        CustomerFactory(owner=director)
    started = export_start(user=director, params=QueryDict())
    assert started.export is None and started.rows == 3
    assert not Export.objects.exists()
    started.file.close()


def test_it_exports_with_a_fixed_number_of_queries(client_for, director, django_assert_max_num_queries):
    client = client_for(director)
    CustomerFactory(owner=director)
    with django_assert_max_num_queries(6) as few:  # session, user, roles, capped count, tier labels, rows
        export(client)
    for _i in range(60):
        CustomerFactory(owner=director)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = export(client)
    assert len(rows_of(response)) == 62


def test_it_shows_the_status_and_the_list_with_a_fixed_number_of_queries(settings, client_for, director, media,
                                                                         django_assert_max_num_queries):
    settings.CRM_EXPORT_SYNC_LIMIT = 1
    CustomerFactory(owner=director)
    CustomerFactory(owner=director)
    client = client_for(director)
    first = export_start(user=director, params=QueryDict()).export
    with django_assert_max_num_queries(4):  # session, user, roles, the export
        assert client.get(reverse("crm:export_status", args=[first.pk])).status_code == 200
    with django_assert_max_num_queries(4) as few:
        client.get(reverse("crm:export_list"))
    for _i in range(5):
        export_start(user=director, params=QueryDict())
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("crm:export_list"))
    assert response.content.decode().count(reverse("crm:export_status", args=[first.pk])) == 1


# The background path, in-process

def test_it_queues_a_large_export_and_shows_its_progress(settings, client_for, director, media):
    settings.CRM_EXPORT_SYNC_LIMIT = 2
    for _i in range(3):
        CustomerFactory(owner=director, tier="A")
    client = client_for(director)
    response = export(client, tier="A", page="3")
    export_row = Export.objects.get(user=director)
    assert response.status_code == 302 and response["Location"] == reverse("crm:export_status", args=[export_row.pk])
    assert export_row.status == Export.Status.QUEUED and QueryDict(export_row.query).dict() == {"tier": "A"}

    page = client.get(response["Location"]).content.decode()
    assert 'hx-trigger="every 1s"' in page and "<progress" in page
    export_write(export_id=export_row.pk)
    partial = client.get(response["Location"], HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial and "hx-trigger" not in partial  # polling stops when ready
    download = reverse("crm:export_download", args=[export_row.pk])
    assert download in partial and "/media/" not in partial
    file_response = client.get(download)
    assert file_response.streaming and len(rows_of(file_response)) == 4


def test_it_updates_progress_every_chunk(settings, director, media, monkeypatch):
    settings.CRM_EXPORT_SYNC_LIMIT = 1
    monkeypatch.setattr(export_service, "CHUNK", 2)
    for _i in range(5):
        CustomerFactory(owner=director)
    export_row = export_start(user=director, params=QueryDict()).export
    with CaptureQueriesContext(connection) as queries:
        export_write(export_id=export_row.pk)
    progress = [q["sql"] for q in queries.captured_queries if q["sql"].startswith('UPDATE "crm_export" SET "done"')]
    assert len(progress) == 2  # after rows 2 and 4
    export_row.refresh_from_db()
    assert (export_row.status, export_row.done, export_row.total) == (Export.Status.DONE, 5, 5)


def test_it_is_safe_to_run_twice(settings, director, media):
    settings.CRM_EXPORT_SYNC_LIMIT = 1
    CustomerFactory(owner=director)
    CustomerFactory(owner=director)
    export_row = export_start(user=director, params=QueryDict()).export
    export_write(export_id=export_row.pk)
    export_row.refresh_from_db()
    first_file, finished_at = export_row.file.name, export_row.finished_at
    export_write(export_id=export_row.pk)  # delivered again: a finished export is left alone
    export_row.refresh_from_db()
    assert (export_row.file.name, export_row.finished_at) == (first_file, finished_at)
    assert [p.name for p in (media / "exports").iterdir()] == [first_file.split("/")[-1]]


def test_it_rewrites_an_interrupted_export_from_scratch(settings, director, media):
    settings.CRM_EXPORT_SYNC_LIMIT = 1
    for _i in range(3):
        CustomerFactory(owner=director)
    export_row = export_start(user=director, params=QueryDict()).export
    Export.objects.filter(pk=export_row.pk).update(status=Export.Status.RUNNING, done=2000, total=9999)
    export_write(export_id=export_row.pk)
    export_row.refresh_from_db()
    assert (export_row.status, export_row.done, export_row.total) == (Export.Status.DONE, 3, 3)
    with export_row.file.open("rb") as file:
        assert len(list(load_workbook(file).active.iter_rows())) == 4


def test_it_fails_with_a_message_when_the_capability_was_withdrawn(settings, director, media):
    settings.CRM_EXPORT_SYNC_LIMIT = 1
    CustomerFactory(owner=director)
    CustomerFactory(owner=director)
    export_row = export_start(user=director, params=QueryDict()).export
    for role in director.roles.all():
        role.capabilities = [c for c in role.capabilities if c != Capability.EXPORT_DATA]
        role.save()
    export_write(export_id=export_row.pk)
    export_row.refresh_from_db()
    assert export_row.status == Export.Status.FAILED and export_row.error and not export_row.file


def test_it_fails_with_a_message_when_writing_breaks(settings, director, media, monkeypatch):
    settings.CRM_EXPORT_SYNC_LIMIT = 1
    CustomerFactory(owner=director)
    CustomerFactory(owner=director)
    export_row = export_start(user=director, params=QueryDict()).export

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(export_service, "_write_workbook", broken)
    export_write(export_id=export_row.pk)
    export_row.refresh_from_db()
    assert export_row.status == Export.Status.FAILED and "OSError" in export_row.error
    assert export_row.finished_at is not None


# Someone else's export

@pytest.mark.parametrize("url", ["crm:export_status", "crm:export_download"])
@pytest.mark.parametrize("viewer", ["rep_west", "director", "manager_east"])
def test_it_hides_another_users_export(settings, client_for, person, manager_west, media, url, viewer):
    settings.CRM_EXPORT_SYNC_LIMIT = 1
    CustomerFactory(owner=manager_west)
    CustomerFactory(owner=manager_west)
    theirs = export_start(user=manager_west, params=QueryDict()).export
    export_write(export_id=theirs.pk)
    client = client_for(grant_export(person(viewer)))
    response = client.get(reverse(url, args=[theirs.pk]))
    assert response.status_code == 404
    listing = client.get(reverse("crm:export_list")).content.decode()
    assert reverse("crm:export_status", args=[theirs.pk]) not in listing


def test_it_does_not_download_an_unfinished_export(settings, client_for, director, media):
    settings.CRM_EXPORT_SYNC_LIMIT = 1
    CustomerFactory(owner=director)
    CustomerFactory(owner=director)
    export_row = export_start(user=director, params=QueryDict()).export
    assert client_for(director).get(reverse("crm:export_download", args=[export_row.pk])).status_code == 404


# The button the customer list includes

def test_it_renders_the_button_only_for_people_who_may_export(rep_east, director):
    request = RequestFactory().get("/customers/", {"tier": "A", "page": "4", "after": "cursor"})
    request.user = rep_east
    assert "data-testid=\"export-button\"" not in render_to_string("crm/export/button.html", request=request)
    request.user = director
    html = render_to_string("crm/export/button.html", request=request)
    assert f'href="{reverse(EXPORT_URL)}?tier=A"' in html


# Through the real worker process

@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_it_writes_a_large_export_on_the_real_worker(settings, celery_worker_process, client_for, book, rep_west,
                                                     rep_east):
    # Only the request decides sync or background; the worker writes whatever was queued, so the limit
    # set here (in the test process) is all it takes.
    settings.CRM_EXPORT_SYNC_LIMIT = 2
    for i in range(4):
        CustomerFactory(name=f"北京新客户{i}", owner=rep_west, notes="=1+1", status="following")
        CustomerFactory(name=f"上海新客户{i}", owner=rep_east, status="following")
    CustomerFactory(name="北京流失客户", owner=rep_west, status="lost")
    rep_west.preferred_language = "en"
    rep_west.save()
    client = client_for(grant_export(rep_west))
    response = export(client, status="following")
    export_row = Export.objects.get(user=rep_west)
    assert response.status_code == 302
    deadline = time.monotonic() + 60
    while export_row.status not in (Export.Status.DONE, Export.Status.FAILED) and time.monotonic() < deadline:
        time.sleep(0.2)
        export_row.refresh_from_db()
    try:
        assert export_row.status == Export.Status.DONE, export_row.error
        assert (export_row.done, export_row.total) == (4, 4)
        page = client.get(reverse("crm:export_status", args=[export_row.pk])).content.decode()
        assert reverse("crm:export_download", args=[export_row.pk]) in page
        sheet = workbook_of(client.get(reverse("crm:export_download", args=[export_row.pk])))
        rows = [list(row) for row in sheet.iter_rows(values_only=True)]
        assert rows[0][0] == "Name"  # the worker writes in the user's language
        # the worker applies the stored filters and the user's own access again
        assert {row[0] for row in rows[1:]} == {f"北京新客户{i}" for i in range(4)}
        notes = [row[23] for row in sheet.iter_rows(min_row=2) if row[0].value.startswith("北京新客户")]
        assert [(n.value, n.data_type) for n in notes] == [("=1+1", "s")] * 4
    finally:
        if export_row.file:
            export_row.file.delete(save=False)



def test_old_exports_are_deleted_with_their_files(director, tmp_path, settings):
    import datetime as dt
    import os

    from django.core.files.base import ContentFile
    from django.utils import timezone

    from crm.services.export import export_files_expire

    settings.MEDIA_ROOT = tmp_path / "media"
    old = Export.objects.create(user=director, status=Export.Status.DONE)
    old.file.save("old.xlsx", ContentFile(b"x"))
    fresh = Export.objects.create(user=director, status=Export.Status.DONE)
    fresh.file.save("fresh.xlsx", ContentFile(b"x"))
    running = Export.objects.create(user=director, status=Export.Status.RUNNING)
    Export.objects.filter(pk__in=[old.pk, running.pk]).update(created_at=timezone.now() - dt.timedelta(days=8))
    path = old.file.path
    assert export_files_expire(keep_days=7) == 1
    assert not os.path.exists(path) and not Export.objects.filter(pk=old.pk).exists()
    assert set(Export.objects.values_list("pk", flat=True)) == {fresh.pk, running.pk}
    assert export_files_expire(keep_days=7) == 0
