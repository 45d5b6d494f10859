"""Who may share a customer, and how much (STYLE.md habit 13): only those who may pass it on (its owner
chain, or the assign capability with the customer within their scope), and nobody grants more, or
for longer, than they hold: no edit right from one who may only read, no end later than their own
share's, a team only within their scope. The recipient of an editable share can neither make it
permanent nor give it to the whole company. Service and pages."""
import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.capabilities import Scope
from accounts.models import Share
from accounts.services import share_create, share_revoke
from accounts.tests.factories import RoleFactory, UserFactory
from crm.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def tomorrow():
    return timezone.now() + datetime.timedelta(days=1)


@pytest.fixture
def lent(book, rep_hz):
    """上海客户甲 (rep_east's), shared with 杭州's rep_hz, who may edit it until tomorrow."""
    share_create(obj=book["c_sh"], by=book["c_sh"].owner, user=rep_hz, can_edit_record=True, expires_at=tomorrow())
    return book["c_sh"]


def shares_of(customer):
    return set(Share.objects.filter(object_id=customer.pk).values_list("user_id", "team_id", "can_edit",
                                                                       "expires_at"))


# The service ------------------------------------------------------------------------------------

@pytest.mark.parametrize("grant", [
    {"user": "rep_hz", "can_edit_record": True, "expires_at": None},  # their own share made permanent
    {"team": "hq", "can_edit_record": True},  # the whole company, with edit rights
    {"user": "rep_west"},  # even read-only, to anyone
])
def test_the_recipient_of_an_editable_share_cannot_pass_it_on(lent, rep_hz, rep_west, teams, grant):
    before = shares_of(lent)
    arguments = {key: {"rep_hz": rep_hz, "rep_west": rep_west, "hq": teams["hq"]}.get(value, value)
                 for key, value in grant.items()}

    with pytest.raises(PermissionDenied):
        share_create(obj=lent, by=rep_hz, **arguments)
    assert shares_of(lent) == before


def test_a_share_holder_cannot_withdraw_the_owners_shares(lent, rep_hz, rep_east):
    share = Share.objects.get(object_id=lent.pk, user=rep_hz)

    with pytest.raises(PermissionDenied):
        share_revoke(share=share, by=rep_hz)
    share_revoke(share=share, by=rep_east)
    assert not Share.objects.filter(pk=share.pk).exists()


def test_an_owner_shares_with_anyone_but_with_teams_only_within_their_scope(book, rep_east, rep_west, teams):
    share_create(obj=book["c_sh"], by=rep_east, user=rep_west, can_edit_record=True)
    share_create(obj=book["c_sh"], by=rep_east, team=teams["shanghai"])

    with pytest.raises(ValidationError) as refused:
        share_create(obj=book["c_sh"], by=rep_east, team=teams["hq"], can_edit_record=True)
    assert "team" in refused.value.message_dict
    assert not Share.objects.filter(object_id=book["c_sh"].pk, team=teams["hq"]).exists()


def test_a_manager_shares_what_is_in_their_scope_with_teams_in_their_scope(book, manager_east, teams):
    share_create(obj=book["c_hz"], by=manager_east, team=teams["east"], can_edit_record=True)

    with pytest.raises(ValidationError):
        share_create(obj=book["c_hz"], by=manager_east, team=teams["north"])
    with pytest.raises(PermissionDenied):  # 北京's customer is not in their scope
        share_create(obj=book["c_bj"], by=manager_east, user=manager_east)


def test_a_manager_holding_an_editable_share_outside_their_scope_cannot_pass_it_on(lent, manager_west, rep_west):
    share_create(obj=lent, by=lent.owner, user=manager_west, can_edit_record=True, expires_at=tomorrow())

    with pytest.raises(PermissionDenied):
        share_create(obj=lent, by=manager_west, user=rep_west, expires_at=tomorrow())


@pytest.fixture
def distant_boss(teams, book, rep_east):
    """A 北京 team lead who manages rep_east from afar (rep_east's owner chain) but whose role reaches
    only their own team: they see 上海客户甲 only through the share rep_east gives them."""
    boss = UserFactory(username="distant_boss", team=teams["beijing"],
                       roles=[RoleFactory(customers_scope=Scope.TEAM, sales_scope=Scope.TEAM)])
    type(rep_east).objects.filter(pk=rep_east.pk).update(manager=boss)
    return boss


def test_nobody_grants_more_or_for_longer_than_they_hold(book, rep_east, distant_boss, rep_west):
    customer, until = book["c_sh"], tomorrow()
    share_create(obj=customer, by=rep_east, user=distant_boss, expires_at=until)  # read-only, until tomorrow

    for too_much in ({"can_edit_record": True, "expires_at": until},
                     {"expires_at": None},
                     {"expires_at": until + datetime.timedelta(days=30)}):
        with pytest.raises(ValidationError):
            share_create(obj=customer, by=distant_boss, user=rep_west, **too_much)
    share = share_create(obj=customer, by=distant_boss, user=rep_west, expires_at=until)
    assert (share.can_edit, share.expires_at) == (False, until)


# The pages --------------------------------------------------------------------------------------

def test_a_share_holder_posting_a_permanent_share_to_themselves_gets_403(client_for, lent, rep_hz, teams):
    before = shares_of(lent)
    client = client_for(rep_hz)
    url = reverse("crm:customer_share", args=[lent.pk])

    assert client.post(url, {"user": rep_hz.pk, "can_edit": "on"}).status_code == 403
    assert client.post(url, {"team": teams["hq"].pk, "can_edit": "on"}, HTTP_HX_REQUEST="true").status_code == 403
    share = Share.objects.get(object_id=lent.pk, user=rep_hz)
    assert client.post(reverse("crm:customer_share_revoke", args=[lent.pk, share.pk])).status_code == 403
    assert shares_of(lent) == before


def test_someone_who_cannot_see_the_customer_gets_404(client_for, book, rep_west):
    url = reverse("crm:customer_share", args=[book["c_sh"].pk])

    assert client_for(rep_west).post(url, {"user": rep_west.pk}).status_code == 404


def test_the_page_offers_the_share_form_only_to_those_who_may_share(client_for, lent, rep_hz, rep_east):
    holder = client_for(rep_hz).get(lent.get_absolute_url())
    assert holder.status_code == 200 and not holder.context["can_share"]
    assert reverse("crm:customer_share", args=[lent.pk]) not in holder.content.decode()

    owner = client_for(rep_east).get(lent.get_absolute_url())
    assert owner.context["can_share"] and reverse("crm:customer_share", args=[lent.pk]) in owner.content.decode()


def test_the_team_select_lists_the_teams_within_the_sharers_scope(client_for, book, manager_east, teams):
    page = client_for(manager_east).get(book["c_hz"].get_absolute_url())
    offered = set(page.context["share_form"].fields["team"].queryset)

    assert offered == {teams["east"], teams["shanghai"], teams["hangzhou"]}
    body = page.content.decode()
    assert f'<option value="{teams["hangzhou"].pk}"' in body and f'<option value="{teams["hq"].pk}"' not in body


def test_an_owner_posting_a_team_outside_their_scope_is_told_why(client_for, book, rep_east, teams):
    response = client_for(rep_east).post(reverse("crm:customer_share", args=[book["c_sh"].pk]),
                                         {"team": teams["hq"].pk, "can_edit": "on"}, HTTP_HX_REQUEST="true")

    assert response.status_code == 422
    assert not Share.objects.filter(object_id=book["c_sh"].pk).exists()


def test_an_owner_may_still_share_with_a_colleague_elsewhere(client_for, rep_east, rep_west):
    customer = CustomerFactory(owner=rep_east)
    response = client_for(rep_east).post(reverse("crm:customer_share", args=[customer.pk]),
                                         {"user": rep_west.pk, "can_edit": "on"}, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert Share.objects.get(object_id=customer.pk).user == rep_west
