"""Every reports URL × persona: who gets in, who gets 403, and that a signed-out visitor is sent to sign in.
The grid walks the reports namespace, so a new route without a row here fails. Each persona's drill-downs
list the records of their own scope only (sales deals; service tickets)."""
import pytest
from django.urls import reverse

from conftest import named_routes

pytestmark = [pytest.mark.django_db, pytest.mark.dates]

# persona: (index, dashboard, drill-down, export, service report, its drill-down, its export)
EXPECTED = {
    "director": (200, 200, 200, 200, 200, 200, 200),
    "manager_east": (200, 200, 200, 200, 200, 200, 200),
    "rep_east": (403, 200, 200, 403, 403, 403, 403),  # a rep's own dashboard; exporting needs crm.data:export
    "it_importer": (403, 403, 403, 403, 403, 403, 403),  # no sales or service scope, no dashboards
    "agent_sh": (403, 403, 403, 403, 200, 200, 403),  # the service report of their branch; no export
    "service_manager": (403, 403, 403, 403, 200, 200, 200),  # every ticket, no sales
}
ROUTES = ["reports:index", "reports:sales_dashboard", "reports:sales_deals", "reports:sales_export",
          "reports:service_report", "reports:service_tickets", "reports:service_export"]
QUERY = {"reports:sales_deals": {"metric": "won"}, "reports:service_tickets": {"metric": "resolved"}}


def test_the_grid_covers_every_reports_url():
    assert sorted(name for name, _route in named_routes() if name.startswith("reports:")) == sorted(ROUTES)


@pytest.mark.parametrize("persona", sorted(EXPECTED))
@pytest.mark.parametrize("index", range(len(ROUTES)), ids=ROUTES)
def test_each_persona_gets_what_the_grid_says(client_for, person, persona, index, sales_book):
    name = ROUTES[index]
    response = client_for(person(persona)).get(reverse(name), QUERY.get(name, {}))
    assert response.status_code == EXPECTED[persona][index], (name, persona)
    if response.status_code == 403:
        assert "华东" not in response.content.decode()


# persona: the won deals of the book its drill-down lists (its sales scope), in a period holding them all
WON_SEEN = {
    "director": {"华东丙", "杭州戊", "上海己", "北京庚"},
    "manager_east": {"华东丙", "杭州戊", "上海己"},
    "rep_east": {"华东丙"},  # a rep's dashboard is his own, though he sees his team's deals
}
WON = {"华东丙", "杭州戊", "上海己", "北京庚"}


@pytest.mark.parametrize("persona", sorted(WON_SEEN))
def test_each_persona_drills_down_to_the_deals_of_their_scope_only(client_for, person, persona, sales_book,
                                                                    last_50_days):
    response = client_for(person(persona)).get(reverse("reports:sales_deals"), {"metric": "won", **last_50_days})
    page = response.content.decode()
    assert response.status_code == 200
    assert {name for name in WON if name in page} == WON_SEEN[persona]


@pytest.mark.parametrize("persona", sorted(EXPECTED))
@pytest.mark.parametrize("index", range(len(ROUTES)), ids=ROUTES)
def test_a_post_changes_nothing_and_is_refused_as_a_get_is(client_for, person, persona, index, sales_book):
    """Reports only read: a POST answers as a GET would (or 405), never more."""
    from sales.models import Contract, Opportunity
    from service.models import Ticket

    def rows():
        return [list(model.objects.order_by("pk").values()) for model in (Opportunity, Contract, Ticket)]

    name = ROUTES[index]
    before = rows()
    query = "?" + "&".join(f"{key}={value}" for key, value in QUERY.get(name, {}).items())
    response = client_for(person(persona)).post(reverse(name) + query)
    assert response.status_code in (EXPECTED[persona][index], 405), (name, persona)
    assert before == rows()


@pytest.mark.parametrize("name", ROUTES)
def test_a_signed_out_visitor_is_sent_to_sign_in(client, name):
    response = client.get(reverse(name), QUERY.get(name, {}))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_reports_index_links_the_sales_dashboard(client_for, director):
    response = client_for(director).get(reverse("reports:index"))
    assert reverse("reports:sales_dashboard") in response.content.decode()


def test_the_reports_index_and_the_service_queues_link_the_service_report(client_for, director, agent_sh):
    assert reverse("reports:service_report") in client_for(director).get(reverse("reports:index")).content.decode()
    assert reverse("reports:service_report") in client_for(agent_sh).get(reverse("service:queue")).content.decode()


# persona: the tickets resolved in July of the service book its drill-down lists (its service scope)
RESOLVED_SEEN = {
    "service_manager": {"T1", "T2", "T3", "T7", "T8", "T10"},
    "director": {"T1", "T2", "T3", "T7", "T8", "T10"},
    "manager_east": {"T1", "T2", "T3", "T7", "T10"},
    "agent_sh": {"T1", "T2", "T3", "T10"},  # 上海's
    "agent_bj": {"T8"},  # 北京's
}


@pytest.mark.parametrize("persona", sorted(RESOLVED_SEEN))
def test_each_persona_drills_down_to_the_tickets_of_their_service_scope_only(client_for, person, persona,
                                                                              service_book):
    client = client_for(person(persona))
    response = client.get(reverse("reports:service_tickets"), {"metric": "resolved", "period": "this_month"})
    assert response.status_code == 200
    page = response.content.decode()
    assert {key for key, ticket in service_book.items() if ticket.subject in page} == RESOLVED_SEEN[persona]
    figures = client.get(reverse("reports:service_report"), {"period": "this_month"}).context["figures"]
    assert figures["resolution"]["resolved"] == len(RESOLVED_SEEN[persona])


def test_another_teams_agent_sees_none_of_its_figures(client_for, agent_bj, teams, service_book):
    client = client_for(agent_bj)
    shanghai = {"period": "this_month", "team": teams["shanghai"].pk}
    assert client.get(reverse("reports:service_report"), shanghai).status_code == 400
    assert client.get(reverse("reports:service_tickets"), {**shanghai, "metric": "resolved"}).status_code == 404
    # Naming 上海's team as a breakdown row (rather than as the filter) lists nothing either.
    response = client.get(reverse("reports:service_tickets"), {"period": "this_month", "metric": "resolved",
                                                                "by_team": teams["shanghai"].pk})
    assert response.status_code == 200 and response.context["page"].count == 0
    figures = client.get(reverse("reports:service_report"), {"period": "this_month"}).context["figures"]
    assert [row["name"] for row in figures["breaches"]["team"]] == ["北京分公司"]
    assert "上海" not in client.get(reverse("reports:service_report"), {"period": "this_month"}).content.decode()
