"""Sales targets in the services and selectors: who may set them for whom, the upsert on the period's
first day, and what was actually won in a period."""
import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts.tests.factories import UserFactory
from crm.tests.factories import CustomerFactory
from sales import selectors, services
from sales.models import Opportunity, Target

from .contract_factories import win

pytestmark = [pytest.mark.django_db, pytest.mark.dates]


def names(subjects):
    return {t.name for t in subjects.teams}, {u.username for u in subjects.users}


def test_a_director_sets_targets_for_every_team_and_everyone_in_sales(director, manager_east, rep_east, rep_west,
                                                                     teams, roles):
    UserFactory(username="service_sh", team=teams["shanghai"], roles=[roles["客服专员"]])
    team_names, users = names(selectors.target_subjects_for(director))
    assert team_names == {"总部", "华东区", "华北区", "上海分公司", "杭州分公司", "北京分公司"}
    assert users == {"manager_east", "manager_west", "rep_east", "rep_west"}  # not the director, not 客服


def test_a_regional_manager_sets_targets_in_their_region_only(manager_east, manager_west, rep_east, rep_east2,
                                                             rep_hz, rep_west):
    team_names, users = names(selectors.target_subjects_for(manager_east))
    assert team_names == {"华东区", "上海分公司", "杭州分公司"}
    assert users == {"rep_east", "rep_east2", "rep_hz"}


def test_a_rep_sets_no_targets(rep_east):
    assert names(selectors.target_subjects_for(rep_east)) == (set(), set())
    with pytest.raises(PermissionDenied):
        services.target_save(by=rep_east, period="month", starts_on=datetime.date(2026, 5, 1), user=rep_east,
                             amount=1, count=1)


def test_a_target_is_upserted_on_the_first_day_of_its_period(manager_east, rep_east, teams):
    first = services.target_save(by=manager_east, period="quarter", starts_on=datetime.date(2026, 5, 20),
                                 user=rep_east, amount=Decimal("900000"), count=4)
    assert first.starts_on == datetime.date(2026, 4, 1) and first.set_by == manager_east
    again = services.target_save(by=manager_east, period="quarter", starts_on=datetime.date(2026, 6, 30),
                                 user=rep_east, amount=Decimal("1000000"), count=5)
    assert again.pk == first.pk and (again.amount, again.count) == (Decimal("1000000"), 5)
    month = services.target_save(by=manager_east, period="month", starts_on=datetime.date(2026, 5, 20),
                                 team=teams["shanghai"], amount=300000, count=2)
    assert month.starts_on == datetime.date(2026, 5, 1) and Target.objects.count() == 2


def test_a_regional_manager_cannot_set_targets_outside_their_region(manager_east, rep_west, teams):
    for subject in ({"user": rep_west}, {"team": teams["north"]}, {"team": teams["hq"]}):
        with pytest.raises(PermissionDenied):
            services.target_save(by=manager_east, period="month", starts_on=datetime.date(2026, 5, 1), amount=1,
                                 count=1, **subject)
    assert not Target.objects.exists()


def test_a_target_is_for_one_rep_or_one_team_and_not_negative(director, rep_east, teams):
    with pytest.raises(ValidationError):
        services.target_save(by=director, period="month", starts_on=datetime.date(2026, 5, 1), user=rep_east,
                             team=teams["east"], amount=1, count=1)
    with pytest.raises(ValidationError):
        services.target_save(by=director, period="month", starts_on=datetime.date(2026, 5, 1), user=rep_east,
                             amount=-1, count=1)
    with pytest.raises(ValidationError):
        services.target_save(by=director, period="year", starts_on=datetime.date(2026, 5, 1), user=rep_east,
                             amount=1, count=1)


def test_targets_are_removed_only_within_scope(director, manager_east, rep_west, rep_east):
    north = services.target_save(by=director, period="month", starts_on=datetime.date(2026, 5, 1), user=rep_west,
                                 amount=1, count=1)
    with pytest.raises(PermissionDenied):
        services.target_delete(by=manager_east, target=north)
    east = services.target_save(by=manager_east, period="month", starts_on=datetime.date(2026, 5, 1), user=rep_east,
                                amount=1, count=1)
    services.target_delete(by=manager_east, target=east)
    assert list(Target.objects.all()) == [north]


def test_the_grid_save_is_all_or_nothing(manager_east, rep_east, rep_west):
    with pytest.raises(PermissionDenied):
        services.targets_save(by=manager_east, period="month", starts_on=datetime.date(2026, 5, 1), changes=[
            {"user": rep_east, "amount": 1, "count": 1}, {"user": rep_west, "amount": 1, "count": 1}])
    assert not Target.objects.exists()


def _won_at(deal, by, when):
    deal = win(deal, by)
    Opportunity.objects.filter(pk=deal.pk).update(closed_at=when)
    return deal


def test_actuals_count_won_deals_closed_in_the_period_by_owner_and_team_with_sub_teams(
        pipeline, manager_east, rep_east, rep_hz, rep_west, teams):
    zone = timezone.get_current_timezone()
    in_may = datetime.datetime(2026, 5, 31, 23, 30, tzinfo=zone)
    for rep, amount, when in [(rep_east, 100, in_may), (rep_east, 200, in_may), (rep_hz, 50, in_may),
                              (rep_east, 999, datetime.datetime(2026, 6, 1, 0, 0, tzinfo=zone)),
                              (rep_west, 70, in_may)]:
        customer = CustomerFactory(owner=rep)
        deal = services.opportunity_create(by=rep, customer=customer, pipeline=pipeline, name="单",
                                           amount=Decimal(amount))
        _won_at(deal, rep, when)
    services.opportunity_create(by=rep_east, customer=CustomerFactory(owner=rep_east), pipeline=pipeline,
                                name="未赢", amount=Decimal(5))
    may = datetime.date(2026, 5, 1)
    subjects = selectors.target_subjects_for(manager_east)
    actuals = selectors.won_actuals(manager_east, "month", may, users=subjects.users, teams=subjects.teams)
    assert actuals[("user", rep_east.pk)] == (Decimal(300), 2)
    assert actuals[("team", teams["east"].pk)] == (Decimal(350), 3)
    assert actuals[("team", teams["hangzhou"].pk)] == (Decimal(50), 1)
    assert ("user", rep_west.pk) not in actuals
    quarter = selectors.won_actuals(manager_east, "quarter", datetime.date(2026, 4, 1), teams=subjects.teams)
    assert quarter[("team", teams["shanghai"].pk)] == (Decimal(1299), 3)


def test_periods():
    assert selectors.period_start("quarter", datetime.date(2026, 12, 31)) == datetime.date(2026, 10, 1)
    assert selectors.period_shift("quarter", datetime.date(2026, 10, 1), 1) == datetime.date(2027, 1, 1)
    assert selectors.period_shift("month", datetime.date(2026, 1, 1), -1) == datetime.date(2025, 12, 1)
