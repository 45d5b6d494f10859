"""Claiming from the customer list: the 公海 tab has a 领取 button per customer and a bulk "claim"
action, and the list links to the pool pages (daily quota, bulk claim by pool)."""
import pytest
from django.urls import reverse

from crm.models import Customer, Pool
from crm.tests.factories import CustomerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.dates]

LIST = reverse("crm:customer_list")
BULK = reverse("crm:customer_bulk")


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


def owner_of(customer):
    return Customer.objects.get(pk=customer.pk).owner


def test_the_pool_tab_offers_claim_per_row_and_for_the_ticked(client_for, rep_east, east_pool):
    waiting = CustomerFactory(name="公海里的客户", pool=east_pool)
    page = client_for(rep_east).get(LIST, {"view": "pool"}).content.decode()
    assert "公海里的客户" in page
    assert f'formaction="{reverse("crm:customer_claim", args=[waiting.pk])}"' in page
    assert '<option value="claim" selected>从公海领取</option>' in page
    assert f'href="{reverse("crm:pool_list")}"' in page


def test_the_other_tabs_do_not_offer_the_claim_action(client_for, rep_east, east_pool):
    page = client_for(rep_east).get(LIST).content.decode()
    assert 'value="claim"' not in page


def test_a_rep_claims_several_ticked_customers_at_once(client_for, rep_east, east_pool):
    first, second = (CustomerFactory(pool=east_pool) for _ in range(2))
    response = client_for(rep_east).post(BULK, {"action": "claim", "ids": [first.pk, second.pk],
                                                "next": f"{LIST}?view=pool"})
    assert response.status_code == 302 and response["Location"] == f"{LIST}?view=pool"
    assert [owner_of(first), owner_of(second)] == [rep_east, rep_east]


def test_the_daily_quota_holds_for_the_bulk_claim(client_for, rep_east, east_pool):
    four = [CustomerFactory(pool=east_pool) for _ in range(4)]
    response = client_for(rep_east).post(BULK, {"action": "claim", "ids": [c.pk for c in four]}, follow=True)
    assert [owner_of(c) for c in four] == [None] * 4
    assert [str(m) for m in response.context["messages"]] == ["今日您还可从“华东公海”领取 3 个客户。"]


def test_a_customer_of_another_teams_pool_is_not_claimed_and_nothing_is(client_for, rep_east, east_pool, north_pool):
    mine = CustomerFactory(pool=east_pool)
    theirs = CustomerFactory(name="华北公海客户", pool=north_pool)
    response = client_for(rep_east).post(BULK, {"action": "claim", "ids": [mine.pk, theirs.pk]}, follow=True)
    assert [owner_of(mine), owner_of(theirs)] == [None, None]
    assert "华北公海客户" not in response.content.decode()
