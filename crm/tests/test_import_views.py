"""The import pages: upload, mapping, check, import, result, undo, the template, and who may see a batch."""
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from accounts.capabilities import Capability, Scope
from accounts.models import Role
from crm.models import Customer, ImportBatch
from crm.services import imports
from crm.tests.test_imports import sheet_file

pytestmark = pytest.mark.django_db

LIST = reverse("crm:import_list")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def upload(client, path, name="客户.xlsx"):
    with open(path, "rb") as handle:
        return client.post(LIST, {"file": SimpleUploadedFile(name, handle.read())})


def mapping_post(batch, **extra):
    data = {"sheet": batch.sheet, "header_row": batch.header_row + 1, "tier_words": "", "save_as": ""}
    data.update({f"col_{i}": key for i, key in batch.mapping.items()})
    data.update(extra)
    return data


def test_the_it_persona_goes_from_upload_to_undo(client_for, it_importer, tmp_path,
                                                 django_capture_on_commit_callbacks):
    client = client_for(it_importer)
    path = sheet_file(tmp_path, [["上海申通物流有限公司", "重点客户", "13812345678", "", "", "", "", "", ""],
                                 ["坏电话公司", "", "12345", "", "", "", "", "", ""],
                                 ["", "", "13912345678", "", "", "", "", "无名联系人", ""]])
    response = upload(client, path)
    batch = ImportBatch.objects.get()
    assert response.status_code == 302 and response.url == batch.get_absolute_url()
    page = client.get(batch.get_absolute_url()).content.decode()
    assert 'data-testid="mapping-table"' in page
    assert '<option value="name" selected>' in page and '<option value="mobile" selected>' in page
    assert "上海申通物流有限公司" in page  # first values shown next to the columns

    with django_capture_on_commit_callbacks() as queued:
        response = client.post(reverse("crm:import_configure", args=[batch.pk]),
                               mapping_post(batch, check="1", save_as="华东模板"))
    assert response.status_code == 302 and len(queued) == 1
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.PREVIEWING and batch.mapping_name == "华东模板"
    imports.import_preview(batch.pk)  # what the queued task runs

    page = client.get(batch.get_absolute_url()).content.decode()
    assert 'data-count="new">2<' in page and 'data-count="error">1<' in page and 'data-count="warnings">1<' in page
    assert 'data-testid="error-report"' in page and 'data-testid="import-commit"' in page
    rows = client.get(reverse("crm:import_rows", args=[batch.pk]), {"verdict": "error"},
                      HTTP_HX_REQUEST="true").content.decode()
    assert "无名联系人" in rows and "坏电话公司" not in rows and "上海申通" not in rows and "<html" not in rows
    report = client.get(reverse("crm:import_error_report", args=[batch.pk]))
    sheet = load_workbook(io.BytesIO(b"".join(report.streaming_content))).active
    first = next(sheet.iter_rows(values_only=True))
    assert first[:2] == ("错误原因", "行号")

    with django_capture_on_commit_callbacks() as queued:
        response = client.post(reverse("crm:import_commit", args=[batch.pk]),
                               {"policy": "skip", "unknown_owner": "pool"})
    assert response.status_code == 302 and len(queued) == 1
    imports.import_commit(batch.pk, by_id=it_importer.pk)
    page = client.get(batch.get_absolute_url()).content.decode()
    assert 'data-count="created">2<' in page and 'data-count="with_warnings">1<' in page
    assert 'data-testid="result-warnings"' in page
    warned = client.get(reverse("crm:import_rows", args=[batch.pk]), {"verdict": "warnings"},
                        HTTP_HX_REQUEST="true").content.decode()
    assert "坏电话公司" in warned and "12345" in warned and "上海申通" not in warned
    assert 'data-testid="import-undo"' in page
    assert Customer.objects.filter(name="上海申通物流有限公司").exists()
    # Until the task after the commit has written their search rows, the page says the search lags.
    assert 'data-testid="search-pending"' in page and "几秒" in page
    imports.import_search_fill(batch.pk)
    assert 'data-testid="search-pending"' not in client.get(batch.get_absolute_url()).content.decode()
    # The phone nobody could dial is kept, as the file had it, on its customer's page.
    bad_phone = Customer.objects.get(name="坏电话公司")
    assert bad_phone.mobile == ""
    page = client.get(bad_phone.get_absolute_url()).content.decode()
    assert 'data-testid="import-raw-value"' in page and "12345" in page

    with django_capture_on_commit_callbacks() as queued:
        client.post(reverse("crm:import_undo", args=[batch.pk]))
    assert len(queued) == 1
    imports.import_undo(batch.pk, by_id=it_importer.pk)
    assert not Customer.objects.exists()
    assert 'data-testid="import-undone"' in client.get(batch.get_absolute_url()).content.decode()
    history = client.get(LIST).content.decode()
    assert "客户.xlsx" in history and "已撤销" in history


def test_a_file_that_is_not_a_spreadsheet_is_refused_with_a_reason(client_for, it_importer):
    response = client_for(it_importer).post(LIST, {"file": SimpleUploadedFile("客户.xlsx", b"%PDF-1.4 not a sheet")})
    assert response.status_code == 422
    assert "不是" in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_the_mapping_must_name_the_customer(client_for, it_importer, tmp_path):
    client = client_for(it_importer)
    upload(client, sheet_file(tmp_path, [["甲公司", "", "", "", "", "", "", "", ""]]))
    batch = ImportBatch.objects.get()
    data = mapping_post(batch, check="1")
    data = {k: ("" if v == "name" else v) for k, v in data.items()}
    response = client.post(reverse("crm:import_configure", args=[batch.pk]), data)
    assert response.status_code == 422 and "客户必须有名称" in response.content.decode()
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.UPLOADED


def test_the_template_has_the_headings_dropdowns_and_an_example(client_for, it_importer, picklists, tmp_path):
    response = client_for(it_importer).get(reverse("crm:import_template"))
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = book["客户"]
    headings = [c.value for c in sheet[1]]
    assert headings[:3] == ["客户名称", "客户类型", "客户等级"]
    assert sheet["A2"].value == "上海示例科技有限公司"
    assert len(sheet.data_validations.dataValidation) >= 4
    # The template imports as it is.
    path = tmp_path / "template.xlsx"
    book.save(path)
    from crm.imports.layout import auto_mapping, find_header
    from crm.imports.read import open_workbook

    with open_workbook(path) as workbook:
        rows = list(workbook.rows("客户"))
    assert find_header(rows) == 0
    assert {"name", "kind", "tier", "mobile", "contact_name", "deal_amount"} <= set(auto_mapping(rows[0]).values())


def test_reps_may_not_open_imports(client_for, rep_east):
    assert client_for(rep_east).get(LIST).status_code == 403


def test_nobody_else_sees_a_batch(client_for, it_importer, rep_west, teams, tmp_path):
    """Another team's rep, and an importer who sees only their team's customers, get 404 on every page
    of someone else's batch, and nothing changes."""
    batch = imports.import_upload(by=it_importer, path=sheet_file(tmp_path, [["甲公司", "", "", "", "", "", "", "",
                                                                             ""]]), file_name="客户.xlsx")
    batch = imports.import_preview(batch.pk)
    role = Role.objects.create(name="分公司导入员", capabilities=[Capability.IMPORT_DATA],
                               customers_scope=Scope.TEAM)
    from accounts.tests.factories import UserFactory

    team_importer = UserFactory(username="team_importer", team=teams["beijing"], roles=[role])
    names = ["import_detail", "import_rows", "import_configure", "import_commit", "import_cancel", "import_undo",
             "import_error_report", "import_reopen"]
    for user in (rep_west, team_importer):
        client = client_for(user)
        for name in names:
            url = reverse(f"crm:{name}", args=[batch.pk])
            assert client.get(url).status_code in (404, 405), (user, name)
            assert client.post(url, {"policy": "overwrite", "unknown_owner": "pool"}).status_code == 404, (user, name)
        assert "客户.xlsx" not in client.get(LIST).content.decode()
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.PREVIEWED and not Customer.objects.exists()
    # Their own batches they do see.
    own = imports.import_upload(by=team_importer, path=sheet_file(tmp_path, [["乙公司", "", "", "", "", "", "", "",
                                                                            ""]]), file_name="乙.xlsx")
    assert client_for(team_importer).get(own.get_absolute_url()).status_code == 200


def test_the_check_shows_values_as_people_read_them(client_for, it_importer, tmp_path):
    batch = imports.import_upload(by=it_importer, path=sheet_file(tmp_path, [
        ["甲有限公司", "重点客户", "13812345678", "", "不存在的人", "", "", "", ""]]), file_name="客户.xlsx")
    # 负责人 names no user, so it is not guessed as the owner; mapped by hand, the check says so.
    assert "owner" not in batch.mapping.values()
    imports.import_configure(batch=batch, by=it_importer, mapping={**batch.mapping, "5": "owner"})
    imports.import_preview(batch.pk)
    page = client_for(it_importer).get(batch.get_absolute_url()).content.decode()
    assert "138 1234 5678" in page and "+8613812345678" not in page
    assert "不存在的人（未找到该用户）" in page


def test_a_checked_import_goes_back_to_its_columns_and_is_checked_again(client_for, it_importer, tmp_path,
                                                                      picklists):
    """An industry missing from the picklist: the row is new, the word listed for a choice; once an admin
    adds it, the importer goes back, checks again and the row reads it as that entry."""
    from crm.models import Choice

    client = client_for(it_importer)
    path = tmp_path / "行业.xlsx"
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["客户名称", "所属行业"])
    book.active.append(["甲有限公司", "文化传媒"])
    book.save(path)
    batch = imports.import_preview(imports.import_upload(by=it_importer, path=path, file_name="行业.xlsx").pk)
    assert (batch.counts["new"], batch.counts["error"]) == (1, 0)
    assert batch.counts["unknown_values"] == {"industry": [["文化传媒", 1]]}
    page = client.get(batch.get_absolute_url()).content.decode()
    assert 'data-testid="import-reopen"' in page and 'data-value="文化传媒"' in page
    Choice.objects.create(kind=Choice.Kind.INDUSTRY, code="media", label="文化传媒", label_en="Media")
    assert client.post(reverse("crm:import_reopen", args=[batch.pk])).status_code == 302
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.UPLOADED
    assert 'data-testid="mapping-table"' in client.get(batch.get_absolute_url()).content.decode()
    batch = imports.import_preview(batch.pk)
    assert (batch.counts["new"], batch.counts["error"], batch.counts["unknown_values"]) == (1, 0, {})
    assert batch.rows.get().data["industry"] == Choice.objects.get(code="media").pk


def test_the_import_pages_keep_their_query_count(client_for, it_importer, rep_east, tmp_path,
                                                 django_assert_max_num_queries):
    """History, a checked batch, its rows and a finished batch: as many queries for 2 rows as for 40
    (existing matches, owners and errors included)."""
    from crm.tests.factories import CustomerFactory

    client = client_for(it_importer)

    def batch_of(count, name):
        rows = [[f"{name}{i}有限公司", "", f"1381234{i:04d}", "", "rep_east", "", "", "", ""] for i in range(count)]
        rows.append([f"{name}坏行", "", "12345", "", "", "", "", "", ""])  # a warning, on a customer of its own
        CustomerFactory(name=f"{name}0有限公司", owner=rep_east)
        batch = imports.import_upload(by=it_importer, path=sheet_file(tmp_path, rows, name=f"{name}.xlsx"),
                                      file_name=f"{name}.xlsx")
        return imports.import_preview(batch.pk)

    def pages(batch):
        return [batch.get_absolute_url(), reverse("crm:import_rows", args=[batch.pk]), LIST]

    # A checked batch's page (counts, sample, commit form with the owner list), its rows, the history.
    pins = (11, 8, 5)
    small, big = batch_of(2, "小"), batch_of(40, "大")
    for batch in (small, big):
        for url, most in zip(pages(batch), pins, strict=True):
            with django_assert_max_num_queries(most):
                assert client.get(url).status_code == 200
    # The finished page, with its rows that were not imported (and whether the search rows are in: 2).
    ImportBatch.objects.filter(pk=small.pk).update(status="committing")
    done = imports.import_commit(small.pk, by_id=it_importer.pk)
    with django_assert_max_num_queries(13) as captured:
        client.get(done.get_absolute_url())
    few = len(captured.captured_queries)
    ImportBatch.objects.filter(pk=big.pk).update(status="committing")
    imports.import_commit(big.pk, by_id=it_importer.pk)
    with django_assert_max_num_queries(few):
        assert client.get(big.get_absolute_url()).status_code == 200


def test_a_match_the_importer_may_not_see_shows_only_that_it_exists_elsewhere(client_for, rep_west, teams, tmp_path):
    """An importer who sees only their own team: a row matching another team's customer says that it
    exists in another team, nothing more: not even its owner (as the duplicate check says it)."""
    from accounts.tests.factories import UserFactory
    from crm.tests.factories import CustomerFactory

    role = Role.objects.create(name="分公司导入员", capabilities=[Capability.IMPORT_DATA], customers_scope=Scope.TEAM)
    importer = UserFactory(username="sh_importer", team=teams["shanghai"], roles=[role])
    rep_west.display_name = ""
    rep_west.save()
    CustomerFactory(name="北京华信科技有限公司", owner=rep_west, notes="机密备注")
    batch = imports.import_upload(by=importer, path=sheet_file(tmp_path, [["北京华信科技有限公司", "", "", "", "", "", "",
                                                                         "", ""]]), file_name="客户.xlsx")
    imports.import_preview(batch.pk)
    page = client_for(importer).get(batch.get_absolute_url()).content.decode()
    rows = page.split('data-testid="import-rows"')[1]
    assert "已存在，在其他团队中" in rows, rows[:800]
    assert rep_west.name not in rows and rep_west.username not in rows
    assert "机密备注" not in page and 'href="/customers/' not in rows


def _real_world_file(tmp_path, owner_names):
    """A list as a sales office types it: a hint row under the headings, a code column, a revenue
    column of amounts, an owner column holding `owner_names`, a first-cooperation date and a place."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["客户编号", "客户名称", "销售收入", "负责人", "首次合作日期", "所在地", "联系方式", "自定义信息"])
    sheet.append(["选填", "必填", "选填", "必填", "格式：2021-01-01", "选填", "选填", "选填"])
    for n, owner in enumerate(owner_names, start=1):
        sheet.append([f"KH-{n:03d}", f"第{n}号有限公司", f"{n}.5万", owner, f"2020-0{n}-15", "上海",
                      f"1381234567{n}", f"备忘{n}"])
    path = tmp_path / "real.xlsx"
    book.save(path)
    return path


def test_the_columns_are_guessed_by_heading_and_values_and_shown_with_confidence_and_samples(
        client_for, it_importer, rep_east, tmp_path):
    client = client_for(it_importer)
    upload(client, _real_world_file(tmp_path, ["rep_east", rep_east.display_name, "rep_east"]))
    batch = ImportBatch.objects.get()
    assert batch.header_row == 0
    assert batch.mapping == {"1": "name", "2": "deal_amount", "3": "owner", "4": "deal_date", "5": "city",
                             "6": "mobile"}
    assert batch.guesses["1"] == ["name", "high"] and batch.guesses["3"] == ["owner", "high"]
    assert batch.guesses["2"] == ["deal_amount", "medium"] and batch.guesses["5"] == ["city", "medium"]

    page = client.get(batch.get_absolute_url()).content.decode()
    assert page.count('data-testid="mapping-confidence"') == 6
    assert '<tr data-testid="mapping-column" data-column="3" data-confidence="high">' in page
    # The code and the custom column are not imported, and shown with three of their values.
    assert page.count('data-testid="mapping-not-imported"') == 2
    for value in ("KH-001", "KH-002", "KH-003", "备忘1", "备忘3"):
        assert value in page
    assert "必填" not in page.split('data-testid="mapping-table"')[1].split("</table>")[0]  # the hint row is no sample

    # Once a column is mapped by hand, its guess's confidence is no longer shown.
    batch.mapping["5"] = "address"
    batch.save()
    page = client.get(batch.get_absolute_url()).content.decode()
    assert page.count('data-testid="mapping-confidence"') == 5


def test_an_owner_column_of_strangers_is_not_imported_and_the_hint_row_is_counted(client_for, it_importer,
                                                                                   tmp_path):
    client = client_for(it_importer)
    upload(client, _real_world_file(tmp_path, ["赵六", "孙七", "周八"]))
    batch = ImportBatch.objects.get()
    assert "owner" not in batch.mapping.values() and batch.mapping["2"] == "deal_amount"
    page = client.get(batch.get_absolute_url()).content.decode()
    assert '<tr data-testid="mapping-column" data-column="3" data-not-imported>' in page and "孙七" in page
    batch = imports.import_preview(batch.pk)
    assert (batch.counts["hint"], batch.counts["data"], batch.counts["error"]) == (1, 3, 0)
    page = client.get(batch.get_absolute_url()).content.decode()
    assert "表头下有 1 行填写说明" in page
