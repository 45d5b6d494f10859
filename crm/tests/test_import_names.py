"""Names are stored as written and matched by their key (issue 16): full-width brackets and
punctuation stay in names and notes, through the import, the customer form and a merge; the key
ignores spaces between Chinese characters but keeps the boundary between two Latin words; the
migration that works the keys out again; and the command line's --header-row and its refusals."""
import importlib

import pytest
from django.apps import apps as django_apps
from django.core.management import CommandError, call_command
from django.urls import reverse
from openpyxl import Workbook

from crm.lib.text import name_key
from crm.models import Contact, Customer, ImportBatch, ImportRow
from crm.selectors.duplicates import duplicates_for
from crm.services import imports
from crm.services.merge import customers_merge
from crm.tests.factories import CustomerFactory
from crm.tests.test_customer_form import form_data
from crm.tests.test_imports import run, sheet_file

pytestmark = pytest.mark.django_db

CUMTB = "中国矿业大学（北京）"  # as people write it: full-width brackets


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def row(name, notes="", contact=""):
    return [name, "", "", "", "", "", "", contact, notes]


def verdicts(batch):
    return dict(ImportRow.objects.filter(batch=batch).values_list("data__name", "verdict"))


def checked(tmp_path, by, rows):
    batch = imports.import_upload(by=by, path=sheet_file(tmp_path, rows), file_name="客户.xlsx")
    batch = imports.import_preview(batch.pk)
    assert batch.status == ImportBatch.Status.PREVIEWED, batch.error
    return batch


# The import ------------------------------------------------------------------------------------------------

def test_the_import_stores_names_notes_and_contacts_as_written(tmp_path, it_importer):
    run(tmp_path, it_importer, [row(f"  {CUMTB}\u3000", notes="需回访（下周）；联系：王老师！", contact="王（老师）")])
    customer = Customer.objects.get()
    assert customer.name == CUMTB
    assert customer.notes == "需回访（下周）；联系：王老师！"
    assert Contact.objects.get(customer=customer).name == "王（老师）"
    assert customer.name_key == "中国矿业大学北京" == name_key("中国矿业大学(北京)")


@pytest.mark.parametrize("written", ["中国矿业大学(北京)", "中国 矿业 大学（北京）", "中国矿业大学 （北京）"])
def test_the_import_finds_the_customer_however_its_name_is_spaced_or_bracketed(tmp_path, it_importer, written):
    existing = CustomerFactory(name=CUMTB)
    batch = checked(tmp_path, it_importer, [row(written)])
    staged = ImportRow.objects.get(batch=batch)
    assert (staged.verdict, staged.match_id, staged.match_on) == ("existing", existing.pk, "name")


def test_the_import_keeps_latin_words_apart(tmp_path, it_importer):
    batch = run(tmp_path, it_importer, [row("First Bank"), row("FirstBank"), row("Premier Bank"), row("PremierBank"),
                                         row("ABC Co., Ltd."), row("ABC Co Ltd"), row("abc co. ltd")])
    assert batch.counts["created"] == 5 and batch.counts["merged_in_file"] == 2
    assert set(Customer.objects.values_list("name", flat=True)) == {
        "First Bank", "FirstBank", "Premier Bank", "PremierBank", "ABC Co., Ltd."}


def test_the_import_matches_latin_names_against_existing_customers_by_their_words(tmp_path, it_importer):
    first_bank = CustomerFactory(name="First Bank")
    CustomerFactory(name="ABC Co Ltd")
    batch = checked(tmp_path, it_importer, [row("FirstBank"), row("FIRST  BANK"), row("ABC Co., Ltd.")])
    found = verdicts(batch)
    assert found == {"FirstBank": "new", "FIRST BANK": "existing", "ABC Co., Ltd.": "existing"}
    assert ImportRow.objects.get(batch=batch, data__name="FIRST BANK").match_id == first_bank.pk


# The customer form and the duplicate check -----------------------------------------------------------------

def test_the_form_stores_the_name_as_written_and_warns_of_its_half_width_twin(client_for, rep_east):
    client = client_for(rep_east)
    client.post(reverse("crm:customer_create"), form_data(name=f" {CUMTB} ", notes="备注（重要）：…"))
    customer = Customer.objects.get()
    assert (customer.name, customer.notes, customer.name_key) == (CUMTB, "备注（重要）：…", "中国矿业大学北京")
    response = client.post(reverse("crm:customer_create"), form_data(name="中国矿业大学 (北京)"))
    assert response.status_code == 200 and CUMTB in response.content.decode()
    assert Customer.objects.count() == 1


def test_the_duplicate_check_keeps_latin_words_apart(rep_east):
    CustomerFactory(name="First Bank", owner=rep_east)
    CustomerFactory(name="ABC Co Ltd", owner=rep_east)
    assert duplicates_for(rep_east, name="FirstBank") == []
    assert [d["customer"].name for d in duplicates_for(rep_east, name="first bank")] == ["First Bank"]
    assert [d["customer"].name for d in duplicates_for(rep_east, name="ＡＢＣ Ｃｏ．，Ｌｔｄ．")] == ["ABC Co Ltd"]


# Merge -----------------------------------------------------------------------------------------------------

def test_a_merge_keeps_the_chosen_name_as_written(manager_east, rep_east):
    survivor = CustomerFactory(name="中国矿业大学(北京)", owner=rep_east)
    other = CustomerFactory(name=CUMTB, owner=rep_east, notes="校区：学院路（丁11号）")
    customers_merge(survivor=survivor, others=[other], values={"name": other.pk, "notes": other.pk}, by=manager_east)
    survivor.refresh_from_db()
    assert (survivor.name, survivor.notes) == (CUMTB, "校区：学院路（丁11号）")
    assert survivor.name_key == "中国矿业大学北京"


# The migration ---------------------------------------------------------------------------------------------

def test_the_migration_works_the_keys_out_again(tmp_path, it_importer):
    bank, ltd = CustomerFactory(name="First Bank"), CustomerFactory(name="中国 矿业 大学（北京）")
    batch = checked(tmp_path, it_importer, [row("Premier Bank")])
    # The keys as the code before it made them: spaces and punctuation all dropped.
    Customer.objects.filter(pk=bank.pk).update(name_key="firstbank")
    Customer.objects.filter(pk=ltd.pk).update(name_key="中国矿业大学北京x")
    ImportRow.objects.filter(batch=batch).update(name_key="premierbank")
    migration = importlib.import_module("crm.migrations.0026_name_keys_with_word_boundaries")
    migration.recompute_keys(django_apps, None)
    assert dict(Customer.objects.values_list("name", "name_key")) == {
        "First Bank": "first bank", "中国 矿业 大学（北京）": "中国矿业大学北京"}
    assert ImportRow.objects.get(batch=batch).name_key == "premier bank"


# The command line ------------------------------------------------------------------------------------------

def xlsx(tmp_path, rows, name="list.xlsx"):
    book = Workbook()
    for values in rows:
        book.active.append(values)
    path = tmp_path / name
    book.save(path)
    return str(path)


def test_the_command_reads_the_heading_row_it_is_given(tmp_path, it_importer, capsys):
    # Row 1 looks like headings too (名称 is a name column), so the header is found there by itself.
    path = xlsx(tmp_path, [["名称", "说明"], ["导出说明", "内部资料"], ["序号", "客户名称", "手机号码"],
                           [1, CUMTB, "13812345678"], [2, "First Bank", ""]])
    call_command("import_customers", path, "--user", it_importer.username, "--header-row", "3")
    assert "imported" in capsys.readouterr().out
    assert set(Customer.objects.values_list("name", "mobile")) == {(CUMTB, "+8613812345678"), ("First Bank", "")}
    assert ImportBatch.objects.get().header_row == 2


@pytest.mark.parametrize("given, message", [("9", "没有第 9 行"), ("0", "--header-row")])
def test_the_command_refuses_a_heading_row_the_sheet_has_not(tmp_path, it_importer, given, message):
    path = xlsx(tmp_path, [["客户名称"], ["甲公司"]])
    with pytest.raises(CommandError, match=message):
        call_command("import_customers", path, "--user", it_importer.username, "--header-row", given)
    assert not Customer.objects.exists()
    assert not ImportBatch.objects.exclude(status=ImportBatch.Status.CANCELLED).exists()


def test_the_command_refuses_a_sheet_without_a_name_column_before_reading_its_rows(tmp_path, it_importer):
    path = xlsx(tmp_path, [["手机号码", "邮箱", "城市"], *[["13812345678", "a@b.example", "上海"]] * 50])
    with pytest.raises(CommandError) as refused:
        call_command("import_customers", path, "--user", it_importer.username)
    # The browser's own words (crm.services.imports.configure._valid_mapping), in the importer's language.
    assert str(refused.value) == "请将某一列映射为“客户名称”：客户必须有名称。"
    assert not ImportRow.objects.exists()
    assert ImportBatch.objects.get().status == ImportBatch.Status.CANCELLED


def test_the_command_says_so_of_a_sheet_with_headings_only(tmp_path, it_importer):
    it_importer.preferred_language = "en"
    it_importer.save(update_fields=["preferred_language"])
    path = xlsx(tmp_path, [["客户名称", "手机号码", "邮箱"]])
    with pytest.raises(CommandError) as refused:
        call_command("import_customers", path, "--user", it_importer.username, "--dry-run")
    assert str(refused.value) == ("The sheet “Sheet” has its headings (row 1) but no data rows: "
                                  "there is nothing to import.")
    assert ImportBatch.objects.get().status == ImportBatch.Status.CANCELLED
