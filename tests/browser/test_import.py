"""The IT persona imports a legacy Chinese customer list in the browser, with a real Celery worker:
upload → automatic mapping → check (worker) → counts, the row with cells left empty and the industries
no list has (one read as an entry, one added, one left empty) → import (worker) → the report of errors
and warnings → the customer page with the values not stored → undo (worker); and the list and batch
pages on a phone. Screenshots in artifacts/screenshots/.

Files: the session worker (conftest.celery_worker_process) was started with this process's
environment, so it reads MEDIA_ROOT from the same place the live server does (the MEDIA_ROOT
variable, else BASE_DIR/media). Overriding settings.MEDIA_ROOT here, as the view tests do, would
not reach the already running worker: its task would stop on FileNotFoundError and the batch stay
"previewing". So the test keeps the shared MEDIA_ROOT and deletes the files its batch wrote afterwards.
"""
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook
from playwright.sync_api import expect

from crm.models import Choice, Customer, ImportBatch, ImportRecord
from crm.tests.import_files import legacy_xlsx

from .pages import DESKTOP, PHONE, horizontal_overflow, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.worker]

WORKER = 30_000  # ms: how long a step on the worker may take
# The row of legacy_xlsx with three bad cells: mobile 1366666777 (10 digits), email sun@ojyy, date
# 2020-13-45. It is imported without them, each a warning, kept as written on the customer's page.
BAD_ROW = "温州瓯江医院"
BAD_CELLS = ("1366666777", "sun@ojyy", "2020-13-45")


@pytest.fixture
def importer(demo_company, celery_worker_process):
    """The demo company, a worker for its tasks, and no files of this test's batches left behind."""
    yield demo_company
    for batch in ImportBatch.objects.all():
        for stored in (batch.file, batch.error_report):
            if stored:
                stored.delete(save=False)


def count(page, key):
    """The number on the count card `key` (data-count)."""
    return int(page.locator(f"[data-testid=import-counts] [data-count={key}]").inner_text())


def wait_for_status(page, status, worker):
    """Wait until the batch page (polling, then reloading itself) shows `status`; if it does not,
    fail with the end of the worker's log, where the reason is."""
    try:
        expect(page.locator("[data-testid=import-status]")).to_have_attribute("data-status", status,
                                                                               timeout=WORKER)
    except AssertionError as exc:
        worker["log"].seek(0)
        pytest.fail(f"{exc}\n\nThe worker's log ends:\n{worker['log'].read()[-3000:]}")


def test_it_imports_a_legacy_list_and_undoes_it(importer, celery_worker_process, open_page, screenshot, tmp_path,
                                                console_errors):
    path = tmp_path / "2019年华东区客户名单.xlsx"
    described = legacy_xlsx(path)
    rep = importer["rep_sh"]
    page = open_page(DESKTOP)
    sign_in(page, "it")

    # 1. Upload.
    page.goto(reverse("crm:import_list"))
    upload = page.locator("form[data-testid=import-upload]")
    upload.locator("input[name=file]").set_input_files(path)
    upload.locator("button[type=submit]").click()
    expect(page.locator("[data-testid=mapping-table]")).to_be_visible()
    batch = ImportBatch.objects.get()
    assert page.url.endswith(batch.get_absolute_url())
    assert batch.sheet == described["sheet"] and batch.header_row == described["header_row"]

    # 2. The automatic mapping: 客户名称 → name, 手机号码 → mobile … 负责人 names 张三, 李四 …, nobody in
    # the company, so it is not guessed as the owner: "not imported", with its values beside it.
    for heading, field in (("客户名称", "name"), ("手机号码", "mobile"), ("客户等级", "tier"), ("负责人", ""),
                           ("序号", "")):
        column = described["headings"].index(heading)
        expect(page.locator(f"select[data-column='{column}']")).to_have_value(field)
    table = page.locator("[data-testid=mapping-table]")
    expect(table).to_contain_text("上海华新科技有限公司")
    name_row = table.locator(f"tr[data-column='{described['headings'].index('客户名称')}']")
    expect(name_row).to_have_attribute("data-confidence", "high")
    expect(name_row.locator("[data-testid=mapping-confidence]")).to_have_text("匹配度高")
    expect(name_row.locator("[data-testid=mapping-samples] span")).to_have_count(3)
    owner_row = table.locator(f"tr[data-column='{described['headings'].index('负责人')}']")
    expect(owner_row.locator("[data-testid=mapping-not-imported]")).to_have_text("不导入")
    expect(owner_row.locator("[data-testid=mapping-samples]")).to_contain_text("张三")

    # The mapping on a phone: one column per block, nothing wider than the screen.
    phone = open_page(PHONE)
    sign_in(phone, "it")
    phone.goto(batch.get_absolute_url())
    expect(phone.locator("[data-testid=mapping-table]")).to_be_visible()
    assert horizontal_overflow(phone) <= 0
    screenshot(phone, "import-mapping-375")
    screenshot(page, "import-mapping-1280")
    page.locator("[data-testid=import-check]").click()

    # 3. The check runs on the worker; the page polls and reloads itself when it is done.
    wait_for_status(page, "previewed", celery_worker_process)
    batch.refresh_from_db()
    assert batch.error == "" and "industry" in batch.mapping.values()
    assert count(page, "data") == described["data_rows"]
    assert (count(page, "error"), count(page, "warnings")) == (0, 1)  # only a row without a name is lost
    verdicts = [count(page, key) for key in ("new", "existing", "in_file", "error")]
    assert sum(verdicts) == described["data_rows"]
    layout = {"title": described["title_rows"], "blank": described["blank"], "header": described["repeated_headers"],
              "section": described["sections"], "total": described["totals"]}
    assert {key: batch.counts[key] for key in layout} == layout
    expect(page.locator("[data-testid=error-report]")).to_be_visible()
    # The company's industry picklist has no 软件和信息技术, 文化传媒 or 批发零售: each is offered to add
    # (the default), to read as an entry there is, or to leave empty.
    unknown = page.locator("[data-testid=unknown-values]")
    for word in ("软件和信息技术", "文化传媒", "批发零售"):
        expect(unknown.locator(f"[data-testid=unknown-value][data-value='{word}'] select")).to_have_value("add")
    unknown.locator("[data-testid=unknown-value][data-value='软件和信息技术'] select").select_option(label="按“信息技术”导入")
    unknown.locator("[data-testid=unknown-value][data-value='批发零售'] select").select_option("empty")
    screenshot(page, "import-preview-1280")

    page.locator("[data-testid=verdict-tabs] label[for=verdict-warnings]").click()
    expect(page.locator("#verdict-warnings")).to_be_checked()
    rows = page.locator("[data-testid=import-rows] [data-verdict]")
    expect(rows).to_have_count(1)
    bad = rows.first
    expect(bad).to_have_attribute("data-verdict", "new")
    expect(bad).to_have_attribute("data-row", str(described["data_indexes"][-1] + 1))
    expect(bad).to_contain_text(BAD_ROW)
    for cell in BAD_CELLS:
        expect(bad).to_contain_text(cell)
    screenshot(page, "import-preview-warnings-1280")

    # The batch page on a phone, at its fullest (rows and the import form).
    phone.goto(batch.get_absolute_url())
    expect(phone.locator("form[data-testid=import-commit]")).to_be_visible()
    assert horizontal_overflow(phone) <= 0
    screenshot(phone, "import-detail-375")

    # 4. The choices, and the import on the worker.
    commit = page.locator("form[data-testid=import-commit]")
    commit.locator("input[name=policy][value=fill]").check()
    commit.locator("input[name=unknown_owner][value=default]").check()
    commit.locator("select[name=default_owner]").select_option(str(rep.pk))
    commit.locator("[data-testid=import-run]").click()
    wait_for_status(page, "done", celery_worker_process)
    created, errors = count(page, "created"), count(page, "errors")
    assert created == verdicts[0] > 0 and errors == 0 and count(page, "with_warnings") == 1
    others = [count(page, key) for key in ("updated", "unchanged", "merged_in_file", "skipped")]
    assert created + errors + sum(others) == described["data_rows"]
    created_ids = list(ImportRecord.objects.filter(batch=batch, action="created").values_list("customer_id", flat=True))
    customers = Customer.objects.filter(pk__in=created_ids)
    assert customers.count() == created
    # 张三, 李四 … are nobody in the company: their customers went to the chosen owner.
    assert set(customers.values_list("owner", flat=True)) == {rep.pk}
    def industry_of(part):
        return customers.values_list("industry__label", flat=True).get(name__contains=part)

    assert (industry_of("华新科技"), industry_of("东方明珠")) == ("信息技术", "文化传媒")
    added = set(Choice.objects.filter(kind="industry").values_list("label", flat=True))
    assert "文化传媒" in added and not {"软件和信息技术", "批发零售"} & added
    hospital = customers.get(name=BAD_ROW)
    assert (hospital.mobile, hospital.email) == ("", "")
    expect(page.locator("[data-testid=import-rows] [data-verdict=new]")).to_contain_text(BAD_ROW)
    screenshot(page, "import-done-1280")

    report = page.request.get(page.locator("[data-testid=error-report]").get_attribute("href"))
    assert report.status == 200
    assert report.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    errors_sheet, warnings_sheet = load_workbook(io.BytesIO(report.body())).worksheets
    lines = list(errors_sheet.iter_rows(values_only=True))
    assert lines[0][:2] == ("错误原因", "行号") and len(lines) == 1
    warned = [line for line in warnings_sheet.iter_rows(values_only=True)][1:]
    assert {line[2] for line in warned} >= set(BAD_CELLS)

    # The hospital's page keeps what could not be stored, as the file had it (on a phone).
    phone.goto(hospital.get_absolute_url())
    kept = phone.locator("[data-testid=import-raw-values]")
    for cell in BAD_CELLS:
        expect(kept).to_contain_text(cell)
    assert horizontal_overflow(phone) <= 0
    screenshot(phone, "import-raw-values-375")

    # 5. Undo, after a confirmation.
    dialogs = []

    def confirm(dialog):
        dialogs.append(dialog.message)
        dialog.accept()

    page.once("dialog", confirm)
    page.locator("[data-testid=import-undo]").click()
    wait_for_status(page, "undone", celery_worker_process)
    assert len(dialogs) == 1 and "撤销" in dialogs[0]
    expect(page.locator("[data-testid=import-undone]")).to_be_visible()
    assert not Customer.objects.filter(pk__in=created_ids).exists()
    screenshot(page, "import-undone-1280")

    # The list and the (undone) batch on the phone.
    phone.goto(batch.get_absolute_url())
    expect(phone.locator("[data-testid=import-undone]")).to_be_visible()
    assert horizontal_overflow(phone) <= 0
    phone.goto(reverse("crm:import_list"))
    expect(phone.locator("[data-testid=import-history]")).to_contain_text(path.name)
    assert horizontal_overflow(phone) <= 0
    screenshot(phone, "import-list-375")
    assert console_errors == []
