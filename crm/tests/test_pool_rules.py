"""The nightly pool rules: customers nobody works on go back to their team's pool, set-based and
safe to run twice, each return on the customer's timeline with its reason."""
import datetime
import zoneinfo

import pytest
from pghistory.models import Events

from accounts.history import record_history as history_of
from crm.models import Customer, DealStatus, Pool, PoolEvent
from crm.services import RETURN_REASONS, pool_rules_apply
from crm.tasks import pool_apply_rules
from crm.tests.factories import CustomerFactory

pytestmark = pytest.mark.dates

# A Tuesday at 02:00 in Shanghai, when beat runs the rules; the tests run at that moment.
NOW = datetime.datetime(2026, 6, 16, 2, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def _at_two_at_night(time_machine):
    time_machine.move_to(NOW, tick=True)


def days_ago(n):
    return NOW - datetime.timedelta(days=n)


@pytest.fixture
def east_pool(teams):
    """Tier A: back after 30 idle days, B after 10, C never; no deal 60 days after the claim for A and B."""
    pool = Pool.objects.create(name="华东公海", idle_days_a=30, idle_days_b=10, no_deal_days_a=60, no_deal_days_b=60)
    pool.teams.set([teams["east"]])
    return pool


def owned(owner, *, tier="B", last_followup=None, claimed=None, created=None, **fields):
    """A customer of `owner` with its clock set: last follow-up, claim and creation `n` days ago."""
    customer = CustomerFactory(owner=owner, tier=tier, **fields)
    Customer.objects.filter(pk=customer.pk).update(
        last_followup_at=days_ago(last_followup) if last_followup is not None else None,
        claimed_at=days_ago(claimed) if claimed is not None else None,
        created_at=days_ago(created if created is not None else 400))
    return customer


def in_pool(*customers):
    return [Customer.objects.get(pk=c.pk).owner_id is None for c in customers]


def test_it_returns_idle_customers_by_the_days_of_their_tier(rep_east, east_pool):
    a_15 = owned(rep_east, tier="A", last_followup=15, claimed=40)
    a_31 = owned(rep_east, tier="A", last_followup=31, claimed=40)
    b_5 = owned(rep_east, tier="B", last_followup=5, claimed=40)
    b_15 = owned(rep_east, tier="B", last_followup=15, claimed=40)
    c_300 = owned(rep_east, tier="C", last_followup=300, claimed=300)

    counts = pool_rules_apply(now=NOW)

    assert in_pool(a_15, a_31, b_5, b_15, c_300) == [False, True, False, True, False]
    assert counts["idle"] == 2
    returned = Customer.objects.get(pk=b_15.pk)
    assert (returned.pool, returned.claimed_at, returned.team) == (east_pool, None, rep_east.team)


def test_it_counts_idle_days_from_the_claim_then_from_creation_without_a_follow_up(rep_east, east_pool):
    claimed_lately = owned(rep_east, claimed=5, created=100)
    claimed_long_ago = owned(rep_east, claimed=20, created=100)
    never_claimed_old = owned(rep_east, created=20)
    never_claimed_new = owned(rep_east, created=3)

    pool_rules_apply(now=NOW)

    assert in_pool(claimed_lately, claimed_long_ago, never_claimed_old, never_claimed_new) == [False, True, True, False]


def test_it_returns_customers_without_a_deal_some_days_after_the_claim(rep_east, east_pool):
    east_pool.idle_days_a = east_pool.idle_days_b = None
    east_pool.save()
    no_deal = owned(rep_east, claimed=61, last_followup=1)
    recent = owned(rep_east, claimed=30, last_followup=1)
    won = owned(rep_east, claimed=61, last_followup=1, deal_status=DealStatus.WON)

    counts = pool_rules_apply(now=NOW)

    assert in_pool(no_deal, recent, won) == [True, False, False]
    assert (counts["idle"], counts["no_deal"], counts["total"]) == (0, 1, 1)


@pytest.mark.parametrize("exempt, returned", [(True, False), (False, True)])
def test_it_spares_customers_with_a_deal_when_the_pool_says_so(rep_east, east_pool, exempt, returned):
    east_pool.exempt_deal = exempt
    east_pool.save()
    customer = owned(rep_east, last_followup=50, deal_status=DealStatus.WON)

    pool_rules_apply(now=NOW)

    assert in_pool(customer) == [returned]


@pytest.mark.parametrize("exempt, returned", [(True, False), (False, True)])
def test_it_spares_locked_customers_when_the_pool_says_so(rep_east, east_pool, exempt, returned):
    east_pool.exempt_locked = exempt
    east_pool.save()
    customer = owned(rep_east, last_followup=50, locked=True)

    pool_rules_apply(now=NOW)

    assert in_pool(customer) == [returned]


def test_it_leaves_archived_and_merged_customers_alone(rep_east, east_pool):
    archived = owned(rep_east, last_followup=50, archived_at=days_ago(1))
    survivor = owned(rep_east, last_followup=1)
    merged = owned(rep_east, last_followup=50, merged_into=survivor)

    pool_rules_apply(now=NOW)

    assert in_pool(archived, merged) == [False, False]


def test_it_returns_nothing_the_second_time(rep_east, east_pool):
    owned(rep_east, last_followup=50)
    owned(rep_east, claimed=70, last_followup=1)

    first = pool_rules_apply(now=NOW)
    second = pool_rules_apply(now=NOW)

    assert first["total"] == 2
    assert second == {"idle": 0, "no_deal": 0, "total": 0}
    assert PoolEvent.objects.filter(kind=PoolEvent.Kind.RETURN).count() == 2


def test_it_records_each_return_with_the_previous_owner_and_its_reason(rep_east, east_pool):
    idle = owned(rep_east, last_followup=50)
    no_deal = owned(rep_east, claimed=70, last_followup=1)

    pool_rules_apply(now=NOW)

    events = {e.customer_id: e for e in PoolEvent.objects.all()}
    assert (events[idle.pk].kind, events[idle.pk].owner, events[idle.pk].by, events[idle.pk].pool) == (
        "return", rep_east, None, east_pool)
    assert events[idle.pk].reason == RETURN_REASONS["idle"]
    assert events[no_deal.pk].reason == RETURN_REASONS["no_deal"]
    for customer, rule in ((idle, "idle"), (no_deal, "no_deal")):
        event = Events.objects.tracks(customer).order_by("-pgh_created_at", "-pgh_id").first()
        assert event.pgh_context["action"] == "pool_return"
        assert event.pgh_context["reason"] == RETURN_REASONS[rule]
        assert event.pgh_diff["owner_id"] == [rep_east.pk, None]
        returns = [e for e in Events.objects.tracks(customer) if (e.pgh_context or {}).get("action") == "pool_return"]
        assert len(returns) == 1  # one entry per return, written in one statement for all of them


def test_it_shows_the_return_and_its_reason_on_the_timeline(rep_east, east_pool):
    customer = owned(rep_east, last_followup=50)

    pool_rules_apply(now=NOW)

    latest = history_of(customer)[0]
    assert (latest["action"], latest["note"]) == ("pool_return", RETURN_REASONS["idle"])
    assert any(old == rep_east.name and new is None for _label, old, new in latest["changes"])


def test_it_applies_only_the_rules_of_the_pool_a_team_belongs_to(teams, rep_east, rep_west, east_pool):
    north = Pool.objects.create(name="华北公海", idle_days_b=100)
    north.teams.set([teams["north"]])
    east_idle, west_idle = owned(rep_east, last_followup=50), owned(rep_west, last_followup=50)

    pool_rules_apply(now=NOW)

    assert in_pool(east_idle, west_idle) == [True, False]


def test_it_sends_customers_of_teams_in_no_pool_to_the_default_pool_by_its_rules(teams, rep_west, director, east_pool):
    default = Pool.objects.create(name="总部公海", is_default=True, idle_days_b=20)
    west_idle = owned(rep_west, last_followup=50)
    hq_idle = owned(director, last_followup=50)
    teamless = owned(director, last_followup=50, team=None)

    pool_rules_apply(now=NOW)

    assert in_pool(west_idle, hq_idle, teamless) == [True, True, True]
    assert set(Customer.objects.filter(pk__in=[west_idle.pk, hq_idle.pk, teamless.pk])
               .values_list("pool_id", flat=True)) == {default.pk}


def test_it_moves_many_customers_with_a_fixed_number_of_queries(rep_east, east_pool, django_assert_max_num_queries):
    owned(rep_east, last_followup=50)  # one customer for each rule
    owned(rep_east, claimed=70, last_followup=1)
    with django_assert_max_num_queries(20) as few:
        assert pool_rules_apply(now=NOW)["total"] == 2
    for _ in range(25):
        owned(rep_east, last_followup=50)
        owned(rep_east, claimed=70, last_followup=1)
    with django_assert_max_num_queries(len(few.captured_queries)):
        counts = pool_rules_apply(now=NOW)
    assert counts["total"] == 50


def test_it_runs_as_the_nightly_task(rep_east, east_pool):
    customer = owned(rep_east, last_followup=50)

    pool_apply_rules.apply()

    assert in_pool(customer) == [True]
