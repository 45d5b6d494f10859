"""The sales dashboard's figures on the small book of conftest.py, as 区域经理, 销售总监 and a rep; every
number's drill-down lists exactly that many rows; the page's query count does not grow with the data."""
import html
import re
from decimal import Decimal
from functools import partial

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.capabilities import Capability, Scope
from accounts.tests.factories import RoleFactory, UserFactory
from reports import selectors
from sales.models import Target, TargetPeriod
from sales.selectors.targets import period_shift, period_start

_add_months = partial(period_shift, TargetPeriod.MONTH)
quarter_start = partial(period_start, TargetPeriod.QUARTER)

pytestmark = [pytest.mark.django_db, pytest.mark.dates]

URL = reverse("reports:sales_dashboard")
DRILL = reverse("reports:sales_deals")


def figures_of(client, query):
    response = client.get(URL, query)
    assert response.status_code == 200, response.content.decode()[:2000]
    return response.context["figures"], response


def by_stage(rows):
    return {row["stage"].name if row["stage"].kind == "open" else row["stage"].kind: row for row in rows}


def test_it_shows_the_regional_managers_funnel_win_rate_cycle_and_conversion(client_for, manager_east, sales_book,
                                                                             last_50_days):
    figures, _response = figures_of(client_for(manager_east), last_50_days)
    funnel = by_stage(figures["funnel"])
    assert (funnel["初步接触"]["count"], funnel["初步接触"]["amount"], funnel["初步接触"]["weighted"]) == (
        1, Decimal(100000), Decimal(10000))
    assert (funnel["方案评审"]["count"], funnel["方案评审"]["weighted"]) == (1, Decimal(80000))
    assert funnel["商务谈判"]["count"] == 0
    assert (funnel["won"]["count"], funnel["won"]["amount"], funnel["won"]["weighted"]) == (
        3, Decimal(490000), Decimal(490000))  # C, E and rep_east2's S
    assert (funnel["lost"]["count"], funnel["lost"]["weighted"]) == (1, Decimal(0))
    win = figures["win"]
    assert (win["won"], win["won_amount"], win["lost"], win["rate"]) == (3, Decimal(490000), 1, Decimal("75.0"))
    assert win["cycle_days"] == Decimal("18.3")  # (30 + 20 + 5) / 3
    conversion = [(row["stage"].name, row["count"], row["from_previous"]) for row in figures["conversion"]]
    # D was lost from the first stage; E and S skipped 方案评审 and 商务谈判 on their way to won.
    assert conversion == [("初步接触", 6, None), ("方案评审", 4, Decimal("66.7")), ("商务谈判", 3, Decimal("75.0")),
                          ("赢单", 3, Decimal("100.0"))]


def test_it_forecasts_open_deals_by_expected_close_month(client_for, manager_east, sales_book, last_50_days):
    figures, _response = figures_of(client_for(manager_east), last_50_days)
    forecast = {row["month"]: row for row in figures["forecast"]}
    this_month = timezone.localdate().replace(day=1)
    assert len(forecast) >= 6
    assert (forecast[this_month]["count"], forecast[this_month]["weighted"]) == (1, Decimal(10000))
    assert (forecast[_add_months(this_month, 1)]["count"],
            forecast[_add_months(this_month, 1)]["weighted"]) == (1, Decimal(80000))
    assert sum(row["count"] for row in figures["forecast"]) == 2


def test_it_counts_stale_deals_and_payments_due_and_overdue(client_for, manager_east, manager_west, director,
                                                           sales_book, last_50_days):
    east, _r = figures_of(client_for(manager_east), last_50_days)
    assert (east["stale"]["count"], east["stale"]["amount"]) == (1, Decimal(100000))  # A; B is new in its stage
    assert east["payments"] == {"due": 1, "due_amount": Decimal(100000), "overdue": 1, "overdue_amount": Decimal(100000)}
    west, _r = figures_of(client_for(manager_west), last_50_days)
    assert (west["stale"]["count"], west["stale"]["amount"]) == (1, Decimal(500000))  # G
    assert west["payments"] == {"due": 0, "due_amount": Decimal(0), "overdue": 1, "overdue_amount": Decimal(40000)}
    everyone, _r = figures_of(client_for(director), last_50_days)
    assert everyone["stale"]["count"] == 2
    assert (everyone["payments"]["overdue"], everyone["payments"]["overdue_amount"]) == (2, Decimal(140000))


def test_a_shanghai_reps_deals_never_count_for_the_beijing_manager_and_the_other_way_round(
        client_for, manager_east, manager_west, rep_east, rep_west, sales_book, last_50_days):
    west, response = figures_of(client_for(manager_west), last_50_days)
    assert (west["win"]["won"], west["win"]["won_amount"], west["win"]["lost"]) == (1, Decimal(400000), 1)
    assert sum(row["count"] for row in west["funnel"]) == 3
    assert [row["user"] for row in west["leaderboard"]] == [rep_west]
    page = response.content.decode()
    assert "华东" not in page and rep_east.name not in page
    east, response = figures_of(client_for(manager_east), last_50_days)
    assert rep_west not in [row["user"] for row in east["leaderboard"]]
    assert sum(row["count"] for row in east["funnel"]) == 6
    assert "北京" not in response.content.decode()


def test_the_director_sees_every_team_and_may_narrow_to_one(client_for, director, sales_book, teams, last_50_days):
    client = client_for(director)
    everyone, _r = figures_of(client, last_50_days)
    assert (everyone["win"]["won"], everyone["win"]["lost"]) == (4, 2)
    north, _r = figures_of(client, {**last_50_days, "team": teams["north"].pk})
    assert (north["win"]["won"], north["win"]["won_amount"]) == (1, Decimal(400000))
    shanghai, _r = figures_of(client, {**last_50_days, "team": teams["shanghai"].pk})
    assert (shanghai["win"]["won"], shanghai["win"]["won_amount"]) == (2, Decimal(370000))  # C and S, not E (杭州)


def test_a_regional_manager_picking_a_team_outside_the_scope_gets_a_form_error_and_no_figures(
        client_for, manager_east, sales_book, teams, last_50_days):
    client = client_for(manager_east)
    query = {**last_50_days, "team": teams["beijing"].pk}
    response = client.get(URL, query)
    assert response.status_code == 400
    assert "figures" not in response.context and response.context["form"].errors["team"]
    page = response.content.decode()
    assert "北京庚" not in page and "400,000" not in page and 'data-testid="stats"' not in page
    assert client.get(DRILL, {**query, "metric": "won"}).status_code == 404
    assert client.get(reverse("reports:sales_export"), query).status_code == 404


def test_a_rep_sees_the_dashboard_of_their_own_deals_only(client_for, rep_east, rep_east2, sales_book, teams,
                                                         last_50_days):
    client = client_for(rep_east)
    figures, response = figures_of(client, {**last_50_days, "team": teams["east"].pk})  # a team is ignored
    assert response.context["own_only"] and "team" not in response.context["form"].fields
    assert (figures["win"]["won"], figures["win"]["won_amount"], figures["win"]["lost"]) == (1, Decimal(300000), 1)
    assert [row["user"] for row in figures["leaderboard"]] == [rep_east]
    assert sum(row["count"] for row in figures["funnel"]) == 4  # A, B, C, D: not rep_east2's S he may see
    # Asking for a teammate's deals lists none of them.
    response = client.get(DRILL, {**last_50_days, "metric": "rep_won", "owner": rep_east2.pk})
    assert response.context["page"].count == 0 and "上海己" not in response.content.decode()


def test_another_teams_rep_gets_nothing_of_it(client_for, rep_west, rep_east, sales_book, last_50_days):
    client = client_for(rep_west)
    figures, response = figures_of(client, last_50_days)
    assert (figures["win"]["won"], figures["win"]["won_amount"]) == (1, Decimal(400000))
    assert "华东" not in response.content.decode()
    for metric in ("won", "lost", "stale", "due", "overdue"):
        drilled = client.get(DRILL, {**last_50_days, "metric": metric})
        assert "华东" not in drilled.content.decode() and "HT-C" not in drilled.content.decode()
    drilled = client.get(DRILL, {**last_50_days, "metric": "rep_won", "owner": rep_east.pk})
    assert drilled.context["page"].count == 0


# The leaderboard against targets -------------------------------------------------------------------

def test_the_leaderboard_measures_a_month_against_month_targets(client_for, manager_east, rep_east, rep_hz,
                                                                rep_east2, sales_book):
    month = timezone.localdate().replace(day=1)
    Target.objects.create(period=TargetPeriod.MONTH, starts_on=month, user=rep_east, amount=600000, count=2)
    Target.objects.create(period=TargetPeriod.QUARTER, starts_on=quarter_start(month), user=rep_east, amount=900000)
    figures, _r = figures_of(client_for(manager_east), {"period": "this_month"})
    rows = {row["user"]: row for row in figures["leaderboard"]}
    east = rows[rep_east]
    assert (east["won"], east["won_amount"], east["target"], east["percent"]) == (1, Decimal(300000), 600000, 50)
    assert (east["open"], east["open_weighted"]) == (2, Decimal(90000))
    assert rows[rep_hz]["target"] is None and rows[rep_hz]["percent"] is None
    assert [row["user"] for row in figures["leaderboard"]][:2] == [rep_east, rep_hz]  # most won first


def test_a_quarter_uses_the_quarter_target_or_else_the_sum_of_its_months(client_for, manager_east, manager_west,
                                                                         rep_east, rep_hz, rep_east2, rep_west,
                                                                         sales_book):
    quarter = quarter_start(timezone.localdate())
    Target.objects.create(period=TargetPeriod.QUARTER, starts_on=quarter, user=rep_east, amount=1000000)
    Target.objects.create(period=TargetPeriod.MONTH, starts_on=quarter, user=rep_east, amount=1)  # not used
    for n in range(3):
        Target.objects.create(period=TargetPeriod.MONTH, starts_on=_add_months(quarter, n), user=rep_hz,
                              amount=100000, count=1)
    Target.objects.create(period=TargetPeriod.MONTH, starts_on=quarter, user=rep_east2, amount=50000)
    Target.objects.create(period=TargetPeriod.QUARTER, starts_on=quarter, user=rep_west, amount=800000)
    figures, _r = figures_of(client_for(manager_east), {"period": "this_quarter"})
    rows = {row["user"]: row for row in figures["leaderboard"]}
    assert (rows[rep_east]["target"], rows[rep_east]["percent"]) == (Decimal(1000000), Decimal("30.0"))
    assert (rows[rep_hz]["target"], rows[rep_hz]["target_count"], rows[rep_hz]["percent"]) == (
        Decimal(300000), 3, Decimal("40.0"))
    assert (rows[rep_east2]["target"], rows[rep_east2]["won_amount"]) == (Decimal(50000), Decimal(70000))
    assert rep_west not in rows  # 华北's target is not the 华东 manager's business
    west, _r = figures_of(client_for(manager_west), {"period": "this_quarter"})
    assert [(row["user"], row["percent"]) for row in west["leaderboard"]] == [(rep_west, Decimal("50.0"))]


def test_a_lead_over_their_subordinates_sees_a_subordinates_target(client_for, teams, rep_west, sales_book):
    role = RoleFactory(sales_scope=Scope.OWN_AND_SUBORDINATES, capabilities=[Capability.VIEW_DASHBOARDS.value])
    lead = UserFactory(username="lead_north", team=teams["beijing"], roles=[role])
    rep_west.manager = lead
    rep_west.save(update_fields=["manager"])
    quarter = quarter_start(timezone.localdate())
    Target.objects.create(period=TargetPeriod.QUARTER, starts_on=quarter, user=rep_west, amount=800000)
    figures, _r = figures_of(client_for(lead), {"period": "this_quarter"})
    rows = {row["user"]: row for row in figures["leaderboard"]}
    assert (rows[rep_west]["target"], rows[rep_west]["percent"]) == (Decimal(800000), Decimal("50.0"))


def test_stale_counts_whole_days_like_the_board(client_for, director, rep_east, sales_book, last_50_days):
    from reports.tests.conftest import _deal

    first = sales_book["stages"]["初步接触"]  # stale after 14 days
    _deal(rep_east, sales_book["pipeline"], "刚满十四天", 1000, in_stage_days=14.5)  # 14 whole days: not yet
    deal = _deal(rep_east, sales_book["pipeline"], "十五天", 2000, in_stage_days=15.5)
    assert first.pk == deal.stage_id and deal.is_stale
    figures, _r = figures_of(client_for(director), last_50_days)
    assert figures["stale"]["count"] == 3  # A, G and the 15-day one
    drilled = client_for(director).get(DRILL, {**last_50_days, "metric": "stale"}).context["page"]
    assert drilled.count == 3


# Drill-downs ----------------------------------------------------------------------------------------

LINK = re.compile(r'<a[^>]*data-testid="(?P<testid>[\w-]+)"[^>]*href="(?P<href>[^"]+)"[^>]*>\s*(?P<text>[^<]*)</a>')
COUNTED = {"won-count", "win-won", "win-lost", "stale-count", "due-count", "overdue-count", "funnel-count",
           "forecast-count", "conversion-count", "leader-won", "leader-open"}


@pytest.mark.parametrize("persona", ["manager_east", "manager_west", "director", "rep_east"])
def test_every_numbers_drill_down_lists_that_many_rows(client_for, person, persona, sales_book, last_50_days):
    client = client_for(person(persona))
    _figures, response = figures_of(client, last_50_days)
    links = [m for m in LINK.finditer(response.content.decode()) if m["testid"] in COUNTED]
    assert {m["testid"] for m in links} == COUNTED
    checked = 0
    for link in links:
        figure = int(re.search(r"\d+", link["text"])[0])  # "3 won" or "赢单 3 个"
        drilled = client.get(html.unescape(link["href"]))
        assert drilled.status_code == 200, link["href"]
        page = drilled.context["page"]
        assert page.count == figure, (link["testid"], link["href"], page.count, figure)
        assert len(page.rows) == min(figure, 50)
        checked += 1
    assert checked >= 20


def test_the_drill_down_refuses_an_unknown_metric_or_a_stage_of_another_pipeline(client_for, director, sales_book,
                                                                                   last_50_days):
    from sales import services

    other = services.pipeline_save(by=director, name="渠道销售")
    client = client_for(director)
    assert client.get(DRILL, {**last_50_days, "metric": "everything"}).status_code == 404
    stage = other.stages.first()
    assert client.get(DRILL, {**last_50_days, "metric": "funnel", "stage": stage.pk}).status_code == 404
    assert client.get(DRILL, {**last_50_days, "metric": "forecast", "month": "soon"}).status_code == 400


def test_the_drill_down_pages_through_many_rows(client_for, director, sales_book, last_50_days):
    from crm.tests.factories import CustomerFactory
    from sales import services

    customer = CustomerFactory(owner=director)
    for n in range(55):
        services.opportunity_create(by=director, customer=customer, pipeline=sales_book["pipeline"], name=f"批量{n}")
    first_stage = sales_book["stages"]["初步接触"]
    client = client_for(director)
    query = {**last_50_days, "metric": "funnel", "stage": first_stage.pk, "pipeline": sales_book["pipeline"].pk}
    page = client.get(DRILL, query).context["page"]
    assert page.count == 56 and len(page.rows) == 50 and page.next_cursor
    second = client.get(DRILL, {**query, "after": page.next_cursor}).context["page"]
    assert len(second.rows) == 6
    assert not {d.pk for d in page.rows} & {d.pk for d in second.rows}


# Query counts ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("persona", ["director", "manager_east", "rep_east"])
def test_the_dashboards_queries_do_not_grow_with_the_data(client_for, person, persona, sales_book,
                                                         django_assert_max_num_queries, last_50_days):
    client = client_for(person(persona))
    client.get(URL, last_50_days)
    with django_assert_max_num_queries(17):
        response = client.get(URL, last_50_days)
    assert response.status_code == 200


DRILL_PARAMS = {"funnel": "stage", "reached": "stage", "forecast": "month", "rep_won": "owner", "rep_open": "owner"}


def _drill_query(metric, book, owner):
    """A drill-down query for `metric` that lists at least one row of the book."""
    value = {"stage": book["stages"]["初步接触"].pk, "month": timezone.localdate().strftime("%Y-%m"),
             "owner": owner.pk}.get(DRILL_PARAMS.get(metric))
    if metric == "reached":
        value = book["stages"]["won"].pk
    return {"metric": metric, **({DRILL_PARAMS[metric]: value} if metric in DRILL_PARAMS else {})}


@pytest.mark.parametrize("metric", selectors.METRICS)
def test_the_drill_downs_queries_are_pinned(client_for, manager_east, rep_east, sales_book, metric,
                                            django_assert_max_num_queries, last_50_days):
    client = client_for(manager_east)
    stage_lookup = metric in ("funnel", "reached")  # the stage named in the link, checked to be the pipeline's
    with django_assert_max_num_queries(7 + stage_lookup):
        response = client.get(DRILL, {**last_50_days, **_drill_query(metric, sales_book, rep_east)})
    assert response.status_code == 200 and response.context["page"].count >= 1


def test_a_further_drill_down_pages_queries_are_pinned(client_for, director, sales_book,
                                                      django_assert_max_num_queries, last_50_days):
    from crm.tests.factories import CustomerFactory
    from sales import services

    customer = CustomerFactory(owner=director)
    for n in range(55):
        services.opportunity_create(by=director, customer=customer, pipeline=sales_book["pipeline"], name=f"批量{n}")
    client = client_for(director)
    query = {**last_50_days, "metric": "funnel", "stage": sales_book["stages"]["初步接触"].pk}
    cursor = client.get(DRILL, query).context["page"].next_cursor
    with django_assert_max_num_queries(7):
        response = client.get(DRILL, {**query, "after": cursor})
    assert response.status_code == 200 and len(response.context["page"].rows) == 6
