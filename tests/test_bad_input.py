"""Every input the access probe found to give a 500 now gives a clear 4xx or a form error: one test per
cause (unicode digits in a paging id, NUL bytes, a count beyond PostgreSQL's integer, dates whose
arithmetic overflows, amounts that are not numbers, an invalid mapping form on a checked import, an
unknown id in the admin's access check). tests/test_fuzz.py looks for the causes nobody has seen yet."""
import datetime

import pytest
from django.urls import reverse

from crm.forms import CustomerForm
from crm.models import Customer, ImportBatch
from crm.services import imports
from crm.tests.factories import CustomerFactory
from crm.tests.test_imports import sheet_file
from sales.tests.conftest import deal, pipeline  # noqa: F401 - fixtures
from sales.tests.contract_factories import win

pytestmark = pytest.mark.django_db


def assert_bad_request(response):
    assert response.status_code == 400, response.status_code
    page = response.content.decode()
    assert "请求无效" in page  # the friendly page, in the site's layout, in Chinese by default
    assert "<nav" in page or "navbar" in page


# Paging ids with unicode digits: isdigit() said yes, int() said no -------------------------------------

@pytest.mark.parametrize("url", ["sales:opportunity_list", "sales:quote_list", "sales:contract_list",
                                 "notifications:list"])
@pytest.mark.parametrize("before", ["²", "١٢", "99999999999999999999999", "-1", "1\x00"])
def test_an_older_page_with_a_paging_id_that_is_no_id_is_a_400(client_for, director, url, before):
    assert_bad_request(client_for(director).get(reverse(url), {"before": before}))


def test_the_boards_load_more_with_a_paging_id_that_is_no_id_is_a_400(client_for, director, pipeline):  # noqa: F811
    stage = pipeline.stages.first()
    url = reverse("sales:column_more", args=[pipeline.pk, stage.pk])
    assert_bad_request(client_for(director).get(url, {"before": "²"}))


def test_an_older_page_with_a_good_paging_id_still_pages(client_for, director):
    assert client_for(director).get(reverse("sales:quote_list"), {"before": "12"}).status_code == 200


# NUL bytes ------------------------------------------------------------------------------------------

def test_a_search_for_a_nul_byte_is_a_400(client_for, rep_east):
    assert_bad_request(client_for(rep_east).get(reverse("crm:global_search"), {"q": "\x00"}))


def test_a_nul_byte_in_a_posted_form_is_a_400_and_nothing_is_saved(client_for, rep_east):
    response = client_for(rep_east).post(reverse("crm:customer_create"), {
        "kind": "company", "name": "零字节公司", "tier": "C", "status": "potential", "tags": "好\x00客户"})
    assert_bad_request(response)
    assert not Customer.objects.filter(name="零字节公司").exists()


def test_a_nul_byte_in_the_path_is_a_400(client_for, director):
    assert_bad_request(client_for(director).get("/sales/settings/numbering/quote%00/"))


def test_a_nul_byte_in_tags_is_dropped_as_every_control_character_of_stored_text(rep_east):
    form = CustomerForm({"kind": "company", "name": "零字节公司", "tier": "C", "status": "prospect",
                         "tags": "好\x00客户"}, user=rep_east)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["tags"] == ["好客户"]


def test_the_400_page_speaks_english_to_an_english_user(english_client_for, rep_east):
    response = english_client_for(rep_east).get(reverse("crm:global_search"), {"q": "a\x00"})
    assert response.status_code == 400 and "Bad request" in response.content.decode()


# Numbers beyond the column -----------------------------------------------------------------------------

def test_a_target_count_beyond_postgresqls_integer_is_a_form_error(client_for, manager_east, rep_east):
    response = client_for(manager_east).post(reverse("sales:target_list"), {
        "period": "month", "start": "2026-04-01", f"user-{rep_east.pk}-count": "2147483648"})
    assert response.status_code == 422
    assert "2147483647" in response.content.decode()


# Far dates ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("start", ["9999-12-31", "0001-01-01", "2026-13-01", "²⁰²⁶-01-01"])
def test_a_targets_period_outside_the_calendar_we_keep_is_a_400(client_for, manager_east, start):
    assert_bad_request(client_for(manager_east).get(reverse("sales:target_list"), {"period": "quarter", "start": start}))


@pytest.mark.parametrize("field", ["created_before", "last_followup_before", "created_after"])
@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_a_customer_filter_with_an_absurd_date_says_so_and_lists_nothing(client_for, rep_east, book, field, day):
    response = client_for(rep_east).get(reverse("crm:customer_list"), {field: day})
    assert response.status_code == 400
    page = response.content.decode()
    assert "1900-01-01" in page and "2999-12-31" in page
    assert "上海客户甲" not in page  # never the whole list as if unfiltered


@pytest.mark.parametrize("url", ["crm:customer_list", "sales:opportunity_list"])
@pytest.mark.parametrize("value", ["²", "1e30", "99999999999999999999999", "-1", "NaN"])
def test_a_reminder_link_with_an_id_that_is_no_id_is_a_400(client_for, rep_east, book, url, value):
    response = client_for(rep_east).get(reverse(url), {"reminder": value})
    assert response.status_code == 400
    assert "上海客户甲" not in response.content.decode()


def test_the_customer_export_with_an_absurd_date_exports_nothing(client_for, it_importer, book):
    client = client_for(it_importer)
    response = client.get(reverse("crm:customer_export"), {"created_before": "9999-12-31"})
    assert response.status_code == 302 and "/customers/" in response.url
    assert client.get(response.url).status_code == 400


def test_a_dashboard_period_ending_in_9999_is_a_400(client_for, director):
    response = client_for(director).get(reverse("reports:sales_dashboard"), {
        "period": "custom", "start": "9999-11-01", "end": "9999-12-31"})
    assert response.status_code == 400
    assert "2999-12-31" in response.content.decode()


@pytest.mark.parametrize("month", ["9999-12", "0001-01", "²⁰²⁶-01"])
def test_a_drilldown_to_a_month_outside_the_calendar_is_a_400(client_for, director, month):
    response = client_for(director).get(reverse("reports:sales_deals"), {"metric": "forecast", "month": month})
    assert response.status_code == 400


@pytest.mark.parametrize("moment", ["0001-01-01T00:00", "9999-12-31T23:59"])
def test_a_next_follow_up_outside_the_calendar_is_a_form_error(client_for, rep_east, moment):
    customer = CustomerFactory(owner=rep_east, name="远期客户")
    response = client_for(rep_east).post(reverse("crm:customer_edit", args=[customer.pk]), {
        "kind": customer.kind, "name": customer.name, "tier": customer.tier, "status": customer.status,
        "next_followup_at": moment, "version": customer.version})
    assert response.status_code in (200, 422)
    assert "2999-12-31" in response.content.decode()
    customer.refresh_from_db()
    assert customer.next_followup_at is None


# The contract split helper -----------------------------------------------------------------------------

@pytest.mark.parametrize("amount, first_due", [("NaN", "2027-01-31"), ("1e309", "2027-01-31"),
                                               ("-Infinity", "2027-01-31"), ("1000", "9999-12-31")])
def test_the_split_helper_refuses_what_it_cannot_split(client_for, rep_east, deal, amount, first_due):  # noqa: F811
    win(deal, rep_east)
    response = client_for(rep_east).post(reverse("sales:contract_create", args=[deal.pk]), {
        "title": "合同", "amount": amount, "signed_on": "", "split-count": "3", "split-first_due": first_due,
        "split": "1", "plan-TOTAL_FORMS": "0", "plan-INITIAL_FORMS": "0"})
    assert response.status_code == 422
    assert "invalid-feedback" in response.content.decode() or "alert-danger" in response.content.decode()


# The import -----------------------------------------------------------------------------------------

def test_an_invalid_mapping_posted_to_a_checked_import_shows_the_form_again(client_for, it_importer, tmp_path,
                                                                             settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    batch = imports.import_upload(by=it_importer, file_name="客户.xlsx", path=sheet_file(tmp_path, [
        ["上海申通物流有限公司", "重点客户", "13812345678", "", "", "", "", "", ""]]))
    batch = imports.import_preview(batch.pk)
    assert batch.status == ImportBatch.Status.PREVIEWED
    response = client_for(it_importer).post(reverse("crm:import_configure", args=[batch.pk]), {
        "sheet": batch.sheet, "header_row": "²", "tier_words": "", "save_as": ""})
    assert response.status_code == 422
    assert 'data-testid="mapping-table"' in response.content.decode()


def test_a_bad_date_cell_is_a_warning_on_its_row_not_a_lost_row(it_importer, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    batch = imports.import_upload(by=it_importer, file_name="客户.xlsx", path=sheet_file(tmp_path, [
        ["远古公司", "", "13812345671", "", "", "0001-01-01", "", "", ""],
        ["未来公司", "", "13812345672", "", "", "9999-12-31", "", "", ""],
        ["乱写公司", "", "13812345673", "", "", "去年春天", "", "", ""],
        ["正常公司", "", "13812345674", "", "", "2021-03-05", "", "", ""]]))
    # Most of 建档日期's values are no dates, so the upload does not guess it; mapped by hand, each
    # bad cell is left out of its row with a warning.
    assert "created_at" not in batch.mapping.values()
    imports.import_configure(batch=batch, by=it_importer, mapping={**batch.mapping, "6": "created_at"})
    batch = imports.import_preview(batch.pk)
    rows = {row.data.get("name"): row for row in batch.rows.all()}
    assert set(rows) == {"远古公司", "未来公司", "乱写公司", "正常公司"}
    for name in ("远古公司", "未来公司", "乱写公司"):
        assert rows[name].verdict == "new" and "created_at" not in rows[name].data, rows[name].reason
        assert rows[name].reason  # the warning says which cell was left out, and why
    assert rows["正常公司"].data["created_at"].startswith("2021-03-05") and not rows["正常公司"].reason


# The admin's access check ---------------------------------------------------------------------------

@pytest.mark.parametrize("customer", ["²", "99999999999999999999999", "1\x00"])
def test_the_access_check_with_an_id_that_is_no_id_answers(client_for, admin, rep_east, customer):
    response = client_for(admin).get(reverse("settings:accounts:access_check"),
                                     {"user": rep_east.pk, "customer": customer})
    assert response.status_code in (200, 400)


def test_the_access_check_still_finds_a_customer_by_id(client_for, admin, rep_east):
    customer = CustomerFactory(owner=rep_east, name="按编号找到的客户")
    response = client_for(admin).get(reverse("settings:accounts:access_check"),
                                     {"user": rep_east.pk, "customer": str(customer.pk)})
    assert response.status_code == 200 and "按编号找到的客户" in response.content.decode()


# The platform's parsers ---------------------------------------------------------------------------------

def test_the_parsers_take_ascii_digits_and_sane_dates_only():
    from crm.lib import inputs

    assert inputs.parse_id("42") == 42
    for text in ("²", "١٢", "-1", "0", "+5", " 5", "9223372036854775808", "", None, "5\x00"):
        assert inputs.parse_id(text) is None, text
    assert inputs.parse_date("2026-02-28") == datetime.date(2026, 2, 28)
    for text in ("9999-12-31", "0001-01-01", "2026-02-30", "²⁰²⁶-01-01", "x"):
        assert inputs.parse_date(text) is None, text
    for text in ("NaN", "1e309", "-Infinity", "sNaN", "1" * 40):
        assert inputs.parse_decimal(text, max_digits=14, decimal_places=2) is None, text
    assert str(inputs.parse_decimal("1,234.5", max_digits=14, decimal_places=2)) == "1234.5"


def test_a_nul_byte_before_signing_in_is_a_400_too(client):
    response = client.get(reverse("accounts:login"), {"next": "/\x00"})
    assert response.status_code == 400 and "请求无效" in response.content.decode()


def test_a_paging_cursor_that_does_not_decode_is_a_400(client_for, rep_east, book):
    client = client_for(rep_east)
    assert client.get(reverse("crm:customer_list"), {"after": "!!!"}).status_code == 400
    assert client.get(reverse("crm:customer_list"), {"before": "WyJ4IiwgMV0"}).status_code == 400  # ["x", 1]
    assert client.get(reverse("crm:customer_list"), {"sort": "name", "after": "WyJ4IiwgMV0"}).status_code == 200


def test_form_integers_take_full_width_digits_but_no_other_script():
    from django import forms

    from crm.lib import inputs

    field = inputs.IntegerField(required=False)
    assert field.clean("１２") == 12 and field.clean("12") == 12
    for text in ("²", "١٢", "2147483648"):
        with pytest.raises(forms.ValidationError):
            field.clean(text)
