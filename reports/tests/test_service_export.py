"""The service report's .xlsx: a sheet per block with the page's figures, scoped like the page, names that a
spreadsheet would read as a formula stored as text, and a fixed number of queries."""
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

pytestmark = [pytest.mark.django_db, pytest.mark.dates]

URL = reverse("reports:service_export")
JULY = {"period": "this_month"}
SHEETS = ["Filter", "Backlog", "Response and resolution", "Breaches by team", "Breaches by agent",
          "Breaches by type", "Satisfaction", "Complaints"]


def workbook_of(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    return load_workbook(io.BytesIO(b"".join(response.streaming_content)))


def rows(sheet):
    return [list(row) for row in sheet.iter_rows(min_row=2, values_only=True)]


def values(sheet):
    return {row[0]: row[1] for row in rows(sheet)}


def test_it_exports_every_block_with_the_pages_figures(english_client_for, manager_east, service_book):
    book = workbook_of(english_client_for(manager_east).get(URL, JULY))
    assert book.sheetnames == SHEETS
    filter_, backlog, times, by_team, by_agent, by_type, happy, complaints = book.worksheets
    assert values(filter_)["Period"] == "2026-07-01 – 2026-07-31"
    assert values(backlog)["All open"] == 3 and values(backlog)["Past their deadline"] == 1
    found = values(times)
    assert found["Tickets resolved in the period"] == 5
    assert Decimal(str(found["First response, median (working hours)"])) == Decimal("2.5")
    assert Decimal(str(found["Resolution, 90th percentile (working hours)"])) == Decimal("36.6")
    assert Decimal(str(found["First response on time (%)"])) == Decimal("60.0")
    assert [row[:3] for row in rows(by_team)] == [["上海分公司", 4, 2], ["华东区", 1, 1]]
    assert [row[1:3] for row in rows(by_agent)] == [[4, 2], [1, 1]]
    assert [row[:3] for row in rows(by_type)] == [["Enquiry", 2, 2], ["Fault", 2, 1], ["Complaint", 1, 0]]
    assert values(happy)["Surveys answered"] == 4 and Decimal(str(values(happy)["NPS"])) == Decimal("-25.0")
    assert rows(complaints) == [["Complaint", None, 1], [None, "Service attitude", 1]]


def test_the_export_is_scoped_like_the_page(client_for, agent_bj, service_book):
    from accounts.capabilities import Capability

    role = agent_bj.roles.get()
    role.capabilities = [Capability.EXPORT_DATA.value]
    role.save(update_fields=["capabilities"])
    book = workbook_of(client_for(agent_bj).get(URL, JULY))
    text = " ".join(str(cell) for sheet in book for row in sheet.iter_rows(values_only=True) for cell in row)
    assert "上海" not in text and "华东" not in text and "客服小王" not in text
    assert rows(book.worksheets[2])[0][1] == 1  # resolved in the period: T8 alone


def test_text_that_looks_like_a_formula_is_stored_as_text(client_for, service_manager, agent_sh, service_book):
    agent_sh.display_name = "=HYPERLINK(\"http://evil\",\"点我\")"
    agent_sh.save(update_fields=["display_name"])
    book = workbook_of(client_for(service_manager).get(URL, JULY))
    cells = [cell for sheet in book for row in sheet.iter_rows() for cell in row
             if isinstance(cell.value, str) and cell.value[:1] in "=+-@"]
    assert agent_sh.display_name in {cell.value for cell in cells}
    for cell in cells:
        assert cell.data_type == "s" and cell.quotePrefix, cell.value


def test_the_export_needs_the_export_right_and_a_team_within_the_scope(client_for, agent_sh, manager_east, teams,
                                                                      service_book):
    assert client_for(agent_sh).get(URL, JULY).status_code == 403
    assert client_for(manager_east).get(URL, {**JULY, "team": teams["beijing"].pk}).status_code == 404


def test_the_exports_queries_are_pinned(client_for, service_manager, service_book, django_assert_max_num_queries):
    client = client_for(service_manager)
    with django_assert_max_num_queries(12):
        workbook_of(client.get(URL, JULY))
