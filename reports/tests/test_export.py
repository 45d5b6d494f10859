"""The dashboard's .xlsx: a sheet per block with the page's figures, scoped like the page, and text
that a spreadsheet would read as a formula stored as text."""
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from sales.models import TargetPeriod
from sales.selectors.targets import period_shift

pytestmark = [pytest.mark.django_db, pytest.mark.dates]

URL = reverse("reports:sales_export")
# Measured with the book and with 12 more reps: the same. One of them reads the targets, asked only when
# the period covers a whole month: the query-count test chooses such a period on any day.
EXPORT_QUERIES = 11


def workbook_of(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    return load_workbook(io.BytesIO(b"".join(response.streaming_content)))


def rows(sheet):
    return [list(row) for row in sheet.iter_rows(min_row=2, values_only=True)]


def test_it_exports_every_block_with_the_pages_figures(client_for, manager_east, rep_east, sales_book, last_50_days):
    book = workbook_of(client_for(manager_east).get(URL, last_50_days))
    assert len(book.sheetnames) == 8  # filter, funnel, forecast, win rate, conversion, leaderboard, stale, payments
    filter_, funnel, forecast, win, conversion, leaderboard, stale, payments = (book[n] for n in book.sheetnames)
    by_stage = {row[0]: row[1:] for row in rows(funnel)}
    assert by_stage["初步接触"] == [1, 100000, 10000]
    assert by_stage["方案评审"] == [1, 200000, 80000]
    assert [row[1] for row in rows(win)][:3] == [3, 490000, 1]
    assert Decimal(str(rows(win)[4][1])) == Decimal("75.0")
    assert [row[:2] for row in rows(conversion)] == [["初步接触", 6], ["方案评审", 4], ["商务谈判", 3], ["赢单", 3]]
    reps = {row[0]: row for row in rows(leaderboard)}
    assert reps[rep_east.name][2:4] == [1, 300000] and "rep_west" not in reps
    assert rows(stale) == [[1, 100000]]
    assert [row[1:] for row in rows(payments)] == [[1, 100000], [1, 100000]]
    assert sum(row[1] for row in rows(forecast)) == 2


def test_the_export_is_scoped_like_the_page(client_for, manager_west, sales_book, last_50_days):
    book = workbook_of(client_for(manager_west).get(URL, last_50_days))
    leaderboard = rows(book[book.sheetnames[5]])
    assert len(leaderboard) == 1  # rep_west alone
    text = " ".join(str(cell) for sheet in book for row in sheet.iter_rows(values_only=True) for cell in row)
    assert "华东" not in text and "rep_east" not in text and "rep_hz" not in text
    assert [row[1] for row in rows(book[book.sheetnames[3]])][:3] == [1, 400000, 1]


def test_text_that_looks_like_a_formula_is_stored_as_text(client_for, director, rep_east, sales_book, last_50_days):
    from sales.models import Stage

    rep_east.display_name = "=HYPERLINK(\"http://evil\",\"点我\")"
    rep_east.save(update_fields=["display_name"])
    Stage.objects.filter(pk=sales_book["stages"]["方案评审"].pk).update(name="+cmd|' /C calc'!A0")
    book = workbook_of(client_for(director).get(URL, last_50_days))
    cells = [cell for sheet in book for row in sheet.iter_rows() for cell in row
             if isinstance(cell.value, str) and cell.value[:1] in "=+-@"]
    assert {cell.value for cell in cells} >= {rep_east.display_name, "+cmd|' /C calc'!A0"}
    for cell in cells:
        assert cell.data_type == "s" and cell.quotePrefix, cell.value


@pytest.mark.parametrize("extra_reps", [0, 12])
def test_the_exports_queries_do_not_grow_with_the_data(client_for, director, teams, roles, sales_book, extra_reps,
                                                      django_assert_max_num_queries):
    from accounts.tests.factories import UserFactory
    from crm.tests.factories import CustomerFactory
    from sales import services

    for n in range(extra_reps):  # more reps, deals and stages' rows: the same number of queries
        rep = UserFactory(username=f"extra{n}", team=teams["beijing"], roles=[roles["销售代表"]])
        deal = services.opportunity_create(by=rep, customer=CustomerFactory(owner=rep), name=f"加{n}",
                                           pipeline=sales_book["pipeline"], amount=Decimal(1000 + n))
        services.opportunity_move(opportunity=deal, stage=sales_book["stages"]["won"], by=rep)
    client = client_for(director)
    today = timezone.localdate()
    # From the first of the month before last: every deal of the book, and last month whole.
    start = period_shift(TargetPeriod.MONTH, today.replace(day=1), -2)
    with django_assert_max_num_queries(EXPORT_QUERIES):
        book = workbook_of(client.get(URL, {"period": "custom", "start": start.isoformat(), "end": today.isoformat()}))
    assert len(rows(book.worksheets[5])) == 4 + extra_reps  # the leaderboard: every rep who won

