"""Issue 16's standard: a messy legacy list (crm/tests/messy_list.py: 2,750 rows, 2,400 customers)
imported with the automatic mapping and the default choices brings every customer whose name is usable,
each with the values the file gives it, field by field; every bad cell is a warning on its row (and kept
beside its customer); repeats are merged and no two customers are."""
import datetime

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from crm.lib.text import name_key
from crm.models import Choice, Customer, ImportBatch, ImportRawValue
from crm.services import imports

from .messy_list import HEADINGS, MAPPING, messy_customer_list

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def imported(tmp_path, it_importer, picklists):
    truth = messy_customer_list(tmp_path / "客户名单.xlsx")
    batch = imports.import_upload(by=it_importer, path=tmp_path / "客户名单.xlsx", file_name="客户名单.xlsx")
    mapping = {int(i): key for i, key in batch.mapping.items()}
    batch = imports.import_preview(batch.pk)
    assert batch.status == ImportBatch.Status.PREVIEWED, batch.error
    previewed = batch.counts
    imports.import_request_commit(batch=batch, by=it_importer, policy="skip", unknown_owner="pool")
    batch = imports.import_commit(batch.pk, by_id=it_importer.pk)
    assert batch.status == ImportBatch.Status.DONE, batch.error
    return {"truth": truth, "batch": batch, "mapping": mapping, "previewed": previewed}


def test_the_columns_are_mapped_as_a_user_would(imported):
    assert imported["mapping"] == MAPPING


def test_every_customer_with_a_name_arrives_and_the_counts_add_up(imported):
    truth, counts = imported["truth"], imported["batch"].counts
    customers = len(truth["customers"])
    assert customers == 2_400 and truth["data_rows"] == 2_750
    assert counts["data"] == truth["data_rows"]
    assert (counts["created"], counts["merged_in_file"], counts["errors"]) == (2_400, 345, 5)
    assert counts["created"] + counts["updated"] + counts["unchanged"] + counts["skipped"] + \
        counts["merged_in_file"] + counts["errors"] == counts["data"]
    assert counts["hint"] == 1 and counts["blank"] == len(truth["blank_rows"])
    assert counts["total"] == len(truth["total_rows"])
    assert Customer.objects.count() == 2_400


def test_repeats_are_merged_and_no_two_customers_are(imported):
    truth = imported["truth"]
    stored = dict(Customer.objects.values_list("name", "name_key"))
    # Each customer once, under its name as the file first wrote it (full-width brackets kept).
    assert set(stored) == set(truth["customers"])
    assert {stored[name] for name in stored} == {name_key(name) for name in truth["customers"]}
    assert {"First Bank", "FirstBank", "Premier Bank", "PremierBank", "中国矿业大学（北京）"} <= set(stored)


def test_each_customer_holds_what_the_file_gives_it_field_by_field(imported):
    truth = imported["truth"]["customers"]
    customers = Customer.objects.select_related("industry", "source")
    checked = 0
    for customer in customers:
        expected = truth[customer.name]
        assert customer.mobile == expected.get("mobile", ""), customer.name
        assert customer.phone == expected.get("phone", ""), customer.name
        assert customer.email == expected.get("email", ""), customer.name
        assert customer.tier == expected.get("tier", "B"), customer.name
        assert getattr(customer.industry, "label", None) == expected.get("industry"), customer.name
        assert getattr(customer.source, "label", None) == expected.get("source"), customer.name
        assert customer.deal_amount == expected.get("deal_amount"), customer.name
        assert customer.city == expected["city"] and customer.notes == expected.get("notes", ""), customer.name
        if "created_at" in expected:
            assert timezone.localtime(customer.created_at).date() == expected["created_at"], customer.name
        checked += 1
    assert checked == 2_400


def test_words_no_list_had_were_added_to_their_lists(imported):
    truth = imported["truth"]
    previewed = imported["previewed"]["unknown_values"]
    assert {word for word, _rows in previewed["source"]} == truth["unknown_sources"]
    assert {word for word, _rows in previewed["industry"]} == truth["unknown_industries"]
    assert set(Choice.objects.filter(kind="source", label__in=truth["unknown_sources"])
               .values_list("label", flat=True)) == truth["unknown_sources"]
    rows = sum(n for words in previewed.values() for _word, n in words)
    assert rows > 1_000  # most rows name one


def test_every_bad_cell_is_a_warning_on_its_row(imported):
    truth, batch = imported["truth"], imported["batch"]
    assert imported["previewed"]["warnings"] == len(truth["warned_rows"]) > 100
    warnings = load_workbook(batch.error_report.path).worksheets[1]
    listed = {(row, column) for row, column, _value, why in list(warnings.iter_rows(values_only=True))[1:]
              if column in HEADINGS and "列表" not in why}
    assert listed == truth["bad_cells"]


def test_a_bad_cell_is_kept_as_written_beside_its_customer(imported):
    truth = imported["truth"]
    by_row = {}
    for row, heading in truth["bad_cells"]:
        by_row.setdefault(row, set()).add(heading)
    kept = {}
    for name, row, heading in ImportRawValue.objects.filter(batch=imported["batch"]).exclude(
            field__in=("industry", "source")).values_list("customer__name", "row_number", "heading"):
        kept.setdefault((name, row), set()).add(heading)
    singletons = {(name, row) for name, row in truth["singletons"].items() if row in by_row}
    assert singletons and all(kept.get((name, row)) == by_row[row] for name, row in singletons)


def test_it_runs_on_any_day(imported):
    # The file's dates are its own (2012-2023): nothing depends on today.
    assert all(day <= datetime.date(2023, 12, 31) for c in imported["truth"]["customers"].values()
               for key, day in c.items() if key == "created_at")
