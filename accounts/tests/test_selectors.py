"""Reads for the settings area, and the access explainer: its verdict must be the access layer's."""
import datetime

import pytest
from django.utils import timezone, translation

from accounts import selectors, services
from accounts.access import editable, visible
from accounts.access_check import records_matching
from accounts.capabilities import Scope
from accounts.models import Share
from accounts.tests.factories import RoleFactory, UserFactory
from crm.models import Customer

pytestmark = pytest.mark.dates


@pytest.fixture
def shares(book, teams, director, rep_east, rep_west):
    """A read-only share to a user, an editable share to a team above 上海分公司, and an expired one."""
    read_only = services.share_create(obj=book["c_bj"], by=director, user=rep_east)
    to_team = services.share_create(obj=book["c_hq"], by=director, team=teams["east"], can_edit_record=True)
    expired = services.share_create(obj=book["c_sh"], by=director, user=rep_west, can_edit_record=True,
                                    expires_at=timezone.now() + datetime.timedelta(days=1))
    Share.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - datetime.timedelta(days=1))
    return {"read_only": read_only, "to_team": to_team, "expired": expired}


@pytest.fixture
def pooled(book, teams, director, rep_east, rep_hz):
    """Customers waiting in pools: 华东公海 (open to 华东区 and its sub-teams) and 华北公海 (华北区), one of
    them with a team of its own, one shared read-only with a rep outside its pool, and one claimed from a
    pool (owned again: the pool no longer decides)."""
    from crm.models import Pool
    from crm.tests.factories import CustomerFactory

    east, north = Pool.objects.create(name="华东公海"), Pool.objects.create(name="华北公海")
    east.teams.add(teams["east"])
    north.teams.add(teams["north"])
    customers = {
        "pool_east": CustomerFactory(name="华东公海客户", pool=east),
        "pool_east_sh": CustomerFactory(name="华东公海上海客户", pool=east, team=teams["shanghai"]),
        "pool_north": CustomerFactory(name="华北公海客户", pool=north),
        "claimed": CustomerFactory(name="已领取客户", pool=east, owner=rep_hz),
    }
    services.share_create(obj=customers["pool_north"], by=director, user=rep_east)
    return customers


@pytest.fixture
def odd_people(teams, roles, rep_east):
    """People at the edges: no role, deactivated, superuser, scopes without a team, subordinates."""
    return {
        "no_role": UserFactory(username="no_role", team=teams["shanghai"]),
        "inactive": UserFactory(username="gone", team=teams["shanghai"], roles=[roles["销售代表"]], is_active=False),
        "superuser": UserFactory(username="root", is_superuser=True),
        "teamless": UserFactory(username="teamless", roles=[roles["区域经理"]]),
        "boss": UserFactory(username="boss", team=teams["hq"],
                            roles=[RoleFactory(customers_scope=Scope.OWN_AND_SUBORDINATES)]),
        "mixed": UserFactory(username="mixed", team=teams["hangzhou"],
                             roles=[roles["市场专员"], RoleFactory(customers_scope=Scope.NONE)]),
    }


PERSONAS = ["admin", "director", "it_importer", "manager_east", "manager_west", "rep_east", "rep_east2",
            "rep_hz", "rep_west"]


def fresh(user):
    """The user as a new request would load them (no cached access)."""
    return type(user).objects.get(pk=user.pk)


def people(request, odd_people):
    found = {name: request.getfixturevalue(name) for name in PERSONAS}
    boss = odd_people["boss"]
    type(boss).objects.filter(username="manager_west").update(manager=boss)  # boss ← manager_west ← rep_west
    return {**found, **odd_people}


def test_it_agrees_with_visible_and_editable_for_everyone(request, book, shares, pooled, odd_people):
    """Every persona × every customer: owned, in a pool, claimed from one, shared (read-only, editable,
    expired, with a team above)."""
    customers = {**book, **pooled}
    seen = set()
    for name, person in people(request, odd_people).items():
        person = fresh(person)
        sees = set(visible(fresh(person), Customer).values_list("pk", flat=True))
        edits = set(editable(fresh(person), Customer).values_list("pk", flat=True))
        for key, customer in customers.items():
            answer = selectors.access_explain(user=person, obj=customer)
            expected = (customer.pk in sees, customer.pk in edits)
            assert (answer.can_see, answer.can_edit) == expected, (name, key, answer.reasons, answer.checked)
            assert bool(answer.reasons) == expected[0]
            seen.add(expected)
    assert seen == {(True, True), (True, False), (False, False)}  # the grid holds every kind of answer


def test_it_says_a_rep_sees_a_pool_customer_of_his_region(book, pooled, rep_east):
    """The 访问说明 once said rep_sh could not see a 华东公海 customer he opens."""
    with translation.override("en"):
        answer = selectors.access_explain(user=fresh(rep_east), obj=pooled["pool_east"])
    assert (answer.can_see, answer.can_edit) == (True, False)
    [reason] = answer.reasons
    assert reason.source == "pool" and (reason.grants_view, reason.grants_edit) == (True, False)
    assert reason.text == ("It waits in the pool 华东公海, open to team 华东区, which includes the user's team "
                           "上海分公司: its members see it (read-only) and may claim it.")


def test_it_says_a_pool_is_not_open_to_another_region(book, pooled, rep_west):
    with translation.override("en"):
        answer = selectors.access_explain(user=fresh(rep_west), obj=pooled["pool_east"])
    assert not answer.can_see
    assert ("It waits in the pool 华东公海, which is not open to the user's team 北京分公司 or a team above it."
            in [r.text for r in answer.checked])


def test_it_explains_a_contact_by_its_customer(book, pooled, rep_east, rep_west):
    from crm.tests.factories import ContactFactory

    contact = ContactFactory(customer=pooled["pool_east"])
    mine = selectors.access_explain(user=fresh(rep_east), obj=contact)
    theirs = selectors.access_explain(user=fresh(rep_west), obj=contact)
    assert mine.decided_by == pooled["pool_east"]
    assert (mine.can_see, mine.can_edit, theirs.can_see) == (True, False, False)


def test_it_says_a_claimed_customer_is_no_longer_decided_by_its_pool(book, pooled, rep_west):
    answer = selectors.access_explain(user=fresh(rep_west), obj=pooled["claimed"])
    assert not answer.can_see and "pool" not in {r.source for r in answer.checked}


def test_it_names_the_role_and_scope_that_grants(book, rep_east):
    with translation.override("en"):
        answer = selectors.access_explain(user=fresh(rep_east), obj=book["c_sh2"])
    assert (answer.can_see, answer.can_edit) == (True, True)
    [reason] = answer.reasons
    assert (reason.source, reason.role.name, reason.scope) == ("role", "销售代表", Scope.TEAM)
    assert reason.text == ("Role 销售代表 grants “Own team” on Customers: "
                           "the customer's team 上海分公司 is the user's team.")


def test_it_names_ownership_and_subordinates(book, odd_people, rep_east, manager_west, rep_west):
    type(manager_west).objects.filter(pk=manager_west.pk).update(manager=odd_people["boss"])
    with translation.override("en"):
        own = selectors.access_explain(user=fresh(rep_east), obj=book["c_sh"])
        below = selectors.access_explain(user=fresh(odd_people["boss"]), obj=book["c_bj"])
    assert "the user owns this customer" in own.reasons[0].text
    assert f"its owner {rep_west.name} reports to the user" in below.reasons[0].text


def test_it_names_a_read_only_share_and_who_made_it(book, shares, rep_east, director):
    with translation.override("en"):
        answer = selectors.access_explain(user=fresh(rep_east), obj=book["c_bj"])
    assert (answer.can_see, answer.can_edit) == (True, False)
    [reason] = answer.reasons
    assert reason.source == "share" and reason.share == shares["read_only"]
    assert (reason.grants_view, reason.grants_edit) == (True, False)
    assert reason.text == f"Shared with the user by {director.name} (read-only, no end date)."
    assert [r.role.name for r in answer.checked] == ["销售代表"]  # the role itself does not reach 北京


def test_it_names_a_team_share_reaching_a_sub_team(book, shares, rep_east):
    with translation.override("en"):
        answer = selectors.access_explain(user=fresh(rep_east), obj=book["c_hq"])
    [reason] = answer.reasons
    assert (answer.can_edit, reason.grants_edit) == (True, True)
    assert "Shared with team 华东区, which includes the user's team 上海分公司" in reason.text
    assert "may edit" in reason.text


def test_it_lists_an_expired_share_as_granting_nothing(book, shares, rep_west):
    with translation.override("en"):
        answer = selectors.access_explain(user=fresh(rep_west), obj=book["c_sh"])
    assert (answer.can_see, answer.can_edit, answer.reasons) == (False, False, [])
    expired = [r for r in answer.checked if r.source == "share"]
    assert expired[0].share == shares["expired"] and "It has expired." in expired[0].text
    role = [r for r in answer.checked if r.source == "role"][0]
    assert "the customer's team 上海分公司 is not the user's team 北京分公司" in role.text


def test_it_explains_superusers_deactivated_users_and_users_without_roles(book, odd_people):
    customer = book["c_sh"]
    superuser = selectors.access_explain(user=fresh(odd_people["superuser"]), obj=customer)
    assert [r.source for r in superuser.reasons] == ["superuser"] and superuser.can_edit
    gone = selectors.access_explain(user=fresh(odd_people["inactive"]), obj=customer)
    assert (gone.can_see, [r.source for r in gone.checked]) == (False, ["inactive"])
    nobody = selectors.access_explain(user=fresh(odd_people["no_role"]), obj=customer)
    assert (nobody.can_see, [r.source for r in nobody.checked]) == (False, ["no_role"])


def test_it_explains_team_scopes_of_a_user_without_a_team(book, odd_people):
    with translation.override("en"):
        answer = selectors.access_explain(user=fresh(odd_people["teamless"]), obj=book["c_sh"])
    assert not answer.can_see
    assert "the user has no team" in answer.checked[0].text


# Lists -----------------------------------------------------------------------------------------

def test_it_counts_members_and_sub_teams(teams, rep_east, rep_east2, manager_east):
    rows = {t.name: t for t in selectors.teams_tree()}
    assert (rows["上海分公司"].member_count, rows["上海分公司"].child_count) == (2, 0)
    assert (rows["华东区"].member_count, rows["华东区"].child_count) == (1, 2)
    assert [t.name for t in selectors.teams_tree()][0] == "总部"


def test_it_counts_role_holders(roles, rep_east, rep_west, admin):
    counts = {r.name: r.user_count for r in selectors.roles_with_counts()}
    assert counts["销售代表"] == 2 and counts["系统管理员"] == 1 and counts["市场专员"] == 0


def test_it_finds_customers_by_id_or_name(book, admin):
    """The access check's lookup of customers, which crm registers (accounts.access_check)."""
    assert records_matching("customer", str(book["c_hz"].pk), viewer=admin) == [book["c_hz"]]
    assert set(records_matching("customer", "上海客户", viewer=admin)) == {book["c_sh"], book["c_sh2"]}
    assert records_matching("customer", "  ", viewer=admin) == []
    assert records_matching("no_such_kind", "上海客户", viewer=admin) == []


def test_it_finds_only_customers_the_asker_may_see(book, admin):
    """A user manager whose own customer scope is one team cannot look up other teams' customers."""
    from accounts.capabilities import Capability

    narrow = RoleFactory(capabilities=[Capability.MANAGE_USERS], customers_scope=Scope.TEAM)
    admin.roles.set([narrow])
    asker = fresh(admin)
    assert records_matching("customer", str(book["c_bj"].pk), viewer=asker) == []
    assert records_matching("customer", "北京", viewer=asker) == []
