"""The targets page: the period (default this quarter, month or quarter, back and forth), the grid of
teams and reps in the manager's scope saved in one POST (only changed rows written, emptied rows
removed), the actual won figures beside each, and a pinned query count."""
import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from crm.tests.factories import CustomerFactory
from sales import selectors, services
from sales.models import Target

from .contract_factories import win

pytestmark = [pytest.mark.django_db, pytest.mark.dates]

URL = "/sales/targets/"


def grid(response):
    return {(row.kind, row.subject.pk): row for row, _amount, _count in response.context["rows"]}


def test_it_opens_on_this_quarter_with_the_managers_teams_and_reps(client_for, manager_east, rep_east, rep_hz,
                                                                  teams):
    assert reverse("sales:target_list") == URL
    response = client_for(manager_east).get(URL)
    assert response.status_code == 200
    this_quarter = selectors.period_start("quarter", timezone.localdate())
    assert (response.context["period"], response.context["start"]) == ("quarter", this_quarter)
    assert set(grid(response)) == {("team", teams["east"].pk), ("team", teams["shanghai"].pk),
                                   ("team", teams["hangzhou"].pk), ("user", rep_east.pk), ("user", rep_hz.pk)}
    assert f"start={selectors.period_shift('quarter', this_quarter, -1).isoformat()}" in response.content.decode()


def test_a_month_is_chosen_by_its_first_day(client_for, manager_east):
    response = client_for(manager_east).get(URL + "?period=month&start=2026-02-17")
    assert (response.context["period"], response.context["start"]) == ("month", datetime.date(2026, 2, 1))


def test_the_grid_saves_changed_rows_in_one_post_and_removes_emptied_ones(client_for, manager_east, rep_east,
                                                                         rep_hz, teams):
    client = client_for(manager_east)
    start = "2026-04-01"
    response = client.post(URL, {"period": "quarter", "start": start, f"user-{rep_east.pk}-amount": "900000",
                                 f"user-{rep_east.pk}-count": "4", f"team-{teams['east'].pk}-amount": "3000000",
                                 f"team-{teams['east'].pk}-count": ""})
    assert response.status_code == 302 and "period=quarter" in response.url and "start=2026-04-01" in response.url
    saved = {(t.user_id, t.team_id): (t.amount, t.count, t.set_by_id) for t in Target.objects.all()}
    assert saved == {(rep_east.pk, None): (Decimal(900000), 4, manager_east.pk),
                     (None, teams["east"].pk): (Decimal(3000000), 0, manager_east.pk)}
    page = client.get(URL + "?period=quarter&start=2026-05-05")
    assert grid(page)[("user", rep_east.pk)].target.amount == Decimal(900000)
    client.post(URL, {"period": "quarter", "start": start, f"user-{rep_east.pk}-amount": "",
                      f"user-{rep_east.pk}-count": "", f"team-{teams['east'].pk}-amount": "3000000",
                      f"team-{teams['east'].pk}-count": "0"})
    assert list(Target.objects.values_list("team_id", flat=True)) == [teams["east"].pk]


def test_a_negative_target_is_refused(client_for, manager_east, rep_east):
    response = client_for(manager_east).post(URL, {"period": "month", "start": "2026-04-01",
                                                   f"user-{rep_east.pk}-amount": "-5"})
    assert response.status_code == 422 and not Target.objects.exists()


def test_the_remove_button_removes_one_target(client_for, manager_east, rep_east):
    target = services.target_save(by=manager_east, period="month", starts_on=datetime.date(2026, 4, 1), user=rep_east,
                                  amount=1, count=1)
    response = client_for(manager_east).post(reverse("sales:target_delete", args=[target.pk]))
    assert response.status_code == 302 and "period=month" in response.url and not Target.objects.exists()


def test_beside_each_target_the_won_figures_of_the_period(client_for, manager_east, rep_east, teams, pipeline):
    deal = services.opportunity_create(by=rep_east, customer=CustomerFactory(owner=rep_east), pipeline=pipeline,
                                       name="单", amount=Decimal(250000))
    win(deal, rep_east)
    services.target_save(by=manager_east, period="month", starts_on=timezone.localdate(), user=rep_east,
                         amount=Decimal(500000), count=2)
    response = client_for(manager_east).get(URL + "?period=month")
    row = grid(response)[("user", rep_east.pk)]
    assert (row.won_amount, row.won_count, row.progress) == (Decimal(250000), 1, 50)
    assert grid(response)[("team", teams["east"].pk)].won_count == 1


def test_the_page_keeps_its_query_count_however_many_reps(client_for, director, rep_east, teams, roles,
                                                         django_assert_max_num_queries):
    client = client_for(director)
    client.get(URL)
    for number in range(10):
        rep = UserFactory(username=f"rep_more{number}", team=teams["hangzhou"], roles=[roles["销售代表"]])
        services.target_save(by=director, period="quarter", starts_on=timezone.localdate(), user=rep,
                             amount=number, count=number)
    with django_assert_max_num_queries(8):
        response = client.get(URL)
    assert len(response.context["rows"]) >= 16


def test_saving_the_grid_reads_a_fixed_number_of_times(client_for, director, rep_east, teams, roles,
                                                       django_assert_max_num_queries):
    reps = [UserFactory(username=f"rep_more{n}", team=teams["hangzhou"], roles=[roles["销售代表"]]) for n in range(8)]
    data = {"period": "quarter", "start": "2026-04-01"}
    data.update({f"user-{rep.pk}-amount": "100" for rep in reps})
    client = client_for(director)
    client.post(URL, data)
    assert Target.objects.count() == 8
    data.update({f"user-{rep.pk}-amount": "100" for rep in reps})  # nothing changed: nothing written
    with django_assert_max_num_queries(10):
        assert client.post(URL, data).status_code == 302
