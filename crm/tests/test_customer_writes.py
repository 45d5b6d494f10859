"""Writes checked like reads (STYLE.md habit 13): a customer's owner and team change only through the
assignment (the assign capability, to an assignable user; the team follows the owner), its lock only
by a holder of the lock capability, its deal status only by the deals; giving a customer up (release)
only by its owner chain or a manager within whose scope it is. Each rule at the service and through
the pages, for a rep holding an editable share above all."""
import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.services import share_create
from crm import services
from crm.models import Customer, DealStatus, Pool
from crm.services.customers import customer_deal_won

pytestmark = pytest.mark.django_db


def snapshot(customer):
    fresh = Customer.objects.get(pk=customer.pk)
    return (fresh.owner_id, fresh.team_id, fresh.locked, fresh.deal_status, fresh.deal_date, fresh.pool_id)


@pytest.fixture
def lent(book, rep_hz):
    """上海客户甲 (rep_east's), shared with 杭州's rep_hz, who may edit it until tomorrow."""
    share_create(obj=book["c_sh"], by=book["c_sh"].owner, user=rep_hz, can_edit_record=True,
                 expires_at=timezone.now() + datetime.timedelta(days=1))
    return book["c_sh"]


@pytest.fixture
def pool(teams):
    east_pool = Pool.objects.create(name="华东公海", is_default=True)
    east_pool.teams.set([teams["east"]])
    return east_pool


# Creating ---------------------------------------------------------------------------------------

def test_it_creates_a_reps_customer_as_their_own_in_their_team(rep_east):
    customer = services.customer_create(by=rep_east, name="自己的客户")

    assert (customer.owner, customer.team) == (rep_east, rep_east.team)


@pytest.mark.parametrize("extra", ["owner", "team", "locked", "deal_status"])
def test_it_refuses_a_rep_creating_a_customer_for_another_branch_or_locked_or_won(rep_east, rep_west, teams, extra):
    choices = {"owner": {"owner": rep_west}, "team": {"team": teams["beijing"]}, "locked": {"locked": True},
               "deal_status": {"deal_status": DealStatus.WON}}

    with pytest.raises(PermissionDenied):
        services.customer_create(by=rep_east, name="越权客户", **choices[extra])
    assert not Customer.objects.filter(name="越权客户").exists()


def test_it_lets_a_manager_create_for_someone_they_may_assign_to_in_that_persons_team(manager_east, rep_hz,
                                                                                       rep_west):
    customer = services.customer_create(by=manager_east, name="杭州新客户", owner=rep_hz, locked=True)

    assert (customer.owner, customer.team, customer.locked) == (rep_hz, rep_hz.team, True)
    with pytest.raises(PermissionDenied):
        services.customer_create(by=manager_east, name="北京新客户", owner=rep_west)


def test_only_a_manager_puts_a_new_customer_straight_into_a_pool_they_may_open(rep_east, manager_east, pool, teams):
    with pytest.raises(PermissionDenied):
        services.customer_create(by=rep_east, name="直接进公海", pool=pool, owner=None)
    with pytest.raises(PermissionDenied):  # a team outside their scope
        services.customer_create(by=manager_east, name="直接进公海", pool=pool, team=teams["beijing"])

    customer = services.customer_create(by=manager_east, name="直接进公海", pool=pool, team=teams["hangzhou"])
    assert (customer.owner, customer.team, customer.pool) == (None, teams["hangzhou"], pool)


# Editing ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("change", ["owner", "team", "locked", "deal_status", "deal_date", "release"])
def test_a_rep_with_an_editable_share_cannot_take_over_lock_or_win_the_customer(lent, rep_hz, teams, change):
    changes = {"owner": {"owner": rep_hz}, "team": {"team": teams["hangzhou"]}, "locked": {"locked": True},
               "deal_status": {"deal_status": DealStatus.WON}, "deal_date": {"deal_date": datetime.date(2026, 1, 5)},
               "release": {"owner": None}}
    before = snapshot(lent)

    with pytest.raises(PermissionDenied):
        services.customer_update(customer=lent, by=rep_hz, notes="改了", **changes[change])
    assert snapshot(lent) == before
    assert Customer.objects.get(pk=lent.pk).notes == ""  # nothing else was written either


def test_a_rep_with_an_editable_share_still_edits_the_customers_details_and_may_send_them_unchanged(lent, rep_hz):
    customer = services.customer_update(customer=lent, by=rep_hz, name="改名", owner=lent.owner, team=lent.team,
                                        locked=False, deal_status=DealStatus.NONE)

    assert customer.name == "改名" and customer.owner == lent.owner


def test_a_manager_reassigns_through_the_assignment_and_the_team_follows(book, manager_east, rep_hz):
    customer = services.customer_update(customer=book["c_sh"], by=manager_east, owner=rep_hz, notes="交接")

    assert (customer.owner, customer.team, customer.notes) == (rep_hz, rep_hz.team, "交接")
    assert customer.claimed_at is not None


def test_a_manager_cannot_hand_a_customer_outside_their_scope_or_split_team_from_owner(book, manager_east, rep_west,
                                                                                     rep_east2, teams):
    before = snapshot(book["c_sh"])
    with pytest.raises(ValidationError):  # rep_west is not someone manager_east may assign to
        services.customer_update(customer=book["c_sh"], by=manager_east, owner=rep_west)
    with pytest.raises(PermissionDenied):
        services.customer_update(customer=book["c_sh"], by=manager_east, owner=rep_east2, team=teams["hangzhou"])
    assert snapshot(book["c_sh"]) == before


def test_a_manager_holding_an_editable_share_cannot_assign_what_is_outside_their_scope(book, manager_east, rep_east):
    share_create(obj=book["c_bj"], by=book["c_bj"].owner, user=manager_east, can_edit_record=True)
    before = snapshot(book["c_bj"])

    with pytest.raises(PermissionDenied):
        services.pool_assign(ids=[book["c_bj"].pk], owner=rep_east, by=manager_east)
    with pytest.raises(PermissionDenied):
        services.customer_update(customer=book["c_bj"], by=manager_east, owner=rep_east)
    with pytest.raises(PermissionDenied):
        services.customer_update(customer=book["c_bj"], by=manager_east, locked=True)
    assert snapshot(book["c_bj"]) == before


def test_locking_is_a_managers_capability(book, rep_east, manager_east):
    with pytest.raises(PermissionDenied):
        services.customer_update(customer=book["c_sh"], by=rep_east, locked=True)

    assert services.customer_update(customer=book["c_sh"], by=manager_east, locked=True).locked
    assert not services.customer_update(customer=book["c_sh"], by=manager_east, locked=False).locked


def test_the_deal_status_follows_the_deals_only(book, director):
    with pytest.raises(PermissionDenied):  # not even for the 销售总监
        services.customer_update(customer=book["c_sh"], by=director, deal_status=DealStatus.WON)

    customer_deal_won(customer_id=book["c_sh"].pk, on=datetime.date(2026, 3, 1))
    assert Customer.objects.get(pk=book["c_sh"].pk).deal_status == DealStatus.WON


# Releasing --------------------------------------------------------------------------------------

def test_only_the_owner_chain_or_a_manager_within_scope_gives_a_customer_up(book, lent, rep_hz, rep_east2,
                                                                           rep_east, manager_east, pool):
    for nobody in (rep_hz, rep_east2):  # an editable share; a teammate who may edit it
        with pytest.raises(PermissionDenied):
            services.pool_release(ids=[lent.pk], by=nobody)
    assert Customer.objects.get(pk=lent.pk).owner == rep_east

    assert services.pool_release(ids=[lent.pk], by=rep_east) == 1
    assert services.pool_release(ids=[book["c_sh2"].pk], by=manager_east) == 1


# Through the pages ------------------------------------------------------------------------------

FORM = {"kind": "company", "tier": "B", "status": "prospect", "confirm_duplicate": "on"}


def test_a_reps_form_offers_neither_owner_team_lock_nor_deal_status(client_for, rep_east, book):
    for url in (reverse("crm:customer_create"), reverse("crm:customer_edit", args=[book["c_sh"].pk])):
        form = client_for(rep_east).get(url).context["form"]
        assert not {"owner", "team", "locked", "deal_status", "deal_date", "deal_amount"} & set(form.fields), url


def test_a_managers_form_offers_the_people_they_may_assign_to_and_the_lock(client_for, manager_east, rep_hz,
                                                                             rep_west, book):
    form = client_for(manager_east).get(reverse("crm:customer_edit", args=[book["c_sh"].pk])).context["form"]

    owners = set(form.fields["owner"].queryset)
    assert rep_hz in owners and rep_west not in owners
    assert "locked" in form.fields and "team" not in form.fields and "deal_status" not in form.fields


def test_a_rep_posting_owner_team_lock_and_deal_status_on_create_gets_them_ignored(client_for, rep_east, rep_west,
                                                                                  teams):
    response = client_for(rep_east).post(reverse("crm:customer_create"), {
        **FORM, "name": "北京越权客户", "owner": rep_west.pk, "team": teams["beijing"].pk, "locked": "on",
        "deal_status": "won", "deal_date": "2026-01-05", "deal_amount": "99999"})

    customer = Customer.objects.get(name="北京越权客户")
    assert response.status_code == 302
    assert (customer.owner, customer.team, customer.locked) == (rep_east, rep_east.team, False)
    assert (customer.deal_status, customer.deal_date, customer.deal_amount) == (DealStatus.NONE, None, None)


def test_a_share_holder_posting_owner_team_lock_and_deal_status_changes_only_the_details(client_for, lent, rep_hz,
                                                                                        teams):
    before = snapshot(lent)
    response = client_for(rep_hz).post(reverse("crm:customer_edit", args=[lent.pk]), {
        **FORM, "name": "杭州接手", "version": lent.version, "owner": rep_hz.pk, "team": teams["hangzhou"].pk,
        "locked": "on", "deal_status": "won", "deal_date": "2026-01-05"})

    assert response.status_code == 302
    assert Customer.objects.get(pk=lent.pk).name == "杭州接手"
    assert snapshot(lent) == before


def test_a_manager_reassigns_from_the_edit_form_and_cannot_pick_someone_outside(client_for, manager_east, rep_hz,
                                                                                rep_west, book):
    client = client_for(manager_east)
    url = reverse("crm:customer_edit", args=[book["c_sh"].pk])
    refused = client.post(url, {**FORM, "name": book["c_sh"].name, "version": book["c_sh"].version,
                                "owner": rep_west.pk})
    assert refused.status_code == 200 and refused.context["form"].errors["owner"]
    assert Customer.objects.get(pk=book["c_sh"].pk).owner == book["c_sh"].owner

    response = client.post(url, {**FORM, "name": book["c_sh"].name, "version": book["c_sh"].version,
                                 "owner": rep_hz.pk, "locked": "on"})
    customer = Customer.objects.get(pk=book["c_sh"].pk)
    assert response.status_code == 302
    assert (customer.owner, customer.team, customer.locked) == (rep_hz, rep_hz.team, True)


def test_the_bulk_bar_refuses_assign_and_release_to_an_editable_shares_holder(client_for, lent, rep_hz, book,
                                                                             manager_west, rep_west, pool):
    share_create(obj=book["c_sh"], by=book["c_sh"].owner, user=manager_west, can_edit_record=True)
    before = snapshot(lent)
    bulk = reverse("crm:customer_bulk")

    client_for(rep_hz).post(bulk, {"action": "release", "ids": [lent.pk]})
    client_for(rep_hz).post(bulk, {"action": "assign", "ids": [lent.pk], "owner": rep_hz.pk})
    response = client_for(manager_west).post(bulk, {"action": "assign", "ids": [lent.pk], "owner": rep_west.pk},
                                             HTTP_HX_REQUEST="true")

    assert response.status_code == 403
    assert snapshot(lent) == before


def test_the_bulk_bar_offers_assign_only_with_the_capability_and_only_assignable_people(client_for, rep_east,
                                                                                        manager_east, rep_west):
    rep_form = client_for(rep_east).get(reverse("crm:customer_list")).context["bulk_form"]
    manager_form = client_for(manager_east).get(reverse("crm:customer_list")).context["bulk_form"]

    assert "assign" not in dict(rep_form.fields["action"].choices)
    assert "assign" in dict(manager_form.fields["action"].choices)
    assert rep_west not in set(manager_form.fields["owner"].queryset)

