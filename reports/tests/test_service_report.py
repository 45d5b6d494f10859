"""The service report's figures on the book of conftest.py (`service_book`, on Wednesday 2026-07-15 10:00),
as the service manager, a regional manager, the 销售总监 and two agents; every number's drill-down lists
exactly those tickets; the page's query count does not grow with the data."""
import html
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.tests.factories import RoleFactory, UserFactory
from reports.selectors import service as selectors

pytestmark = [pytest.mark.django_db, pytest.mark.dates]

URL = reverse("reports:service_report")
DRILL = reverse("reports:service_tickets")
JULY = {"period": "this_month"}


def figures_of(client, query=JULY):
    response = client.get(URL, query)
    assert response.status_code == 200, response.content.decode()[:2000]
    return response.context["figures"], response


def drilled(client, **query):
    response = client.get(DRILL, {**JULY, **query})
    assert response.status_code == 200, response.content.decode()[:2000]
    return {ticket.subject for ticket in response.context["page"].rows}


def names(book, *keys):
    return {book[key].subject for key in keys}


# The stored working times -------------------------------------------------------------------------------

def test_each_ticket_carries_its_working_time_to_first_response_and_resolution(service_book):
    seconds = {key: (t.first_response_work_seconds, t.resolution_work_seconds) for key, t in service_book.items()}
    assert seconds["T1"] == (5400, 34200)  # Friday 17:00 → Monday 09:30 is 1.5 working hours
    assert seconds["T2"] == (9000, 86400)  # the two days it waited on the customer do not count
    assert seconds["T3"] == (1800, 162000)
    assert seconds["T7"] == (81000, 84600)
    assert seconds["T8"] == (900, 10800)
    assert seconds["T10"] == (14400, 45000)  # a complaint's acceptance is its first response
    assert seconds["T5"] == (3600, None) and seconds["T4"] == (None, None)
    assert service_book["T2"].resolved_at == service_book["T2"].resolution_due  # on time, to the minute


# The figures --------------------------------------------------------------------------------------------

def test_the_regional_manager_sees_the_backlog_of_their_region(client_for, manager_east, service_book):
    figures, _response = figures_of(client_for(manager_east))
    backlog = figures["backlog"]
    assert (backlog["total"], backlog["overdue"]) == (3, 1)  # T4, T5, T6; T5 is past its deadline
    assert {row["status"].value: row["count"] for row in backlog["statuses"]} == {"new": 1, "open": 1, "waiting": 1}
    assert {row["key"]: row["count"] for row in backlog["ages"]} == {
        "lt1": 1, "1to3": 1, "3to7": 0, "7to30": 1, "gt30": 0}


def test_the_director_sees_every_open_ticket_by_age(client_for, director, service_book):
    figures, _response = figures_of(client_for(director))
    backlog = figures["backlog"]
    assert (backlog["total"], backlog["overdue"]) == (5, 3)
    assert {row["status"].value: row["count"] for row in backlog["statuses"]} == {"new": 3, "open": 1, "waiting": 1}
    assert {row["key"]: row["count"] for row in backlog["ages"]} == {
        "lt1": 1, "1to3": 1, "3to7": 1, "7to30": 1, "gt30": 1}


def test_response_and_resolution_times_are_medians_and_p90_in_working_hours(client_for, manager_east, director,
                                                                             agent_sh, agent_bj, service_book):
    east, _r = figures_of(client_for(manager_east))
    times = east["resolution"]
    assert times["resolved"] == 5  # T1, T2, T3, T7, T10
    # First responses 0.5, 1.5, 2.5, 4 and 22.5 h; resolutions 9.5, 12.5, 23.5, 24 and 45 h.
    assert (times["fr_median"], times["fr_p90"]) == (Decimal("2.5"), Decimal("15.1"))
    assert (times["res_median"], times["res_p90"]) == (Decimal("23.5"), Decimal("36.6"))
    everyone = figures_of(client_for(director))[0]["resolution"]
    assert everyone["resolved"] == 6  # and T8 of 北京
    assert (everyone["fr_median"], everyone["fr_p90"]) == (Decimal("2.0"), Decimal("13.3"))
    assert (everyone["res_median"], everyone["res_p90"]) == (Decimal("18.0"), Decimal("34.5"))
    shanghai = figures_of(client_for(agent_sh))[0]["resolution"]
    assert (shanghai["resolved"], shanghai["fr_median"], shanghai["fr_p90"]) == (4, Decimal("2.0"), Decimal("3.6"))
    beijing = figures_of(client_for(agent_bj))[0]["resolution"]
    assert (beijing["resolved"], beijing["fr_median"], beijing["res_median"]) == (1, Decimal("0.3"), Decimal("3.0"))


def test_sla_compliance_counts_targets_met_and_missed(client_for, manager_east, director, service_book):
    times = figures_of(client_for(manager_east))[0]["resolution"]
    assert (times["fr_met"], times["fr_missed"], times["fr_rate"]) == (3, 2, Decimal("60.0"))  # T2, T7 late
    assert (times["res_met"], times["res_missed"], times["res_rate"]) == (4, 1, Decimal("80.0"))  # T3 late
    assert times["breached"] == 3
    everyone = figures_of(client_for(director))[0]["resolution"]
    assert (everyone["fr_rate"], everyone["res_rate"], everyone["breached"]) == (Decimal("66.7"), Decimal("83.3"), 3)


def test_breaches_are_counted_by_team_agent_and_type(client_for, manager_east, agent_sh, teams, service_book):
    breaches = figures_of(client_for(manager_east))[0]["breaches"]
    assert [(row["name"], row["resolved"], row["breached"]) for row in breaches["team"]] == [
        ("上海分公司", 4, 2), ("华东区", 1, 1)]
    assert [(row["key"], row["breached"], row["rate"]) for row in breaches["agent"]] == [
        (agent_sh.pk, 2, Decimal("50.0")), (manager_east.pk, 1, Decimal("100.0"))]
    assert [(row["name"], row["resolved"], row["breached"]) for row in breaches["type"]] == [
        ("咨询", 2, 2), ("故障", 2, 1), ("投诉", 1, 0)]


def test_csat_and_nps_come_from_the_surveys_answered_in_the_period(client_for, manager_east, director, agent_sh,
                                                                    agent_bj, service_book):
    east = figures_of(client_for(manager_east))[0]["satisfaction"]
    assert (east["answered"], east["average"]) == (4, Decimal("4.00"))
    assert {row["score"]: row["count"] for row in east["scores"]} == {5: 2, 4: 1, 3: 0, 2: 1, 1: 0}
    assert (east["promoters"], east["passives"], east["detractors"], east["nps"]) == (1, 1, 2, Decimal("-25.0"))
    everyone = figures_of(client_for(director))[0]["satisfaction"]
    assert (everyone["answered"], everyone["average"], everyone["nps"]) == (5, Decimal("3.80"), Decimal("0.0"))
    shanghai = figures_of(client_for(agent_sh))[0]["satisfaction"]
    assert (shanghai["answered"], shanghai["average"], shanghai["nps"]) == (3, Decimal("3.67"), Decimal("0.0"))
    beijing = figures_of(client_for(agent_bj))[0]["satisfaction"]
    assert (beijing["answered"], beijing["average"], beijing["nps"]) == (1, Decimal("3.00"), Decimal("100.0"))


def test_complaints_are_counted_by_type_and_root_cause(client_for, manager_east, director, service_book):
    east = figures_of(client_for(manager_east))[0]["complaints"]
    assert [(row["name"], row["count"]) for row in east["types"]] == [("投诉", 1)]
    assert [(row["key"], row["count"]) for row in east["causes"]] == [("service", 1)]
    everyone = figures_of(client_for(director))[0]["complaints"]
    assert everyone["total"] == 2
    assert [(row["key"], row["count"]) for row in everyone["causes"]] == [("service", 1), ("none", 1)]


def test_the_page_shows_each_breakdowns_most_breaches_and_the_export_all(client_for, manager_east, service_book,
                                                                          monkeypatch):
    from reports import views

    monkeypatch.setattr(views, "BREAKDOWN_ROWS", 1)
    _figures, response = figures_of(client_for(manager_east))
    page = response.content.decode()
    assert page.count('data-testid="breach-row"') == 3 and page.count('data-testid="breaches-more"') == 3
    assert len(response.context["figures"]["breaches"]["type"]) == 3  # all of them go to the export


# The period and the team -------------------------------------------------------------------------------------

def test_the_period_chooses_the_resolved_tickets_surveys_and_complaints(client_for, director, service_book):
    june, _r = figures_of(client_for(director), {"period": "last_month"})
    assert (june["resolution"]["resolved"], june["resolution"]["fr_median"], june["resolution"]["res_median"]) == (
        1, Decimal("1.0"), Decimal("2.0"))  # T12
    assert (june["satisfaction"]["answered"], june["satisfaction"]["nps"]) == (1, Decimal("100.0"))
    assert june["complaints"]["total"] == 0
    assert june["backlog"]["total"] == 5  # the backlog is now, whatever the period
    both, _r = figures_of(client_for(director), {"period": "custom", "start": "2026-06-01", "end": "2026-07-31"})
    assert (both["resolution"]["resolved"], both["satisfaction"]["answered"]) == (7, 6)
    quarter, _r = figures_of(client_for(director), {})  # this quarter by default: July to September
    assert (quarter["resolution"]["resolved"], quarter["satisfaction"]["answered"]) == (6, 5)


def test_a_team_narrows_every_figure_and_one_outside_the_scope_is_refused(client_for, manager_east, teams,
                                                                          service_book):
    client = client_for(manager_east)
    shanghai, response = figures_of(client, {**JULY, "team": teams["shanghai"].pk})
    assert (shanghai["resolution"]["resolved"], shanghai["backlog"]["total"]) == (4, 3)
    assert [row["name"] for row in shanghai["breaches"]["team"]] == ["上海分公司"]
    assert "上海分公司" in response.content.decode()
    refused = client.get(URL, {**JULY, "team": teams["beijing"].pk})
    assert refused.status_code == 400 and "figures" not in refused.context
    assert "北京分公司" not in refused.content.decode()  # not even among the choices
    assert client.get(DRILL, {**JULY, "team": teams["beijing"].pk, "metric": "resolved"}).status_code == 404


def test_a_custom_period_needs_both_dates_in_order(client_for, director, service_book):
    client = client_for(director)
    assert client.get(URL, {"period": "custom", "start": "2026-07-01"}).status_code == 400
    assert client.get(URL, {"period": "custom", "start": "2026-07-31", "end": "2026-07-01"}).status_code == 400


# Drill-downs ---------------------------------------------------------------------------------------------

LINK = re.compile(r'<a[^>]*data-testid="(?P<testid>[\w-]+)"[^>]*href="(?P<href>[^"]+)"[^>]*>\s*(?P<text>[^<]*)</a>')
COUNTED = {"open-count", "overdue-count", "resolved-count", "breached-count", "csat-count", "nps-count",
           "status-count", "age-count", "fr-met", "fr-missed", "res-met", "res-missed", "breach-resolved",
           "breach-count", "csat-score-count", "promoters", "passives", "detractors", "complaint-type-count",
           "complaint-cause-count"}


@pytest.mark.parametrize("persona", ["service_manager", "manager_east", "director", "agent_sh", "agent_bj"])
def test_every_numbers_drill_down_lists_that_many_tickets(client_for, person, persona, service_book):
    client = client_for(person(persona))
    _figures, response = figures_of(client)
    links = [m for m in LINK.finditer(response.content.decode()) if m["testid"] in COUNTED]
    assert {m["testid"] for m in links} >= COUNTED - {"complaint-type-count", "complaint-cause-count"}
    for link in links:
        figure = int(re.search(r"\d+", link["text"])[0])
        page = client.get(html.unescape(link["href"]))
        assert page.status_code == 200, link["href"]
        assert page.context["page"].count == figure, (link["testid"], link["href"], figure)
        assert len(page.context["page"].rows) == min(figure, 50)
    assert len(links) >= 25


def test_the_drill_downs_list_exactly_the_tickets_behind_a_figure(client_for, manager_east, agent_sh, teams,
                                                                  service_book):
    book, client = service_book, client_for(manager_east)
    assert drilled(client, metric="overdue") == names(book, "T5")
    assert drilled(client, metric="age", age="lt1") == names(book, "T4")
    assert drilled(client, metric="open", status="waiting") == names(book, "T6")
    assert drilled(client, metric="fr_missed") == names(book, "T2", "T7")
    assert drilled(client, metric="res_missed") == names(book, "T3")
    assert drilled(client, metric="breached", by_agent=agent_sh.pk) == names(book, "T2", "T3")
    assert drilled(client, metric="breached", by_team=teams["east"].pk) == names(book, "T7")
    assert drilled(client, metric="resolved", by_type=book["T10"].type_id) == names(book, "T10")
    assert drilled(client, metric="csat", score=2) == names(book, "T2")
    assert drilled(client, metric="nps", group="detractors") == names(book, "T2", "T7")
    assert drilled(client, metric="complaints", cause="service") == names(book, "T10")
    response = client.get(DRILL, {**JULY, "metric": "breached", "by_agent": agent_sh.pk})
    assert response.context["labels"] == [agent_sh.name]  # the title says whose


def test_a_rows_marks_say_what_was_late(client_for, manager_east, service_book):
    client, book = client_for(manager_east), service_book
    backlog = {t.subject: t for t in client.get(DRILL, {**JULY, "metric": "open"}).context["page"].rows}
    assert {subject for subject, t in backlog.items() if t.overdue} == names(book, "T5")
    assert not any(t.first_response_late for t in backlog.values())  # T4 is unanswered, but not late yet
    resolved = {t.subject: t for t in client.get(DRILL, {**JULY, "metric": "resolved"}).context["page"].rows}
    assert {subject for subject, t in resolved.items() if t.first_response_late} == names(book, "T2", "T7")
    assert {subject for subject, t in resolved.items() if t.resolution_late} == names(book, "T3")
    assert not any(t.overdue for t in resolved.values())


def test_the_drill_down_refuses_unknown_metrics_and_values(client_for, director, service_book):
    client = client_for(director)
    assert client.get(DRILL, {**JULY, "metric": "everything"}).status_code == 404
    assert client.get(DRILL, {**JULY, "metric": "age", "age": "forever"}).status_code == 404
    assert client.get(DRILL, {**JULY, "metric": "open", "status": "closed"}).status_code == 404
    assert client.get(DRILL, {**JULY, "metric": "nps", "group": "fans"}).status_code == 404
    assert client.get(DRILL, {**JULY, "metric": "complaints", "cause": "weather"}).status_code == 404
    assert client.get(DRILL, {**JULY, "metric": "breached", "by_team": "abc"}).status_code == 400
    assert client.get(DRILL, {**JULY, "metric": "csat", "score": "9"}).status_code == 400
    # What another figure's list reads is ignored here, not a 500.
    ignored = client.get(DRILL, {**JULY, "metric": "resolved", "status": "bogus", "age": "x", "group": "y",
                                 "cause": "z", "score": "q"})
    assert ignored.status_code == 200 and ignored.context["page"].count == 6


def test_the_drill_down_pages_through_many_tickets(client_for, director, agent_sh, rep_east, service_desk,
                                                   service_book, django_assert_max_num_queries):
    from crm.tests.factories import CustomerFactory
    from service import services

    customer = CustomerFactory(owner=rep_east)
    for n in range(55):
        services.ticket_create(by=agent_sh, customer=customer, subject=f"批量{n}", type=service_desk["咨询"])
    client = client_for(director)
    page = client.get(DRILL, {**JULY, "metric": "age", "age": "lt1"}).context["page"]
    assert page.count == 56 and len(page.rows) == 50 and page.next_cursor
    with django_assert_max_num_queries(5):  # a further page costs what the first does
        second = client.get(DRILL, {**JULY, "metric": "age", "age": "lt1", "after": page.next_cursor}).context["page"]
    assert len(second.rows) == 6 and not {t.pk for t in page.rows} & {t.pk for t in second.rows}


# Query counts --------------------------------------------------------------------------------------------

# Measured: the session, the user, their roles (and team), the ticket types, the backlog, the resolved
# tickets, the breakdowns with their teams' and agents' names, the surveys, the complaints, the team choices.
REPORT_QUERIES = 13


@pytest.mark.parametrize("persona", ["service_manager", "manager_east", "agent_sh"])
def test_the_reports_queries_do_not_grow_with_the_data(client_for, person, persona, teams, roles, service_desk,
                                                      service_book, django_assert_max_num_queries):
    from crm.tests.factories import CustomerFactory
    from service import services

    client = client_for(person(persona))
    with django_assert_max_num_queries(REPORT_QUERIES):
        assert client.get(URL, JULY).status_code == 200
    role = roles["客服专员"]
    for n in range(6):  # more agents, teams' tickets, types: the same number of queries
        agent = UserFactory(username=f"more{n}", team=teams["shanghai" if n % 2 else "hangzhou"], roles=[role])
        ticket = services.ticket_create(by=agent, customer=CustomerFactory(owner=agent), subject=f"加{n}",
                                        type=service_desk["需求" if n % 2 else "故障"])
        services.ticket_reply(ticket=ticket, by=agent, body="好的")
        services.ticket_set_status(ticket=ticket, by=agent, status="resolved")
    with django_assert_max_num_queries(REPORT_QUERIES):
        assert client.get(URL, JULY).status_code == 200


@pytest.mark.parametrize("metric", selectors.METRICS)
def test_the_drill_downs_queries_are_pinned(client_for, manager_east, agent_sh, service_book, metric,
                                            django_assert_max_num_queries):
    client = client_for(manager_east)
    query = {"age": {"age": "7to30"}, "csat": {"score": 5}}.get(metric, {})
    with django_assert_max_num_queries(6):  # session, user, roles, team; the capped ids, the page
        response = client.get(DRILL, {**JULY, "metric": metric, **query})
    assert response.status_code == 200 and response.context["page"].count >= 1, metric
    with django_assert_max_num_queries(7):  # a breakdown's row names its team, agent or type
        response = client.get(DRILL, {**JULY, "metric": "breached", "by_agent": agent_sh.pk})
    assert response.context["page"].count == 2


def test_a_role_scoped_to_its_own_tickets_sees_only_those(client_for, teams, service_book, agent_sh):
    from accounts.capabilities import Scope

    own = UserFactory(username="own_only", team=teams["shanghai"],
                      roles=[RoleFactory(service_scope=Scope.OWN, customers_scope=Scope.TEAM)])
    figures, _r = figures_of(client_for(own))
    assert figures["resolution"]["resolved"] == 0 and figures["backlog"]["total"] == 0
