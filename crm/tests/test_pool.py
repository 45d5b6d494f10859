"""The customer pool (公海): claiming, releasing and assigning, and the pool pages.

华东公海 serves 华东区 (上海分公司, 杭州分公司 and manager_east); 华北公海 serves 华北区 (rep_west).
"""
import datetime
import re
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import close_old_connections, connection, transaction
from django.urls import reverse
from django.utils import timezone

from accounts import services as account_services
from accounts.history import record_history as history_of
from crm import selectors
from crm.models import Customer, DealStatus, Pool, PoolEvent
from crm.services import pool_assign, pool_claim, pool_for_team, pool_release
from crm.tests.factories import CustomerFactory

pytestmark = pytest.mark.dates


@pytest.fixture
def east_pool(teams):
    pool = Pool.objects.create(name="华东公海", daily_claim_limit=3)
    pool.teams.set([teams["east"]])
    return pool


@pytest.fixture
def north_pool(teams):
    pool = Pool.objects.create(name="华北公海")
    pool.teams.set([teams["north"]])
    return pool


def waiting(pool, team=None, **fields):
    """A customer without an owner, waiting in `pool`."""
    return CustomerFactory(pool=pool, team=team, **fields)


def last_change(customer):
    """(action, note) of the newest entry of a customer's change history, as its timeline shows it."""
    latest = history_of(customer)[0]
    return latest["action"], latest["note"]


def owners(*customers):
    return [Customer.objects.get(pk=c.pk).owner_id for c in customers]


# Which pool a team belongs to ------------------------------------------------------------------

def test_it_finds_the_pool_of_the_nearest_team_up_the_tree(teams, east_pool, north_pool):
    sub_pool = Pool.objects.create(name="杭州公海")
    sub_pool.teams.set([teams["hangzhou"]])
    default = Pool.objects.create(name="总部公海", is_default=True)

    assert pool_for_team(teams["shanghai"]) == east_pool
    assert pool_for_team(teams["hangzhou"]) == sub_pool
    assert pool_for_team(teams["beijing"]) == north_pool
    assert pool_for_team(teams["hq"]) == default
    assert pool_for_team(None) == default


def test_it_has_no_pool_for_a_team_outside_every_pool_without_a_default(teams, east_pool):
    assert pool_for_team(teams["beijing"]) is None


# Claim -----------------------------------------------------------------------------------------

def test_it_claims_within_the_daily_limit(rep_east, east_pool, teams):
    first, second, left = (waiting(east_pool, teams["hangzhou"]) for _ in range(3))

    assert pool_claim(ids=[first.pk, second.pk], by=rep_east) == 2

    first.refresh_from_db()
    assert (first.owner, first.team, first.pool, first.claimed_at is not None) == (rep_east, rep_east.team, None, True)
    assert owners(second, left) == [rep_east.pk, None]
    events = PoolEvent.objects.filter(kind=PoolEvent.Kind.CLAIM)
    assert sorted(events.values_list("customer_id", "pool_id", "owner_id", "by_id")) == [
        (first.pk, east_pool.pk, rep_east.pk, rep_east.pk), (second.pk, east_pool.pk, rep_east.pk, rep_east.pk)]
    assert selectors.claims_left_today(rep_east, east_pool) == 1
    assert last_change(first) == ("pool_claim", "")


def test_it_refuses_a_claim_over_the_daily_limit_and_claims_none_of_it(rep_east, east_pool):
    pool_claim(ids=[waiting(east_pool).pk, waiting(east_pool).pk], by=rep_east)
    third, fourth = waiting(east_pool), waiting(east_pool)

    with pytest.raises(ValidationError) as refused:
        pool_claim(ids=[third.pk, fourth.pk], by=rep_east)

    assert "1" in refused.value.messages[0]
    assert owners(third, fourth) == [None, None]
    assert pool_claim(ids=[third.pk], by=rep_east) == 1
    assert selectors.claims_left_today(rep_east, east_pool) == 0


def test_it_counts_todays_claims_in_the_reps_time_zone(rep_east, east_pool):
    rep_east.time_zone = "Asia/Shanghai"
    earlier = [waiting(east_pool) for _ in range(3)]
    pool_claim(ids=[c.pk for c in earlier], by=rep_east)
    local_now = timezone.localtime(timezone.now(), datetime.timezone(datetime.timedelta(hours=8)))
    midnight = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
    PoolEvent.objects.filter(customer=earlier[0]).update(at=midnight - datetime.timedelta(minutes=1))
    PoolEvent.objects.filter(customer=earlier[1]).update(at=midnight - datetime.timedelta(hours=20))

    assert selectors.claims_left_today(rep_east, east_pool) == 2
    assert pool_claim(ids=[waiting(east_pool).pk, waiting(east_pool).pk], by=rep_east) == 2


def test_it_refuses_a_claim_over_the_owner_cap(rep_east, east_pool):
    east_pool.owner_cap, east_pool.daily_claim_limit = 2, None
    east_pool.save()
    CustomerFactory(owner=rep_east)
    one, two = waiting(east_pool), waiting(east_pool)

    with pytest.raises(ValidationError) as refused:
        pool_claim(ids=[one.pk, two.pk], by=rep_east)

    assert "2" in refused.value.messages[0]
    assert owners(one, two) == [None, None]
    assert pool_claim(ids=[one.pk], by=rep_east) == 1


@pytest.mark.parametrize("counts_deal, allowed", [(False, True), (True, False)])
def test_it_counts_deal_customers_towards_the_cap_only_if_the_pool_says_so(rep_east, east_pool, counts_deal, allowed):
    east_pool.owner_cap, east_pool.cap_counts_deal = 1, counts_deal
    east_pool.save()
    CustomerFactory(owner=rep_east, deal_status=DealStatus.WON)
    candidate = waiting(east_pool)

    if allowed:
        pool_claim(ids=[candidate.pk], by=rep_east)
    else:
        with pytest.raises(ValidationError):
            pool_claim(ids=[candidate.pk], by=rep_east)

    assert owners(candidate) == [rep_east.pk if allowed else None]


def test_it_blocks_the_previous_owner_from_claiming_again_for_the_set_days(rep_east, rep_east2, east_pool):
    east_pool.reclaim_block_days = 7
    east_pool.save()
    mine = CustomerFactory(owner=rep_east)
    pool_release(ids=[mine.pk], by=rep_east)

    with pytest.raises(ValidationError) as refused:
        pool_claim(ids=[mine.pk], by=rep_east)
    assert mine.name in refused.value.messages[0]
    assert owners(mine) == [None]

    PoolEvent.objects.filter(customer=mine).update(at=timezone.now() - datetime.timedelta(days=8))
    assert pool_claim(ids=[mine.pk], by=rep_east) == 1


def test_it_lets_another_rep_claim_what_someone_released(rep_east, rep_east2, east_pool):
    east_pool.reclaim_block_days = 7
    east_pool.save()
    mine = CustomerFactory(owner=rep_east)
    pool_release(ids=[mine.pk], by=rep_east)

    assert pool_claim(ids=[mine.pk], by=rep_east2) == 1
    assert owners(mine) == [rep_east2.pk]


def test_it_refuses_a_claim_from_a_pool_the_rep_is_not_a_member_of(rep_west, east_pool, north_pool):
    theirs, ours = waiting(east_pool), waiting(north_pool)

    with pytest.raises(ValidationError):
        pool_claim(ids=[ours.pk, theirs.pk], by=rep_west)

    assert owners(theirs, ours) == [None, None]
    assert not PoolEvent.objects.exists()


def test_it_refuses_to_claim_a_customer_that_has_an_owner(rep_east, rep_east2, east_pool):
    customer = waiting(east_pool)
    pool_claim(ids=[customer.pk], by=rep_east2)

    with pytest.raises(ValidationError):
        pool_claim(ids=[customer.pk], by=rep_east)

    assert owners(customer) == [rep_east2.pk]


@pytest.mark.django_db(transaction=True)
def test_it_gives_a_customer_claimed_by_two_reps_at_once_to_one_of_them(teams, roles, rep_east, rep_east2):
    pool = Pool.objects.create(name="华东公海")
    pool.teams.set([teams["east"]])
    customer = waiting(pool)
    first_holds_lock, let_first_commit = threading.Event(), threading.Event()
    outcome = {}

    def first():
        try:
            with transaction.atomic():
                pool_claim(ids=[customer.pk], by=rep_east)
                first_holds_lock.set()
                let_first_commit.wait(10)
            outcome["first"] = "claimed"
        finally:
            connection.close()

    def second():
        first_holds_lock.wait(10)
        try:
            pool_claim(ids=[customer.pk], by=rep_east2)
            outcome["second"] = "claimed"
        except ValidationError as error:
            outcome["second"] = error.code
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    first_holds_lock.wait(10)
    threading.Event().wait(0.5)  # the second claim is now waiting for the first one's row lock
    let_first_commit.set()
    for thread in threads:
        thread.join(20)
    close_old_connections()

    # the second passed the checks (the first had not committed), then waited on the row and found it taken
    assert outcome == {"first": "claimed", "second": "claimed_meanwhile"}
    assert owners(customer) == [rep_east.pk]
    assert PoolEvent.objects.filter(kind=PoolEvent.Kind.CLAIM).count() == 1


# Release ---------------------------------------------------------------------------------------

def test_it_releases_to_the_pool_of_the_customers_team(rep_east, east_pool):
    first, second = CustomerFactory(owner=rep_east), CustomerFactory(owner=rep_east)

    assert pool_release(ids=[first.pk, second.pk], by=rep_east, reason="客户暂无需求") == 2

    first.refresh_from_db()
    assert (first.owner, first.pool, first.claimed_at, first.team) == (None, east_pool, None, rep_east.team)
    event = PoolEvent.objects.get(customer=first)
    assert (event.kind, event.owner, event.by, event.pool, event.reason) == (
        "release", rep_east, rep_east, east_pool, "客户暂无需求")
    assert last_change(first) == ("pool_release", "客户暂无需求")


def test_it_releases_into_the_default_pool_when_the_team_is_in_no_pool(rep_west, east_pool):
    default = Pool.objects.create(name="总部公海", is_default=True)
    customer = CustomerFactory(owner=rep_west)

    pool_release(ids=[customer.pk], by=rep_west)

    assert Customer.objects.get(pk=customer.pk).pool == default


def test_it_refuses_to_release_when_there_is_no_pool_to_go_to(rep_west, east_pool):
    customer = CustomerFactory(owner=rep_west)

    with pytest.raises(ValidationError):
        pool_release(ids=[customer.pk], by=rep_west)

    assert owners(customer) == [rep_west.pk]


def test_it_releases_nothing_when_one_id_is_not_the_users_to_change(rep_east, rep_west, east_pool, north_pool):
    mine, theirs = CustomerFactory(owner=rep_east), CustomerFactory(owner=rep_west)

    with pytest.raises(PermissionDenied):
        pool_release(ids=[mine.pk, theirs.pk], by=rep_east)

    assert owners(mine, theirs) == [rep_east.pk, rep_west.pk]
    assert not PoolEvent.objects.exists()


def test_it_releases_nothing_when_one_id_is_only_shared_read_only(rep_east, rep_west, east_pool, north_pool):
    mine, shared = CustomerFactory(owner=rep_east), CustomerFactory(owner=rep_west)
    account_services.share_create(obj=shared, by=rep_west, user=rep_east)

    with pytest.raises(PermissionDenied):
        pool_release(ids=[mine.pk, shared.pk], by=rep_east)

    assert owners(mine, shared) == [rep_east.pk, rep_west.pk]


# Assign ----------------------------------------------------------------------------------------

def test_it_lets_a_manager_assign_from_the_pool(manager_east, rep_hz, east_pool):
    first, second = waiting(east_pool), waiting(east_pool)

    assert pool_assign(ids=[first.pk, second.pk], owner=rep_hz, by=manager_east) == 2

    first.refresh_from_db()
    assert (first.owner, first.team, first.pool) == (rep_hz, rep_hz.team, None)
    assert sorted(PoolEvent.objects.values_list("kind", "owner_id", "by_id", "pool_id")) == [
        ("assign", rep_hz.pk, manager_east.pk, east_pool.pk)] * 2
    assert last_change(first) == ("pool_assign", "")


def test_it_reassigns_an_owned_customer_without_a_pool_event(manager_east, rep_east, rep_hz, east_pool):
    customer = CustomerFactory(owner=rep_east)

    pool_assign(ids=[customer.pk], owner=rep_hz, by=manager_east)

    assert owners(customer) == [rep_hz.pk]
    assert not PoolEvent.objects.exists()


def test_it_refuses_to_assign_without_the_capability(rep_east, rep_east2, east_pool):
    customer = waiting(east_pool)

    with pytest.raises(PermissionDenied):
        pool_assign(ids=[customer.pk], owner=rep_east2, by=rep_east)

    assert owners(customer) == [None]


def test_it_refuses_to_assign_to_someone_outside_the_managers_scope(manager_east, rep_west, east_pool):
    customer = waiting(east_pool)

    with pytest.raises(ValidationError):
        pool_assign(ids=[customer.pk], owner=rep_west, by=manager_east)

    assert owners(customer) == [None]


def test_it_refuses_to_assign_to_an_inactive_user(manager_east, rep_hz, east_pool):
    rep_hz.is_active = False
    rep_hz.save()
    customer = waiting(east_pool)

    with pytest.raises(ValidationError):
        pool_assign(ids=[customer.pk], owner=rep_hz, by=manager_east)


def test_it_assigns_nothing_when_one_customer_is_out_of_sight(manager_east, rep_hz, east_pool, north_pool):
    ours, theirs = waiting(east_pool), waiting(north_pool)

    with pytest.raises(PermissionDenied):
        pool_assign(ids=[ours.pk, theirs.pk], owner=rep_hz, by=manager_east)

    assert owners(ours, theirs) == [None, None]


# Pages -----------------------------------------------------------------------------------------

def test_it_lists_only_the_pools_the_rep_belongs_to(client_for, rep_east, east_pool, north_pool):
    waiting(east_pool)
    waiting(east_pool)
    waiting(north_pool)

    response = client_for(rep_east).get(reverse("crm:pool_list"))

    page = response.content.decode()
    assert response.status_code == 200
    assert "华东公海" in page and "华北公海" not in page
    assert [p.waiting for p in response.context["pools"]] == [2]


def test_it_lists_every_pool_for_a_director(client_for, director, east_pool, north_pool):
    response = client_for(director).get(reverse("crm:pool_list"))

    assert {p.name for p in response.context["pools"]} == {"华东公海", "华北公海"}


def test_it_shows_a_pool_with_its_customers_and_the_claims_left(client_for, rep_east, east_pool, north_pool):
    ours, theirs = waiting(east_pool, name="杭州西湖科技有限公司"), waiting(north_pool, name="北京燕京建材有限公司")
    CustomerFactory(owner=rep_east, name="已有负责人的客户")

    response = client_for(rep_east).get(reverse("crm:pool_detail", args=[east_pool.pk]))

    page = response.content.decode()
    assert response.status_code == 200
    assert ours.name in page and theirs.name not in page and "已有负责人的客户" not in page
    assert 'data-testid="claims-left"' in page and "3" in page
    assert 'data-testid="assign-selected"' not in page  # a rep does not assign


def test_it_answers_404_for_a_pool_the_rep_is_not_a_member_of(client_for, rep_west, east_pool):
    customer = waiting(east_pool, name="杭州西湖科技有限公司")
    client = client_for(rep_west)

    response = client.get(reverse("crm:pool_detail", args=[east_pool.pk]))

    assert response.status_code == 404
    assert customer.name not in response.content.decode()
    listing = client.get(reverse("crm:pool_list")).content.decode()
    assert "华东公海" not in listing
    for name in ("crm:pool_claim", "crm:pool_assign"):
        assert client.post(reverse(name, args=[east_pool.pk]), {"ids": [customer.pk]}).status_code == 404
    assert owners(customer) == [None]


def test_it_finds_pool_customers_by_name_and_tier(client_for, rep_east, east_pool):
    waiting(east_pool, name="北京华信科技有限公司", tier="A")
    waiting(east_pool, name="上海华信贸易有限公司", tier="B")
    waiting(east_pool, name="广州远航物流有限公司", tier="A")
    client = client_for(rep_east)
    url = reverse("crm:pool_detail", args=[east_pool.pk])

    by_name = client.get(url, {"q": "华信"})
    by_pinyin = client.get(url, {"q": "bjhx"})
    by_both = client.get(url, {"q": "华信", "tier": "A"})

    assert [c.name for c in by_name.context["customers"]] == ["上海华信贸易有限公司", "北京华信科技有限公司"]
    assert [c.name for c in by_pinyin.context["customers"]] == ["北京华信科技有限公司"]
    assert [c.name for c in by_both.context["customers"]] == ["北京华信科技有限公司"]


def test_it_answers_a_search_over_htmx_with_the_results_only(client_for, rep_east, east_pool):
    waiting(east_pool, name="北京华信科技有限公司")

    response = client_for(rep_east).get(reverse("crm:pool_detail", args=[east_pool.pk]), {"q": "华信"},
                                        HTTP_HX_REQUEST="true", HTTP_HX_TARGET="pool-results")

    page = response.content.decode()
    assert 'id="pool-results"' in page and "<html" not in page and "北京华信科技有限公司" in page


def test_it_pages_with_load_more_and_caps_the_count(client_for, rep_east, east_pool, monkeypatch):
    monkeypatch.setattr("crm.selectors.pool.PAGE_SIZE", 2)
    monkeypatch.setattr("crm.selectors.pool.COUNT_CAP", 3)
    customers = [waiting(east_pool, name=f"公海客户{i}") for i in range(5)]
    client = client_for(rep_east)
    url = reverse("crm:pool_detail", args=[east_pool.pk])

    first = client.get(url)
    assert [c.pk for c in first.context["customers"]] == [customers[4].pk, customers[3].pk]
    assert first.context["count"] == "3+"
    more = client.get(url, {"before": customers[3].pk}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="pool-more")

    page = more.content.decode()
    assert re.findall(r'data-customer="(\d+)"', page) == [str(customers[2].pk), str(customers[1].pk)]
    assert "<html" not in page and 'id="pool-more"' in page and "<table" not in page


@pytest.mark.parametrize("url_name, most", [("crm:pool_list", 6), ("crm:pool_detail", 12)])
def test_it_shows_the_pool_pages_with_a_fixed_number_of_queries(client_for, manager_east, rep_hz, east_pool, url_name,
                                                                  most, django_assert_max_num_queries):
    waiting(east_pool)
    client = client_for(manager_east)
    url = reverse(url_name, args=[east_pool.pk] if url_name == "crm:pool_detail" else [])
    client.get(url)  # content types and the like are cached from here on
    with django_assert_max_num_queries(most) as few:
        assert client.get(url).status_code == 200
    for _ in range(30):
        waiting(east_pool)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url).status_code == 200


def test_it_claims_from_the_pool_page(client_for, rep_east, east_pool):
    first, second = waiting(east_pool), waiting(east_pool)

    response = client_for(rep_east).post(reverse("crm:pool_claim", args=[east_pool.pk]), {"ids": [first.pk, second.pk]})

    assert response.status_code == 302 and response["Location"] == east_pool.get_absolute_url()
    assert owners(first, second) == [rep_east.pk, rep_east.pk]


def test_it_tells_why_a_claim_from_the_pool_page_was_refused(client_for, rep_east, east_pool):
    customers = [waiting(east_pool) for _ in range(4)]
    client = client_for(rep_east)

    response = client.post(reverse("crm:pool_claim", args=[east_pool.pk]), {"ids": [c.pk for c in customers]},
                           follow=True)

    assert owners(*customers) == [None] * 4
    assert any(m.level_tag == "error" for m in response.context["messages"])


def test_it_lets_a_manager_assign_from_the_pool_page(client_for, manager_east, rep_hz, east_pool):
    customer = waiting(east_pool)

    response = client_for(manager_east).post(reverse("crm:pool_assign", args=[east_pool.pk]),
                                             {"ids": [customer.pk], "owner": rep_hz.pk})

    assert response.status_code == 302
    assert owners(customer) == [rep_hz.pk]


def test_it_refuses_the_assign_page_action_to_a_rep(client_for, rep_east, rep_east2, east_pool):
    customer = waiting(east_pool)

    response = client_for(rep_east).post(reverse("crm:pool_assign", args=[east_pool.pk]),
                                         {"ids": [customer.pk], "owner": rep_east2.pk})

    assert response.status_code == 403
    assert owners(customer) == [None]


def test_it_offers_a_manager_only_people_in_their_scope(client_for, manager_east, rep_east, rep_west, east_pool):
    response = client_for(manager_east).get(reverse("crm:pool_detail", args=[east_pool.pk]))

    offered = set(response.context["assign_form"].fields["owner"].queryset)
    assert rep_east in offered and manager_east in offered and rep_west not in offered


# The buttons of the customer page --------------------------------------------------------------

def test_it_claims_from_the_customer_page(client_for, rep_east, east_pool):
    customer = waiting(east_pool)

    response = client_for(rep_east).post(reverse("crm:customer_claim", args=[customer.pk]))

    assert response.status_code == 302 and response["Location"] == customer.get_absolute_url()
    assert owners(customer) == [rep_east.pk]


def test_it_answers_an_htmx_claim_with_a_client_redirect(client_for, rep_east, east_pool):
    customer = waiting(east_pool)

    response = client_for(rep_east).post(reverse("crm:customer_claim", args=[customer.pk]), HTTP_HX_REQUEST="true")

    assert response.status_code == 200 and response["HX-Redirect"] == customer.get_absolute_url()


def test_it_answers_404_to_claim_or_release_a_customer_out_of_sight(client_for, rep_west, rep_east, east_pool,
                                                                     north_pool):
    in_pool, owned = waiting(east_pool), CustomerFactory(owner=rep_east)
    client = client_for(rep_west)

    assert client.post(reverse("crm:customer_claim", args=[in_pool.pk])).status_code == 404
    assert client.post(reverse("crm:customer_release", args=[owned.pk])).status_code == 404
    assert owners(in_pool, owned) == [None, rep_east.pk]


def test_it_answers_403_to_release_a_customer_shared_read_only(client_for, rep_west, rep_east, east_pool):
    customer = CustomerFactory(owner=rep_east)
    account_services.share_create(obj=customer, by=rep_east, user=rep_west)

    response = client_for(rep_west).post(reverse("crm:customer_release", args=[customer.pk]))

    assert response.status_code == 403
    assert owners(customer) == [rep_east.pk]


def test_it_releases_from_the_customer_page(client_for, rep_east, east_pool):
    customer = CustomerFactory(owner=rep_east)

    response = client_for(rep_east).post(reverse("crm:customer_release", args=[customer.pk]), {"reason": "不再跟进"})

    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.owner, customer.pool) == (None, east_pool)
    assert PoolEvent.objects.get(customer=customer).reason == "不再跟进"


def test_it_goes_back_to_the_customer_page_after_a_release_by_an_own_scope_rep(client, rep_east, east_pool, roles):
    from accounts.capabilities import Scope
    from accounts.tests.factories import RoleFactory, UserFactory

    own_only = UserFactory(team=rep_east.team, roles=[RoleFactory(customers_scope=Scope.OWN)])
    customer = CustomerFactory(owner=own_only)
    client.force_login(own_only)

    response = client.post(reverse("crm:customer_release", args=[customer.pk]))

    # unowned in a pool of their team: still visible (read-only), so back to the customer page
    assert response.status_code == 302 and response["Location"] == customer.get_absolute_url()
