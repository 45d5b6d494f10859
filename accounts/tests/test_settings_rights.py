"""Nobody gives rights they do not hold: a user manager changes only users whose every right they hold
(a superuser only by a superuser), grants and edits only roles within their own rights, and never widens
their own reach. The settings pages offer only that; a forged POST gets 403 and changes nothing."""
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from accounts import selectors, services
from accounts.access import may_manage, scope_within
from accounts.capabilities import Capability, Scope
from accounts.models import Role, Team, User
from accounts.tests.factories import RoleFactory, UserFactory


@pytest.fixture
def hr_role(db):
    """A user manager of the customer and sales side of one team: what a 销售代表 holds, and no more."""
    return RoleFactory(name="人事专员", capabilities=[Capability.MANAGE_USERS],
                       customers_scope=Scope.TEAM, sales_scope=Scope.TEAM)


@pytest.fixture
def hr(teams, hr_role):
    return UserFactory(username="hr", team=teams["shanghai"], roles=[hr_role])


@pytest.fixture
def superuser(teams):
    return UserFactory(username="root", team=teams["hq"], is_superuser=True)


def fresh(user):
    return User.objects.get(pk=user.pk)


def user_form(user, **changes):
    data = {
        "display_name": user.display_name, "mobile": user.mobile or "", "email": user.email,
        "team": user.team_id or "", "manager": user.manager_id or "",
        "roles": [r.pk for r in user.roles.all()], "preferred_language": user.preferred_language,
        "time_zone": user.time_zone, "is_active": "on" if user.is_active else "",
    }
    data.update(changes)
    return data


def role_form(role, **changes):
    data = {
        "name": role.name, "description": role.description, "capabilities": list(role.capabilities),
        "customers_scope": role.customers_scope, "sales_scope": role.sales_scope,
        "service_scope": role.service_scope, "marketing_scope": role.marketing_scope,
        "landing_page": role.landing_page, "priority": role.priority,
    }
    data.update(changes)
    return data


def account(user):
    """What an account change would touch: the row and its roles."""
    row = User.objects.filter(pk=user.pk).values(
        "display_name", "team_id", "manager_id", "is_active", "password", "must_change_password").get()
    return row, sorted(User.objects.get(pk=user.pk).roles.values_list("pk", flat=True))


# The rule -----------------------------------------------------------------------------------------

def test_it_orders_scopes_by_what_they_reach():
    assert scope_within(Scope.TEAM, Scope.TEAM_AND_SUBTEAMS) and scope_within(Scope.OWN, Scope.TEAM)
    assert not scope_within(Scope.TEAM_AND_SUBTEAMS, Scope.TEAM)
    # subordinates may sit in other teams: only "all" reaches all of them
    assert not scope_within(Scope.OWN_AND_SUBORDINATES, Scope.TEAM_AND_SUBTEAMS)
    assert scope_within(Scope.OWN_AND_SUBORDINATES, Scope.ALL) and scope_within(Scope.NONE, Scope.OWN)


@pytest.mark.parametrize("actor, target, allowed", [
    ("hr", "rep_east", True),          # 销售代表 holds nothing hr lacks
    ("hr", "hr", True),                # oneself
    ("hr", "manager_east", False),     # dashboards, exports, wider scopes
    ("hr", "admin", False),
    ("hr", "superuser", False),
    ("admin", "director", True),
    ("admin", "superuser", False),     # a superuser only by a superuser
    ("superuser", "admin", True),
    ("director", "rep_east", True),    # holds every right of the rep (whether the page lets them in is
                                       # MANAGE_USERS: see below)
    ("manager_east", "director", False),
])
def test_it_lets_only_someone_holding_every_right_manage_a_user(person, actor, target, allowed, hr, superuser):
    assert may_manage(fresh(person(actor)), fresh(person(target))) is allowed


def test_it_judges_a_deactivated_user_by_the_rights_they_would_get_back(hr, admin):
    User.objects.filter(pk=admin.pk).update(is_active=False)
    assert not may_manage(fresh(hr), fresh(admin))
    with pytest.raises(PermissionDenied):
        services.user_update(user=fresh(admin), by=fresh(hr), is_active=True)
    assert not fresh(admin).is_active


def test_it_offers_only_the_roles_within_the_users_rights(hr, admin, roles, hr_role):
    assert set(selectors.roles_grantable_by(fresh(hr))) == {roles["销售代表"], hr_role}
    assert set(selectors.roles_grantable_by(fresh(admin))) == set(Role.objects.all())


# The services -------------------------------------------------------------------------------------

@pytest.mark.parametrize("change", ["reset", "deactivate", "rename"])
@pytest.mark.parametrize("actor, target", [("hr", "superuser"), ("admin", "superuser"), ("hr", "admin"),
                                           ("hr", "manager_east")])
def test_it_refuses_changing_a_user_who_holds_more(person, hr, superuser, actor, target, change):
    by, user = fresh(person(actor)), fresh(person(target))
    before = account(user)
    with pytest.raises(PermissionDenied):
        if change == "reset":
            services.user_reset_password(user=user, password="Temp-pass-4711", by=by)
        elif change == "deactivate":
            services.user_update(user=user, by=by, is_active=False)
        else:
            services.user_update(user=user, by=by, display_name="改名")
    assert account(user) == before


def test_it_refuses_every_user_write_without_manage_users(director, rep_east, roles):
    """The director holds every right of a rep, but not MANAGE_USERS: the services need it too."""
    with pytest.raises(PermissionDenied):
        services.user_update(user=fresh(rep_east), by=fresh(director), display_name="改名")
    with pytest.raises(PermissionDenied):
        services.user_reset_password(user=fresh(rep_east), password="Temp-pass-4711", by=fresh(director))
    with pytest.raises(PermissionDenied):
        services.role_save(by=fresh(director), name="新角色")
    with pytest.raises(PermissionDenied):
        services.team_create(by=fresh(director), name="新团队")
    assert not Role.objects.filter(name="新角色").exists() and not Team.objects.filter(name="新团队").exists()


def test_it_lets_a_superuser_reset_anyone_and_an_admin_an_equal(superuser, admin, teams, roles):
    other_admin = UserFactory(username="admin2", team=teams["hq"], roles=[roles["系统管理员"]])
    services.user_reset_password(user=fresh(admin), password="Temp-pass-4711", by=fresh(superuser))
    services.user_reset_password(user=fresh(other_admin), password="Temp-pass-4712", by=fresh(admin))
    assert fresh(admin).check_password("Temp-pass-4711") and fresh(other_admin).check_password("Temp-pass-4712")


@pytest.mark.parametrize("target", ["rep_east", "hr"])  # another user, or oneself
def test_it_refuses_granting_a_role_beyond_the_granters_rights(person, hr, roles, target):
    user = fresh(person(target))
    before = account(user)
    for name in ("区域经理", "系统管理员", "客服专员"):  # capabilities, wider scopes, a module hr has no scope in
        with pytest.raises(PermissionDenied):
            services.user_update(user=user, by=fresh(hr), roles=[*user.roles.all(), roles[name]])
    assert account(user) == before


def test_it_refuses_creating_a_user_with_a_role_beyond_the_creators_rights(hr, roles, teams):
    with pytest.raises(PermissionDenied):
        services.user_create(by=fresh(hr), username="new_boss", password="Temp-pass-4711",
                             team=teams["shanghai"], roles=[roles["区域经理"]])
    assert not User.objects.filter(username="new_boss").exists()
    made = services.user_create(by=fresh(hr), username="new_rep", password="Temp-pass-4711",
                                team=teams["shanghai"], roles=[roles["销售代表"]])
    assert list(made.roles.all()) == [roles["销售代表"]]


@pytest.mark.parametrize("changes", [
    {"capabilities": [Capability.MANAGE_USERS, Capability.EXPORT_DATA]},
    {"customers_scope": Scope.ALL},
    {"sales_scope": Scope.OWN_AND_SUBORDINATES},  # not within "own team"
    {"service_scope": Scope.OWN},
])
def test_it_refuses_a_role_beyond_the_editors_rights(hr, hr_role, roles, changes):
    """Not for a new role, nor for a role the editor holds (which would raise their own rights)."""
    with pytest.raises(PermissionDenied):
        services.role_save(by=fresh(hr), **role_form(RoleFactory.build(name="新角色"), **changes))
    before = Role.objects.filter(pk=hr_role.pk).values().get()
    with pytest.raises(PermissionDenied):
        services.role_save(by=fresh(hr), role=Role.objects.get(pk=hr_role.pk), **role_form(hr_role, **changes))
    assert not Role.objects.filter(name="新角色").exists()
    assert Role.objects.filter(pk=hr_role.pk).values().get() == before
    assert set(fresh(hr).roles.all()) == {hr_role}


def test_it_refuses_changing_or_deleting_a_role_that_holds_more(hr, roles):
    manager_role = roles["区域经理"]
    before = Role.objects.filter(pk=manager_role.pk).values().get()
    with pytest.raises(PermissionDenied):  # even to narrow it
        services.role_save(by=fresh(hr), role=Role.objects.get(pk=manager_role.pk),
                           **role_form(manager_role, capabilities=[], customers_scope=Scope.OWN))
    with pytest.raises(PermissionDenied):
        services.role_delete(by=fresh(hr), role=roles["市场专员"])
    assert Role.objects.filter(pk=manager_role.pk).values().get() == before
    assert Role.objects.filter(pk=roles["市场专员"].pk).exists()


def test_it_refuses_moving_oneself_to_another_team_when_the_team_decides_what_one_sees(hr, teams, admin):
    with pytest.raises(ValidationError) as refused:
        services.user_update(user=fresh(hr), by=fresh(hr), team=teams["hq"])
    assert "team" in refused.value.error_dict
    assert fresh(hr).team == teams["shanghai"]
    services.user_update(user=fresh(admin), by=fresh(admin), team=teams["east"])  # sees all anyway
    assert fresh(admin).team == teams["east"]


def test_it_refuses_placing_someone_below_oneself_when_subordinates_decide_what_one_sees(teams, hr_role,
                                                                                          rep_west):
    boss = UserFactory(username="boss", team=teams["hq"], roles=[hr_role, RoleFactory(
        customers_scope=Scope.OWN_AND_SUBORDINATES, sales_scope=Scope.OWN_AND_SUBORDINATES)])
    with pytest.raises(ValidationError) as refused:
        services.user_update(user=fresh(rep_west), by=fresh(boss), manager=boss)
    assert "manager" in refused.value.error_dict
    assert fresh(rep_west).manager.username == "manager_west"


def test_it_refuses_moving_a_team_under_ones_own_team_and_sub_teams(teams, roles):
    regional = UserFactory(username="regional_hr", team=teams["east"], roles=[RoleFactory(
        capabilities=[Capability.MANAGE_USERS], customers_scope=Scope.TEAM_AND_SUBTEAMS)])
    with pytest.raises(ValidationError):
        services.team_update(team=teams["beijing"], by=fresh(regional), name="北京分公司", parent=teams["east"],
                             lead=None)
    assert Team.objects.get(pk=teams["beijing"].pk).parent == teams["north"]


# The pages ----------------------------------------------------------------------------------------

USER_ROUTES = ["user_edit", "user_password", "user_deactivate",
               "user_reactivate"]


@pytest.mark.parametrize("name", USER_ROUTES)
@pytest.mark.parametrize("actor, target", [("hr", "superuser"), ("hr", "admin"), ("admin", "superuser")])
def test_it_answers_403_for_a_user_above_and_changes_nothing(client_for, person, hr, superuser, actor, target,
                                                             name):
    user = person(target)
    before = account(user)
    client = client_for(person(actor))
    url = reverse(f"settings:accounts:{name}", args=[user.pk])
    assert client.get(url).status_code in (403, 405)
    data = {**user_form(user, display_name="改名", is_active=""), "password1": "Temp-pass-4711",
            "password2": "Temp-pass-4711"}
    assert client.post(url, data).status_code == 403
    assert account(user) == before


def test_it_lets_a_user_manager_manage_users_within_their_rights(client_for, hr, rep_east):
    client = client_for(hr)
    response = client.post(reverse("settings:accounts:user_password", args=[rep_east.pk]),
                           {"password1": "Temp-pass-4711", "password2": "Temp-pass-4711"})
    assert response.status_code == 302 and fresh(rep_east).check_password("Temp-pass-4711")
    client.post(reverse("settings:accounts:user_deactivate", args=[rep_east.pk]))
    assert not fresh(rep_east).is_active


def test_it_links_only_the_users_one_may_change(client_for, hr, admin, superuser, rep_east):
    response = client_for(hr).get(reverse("settings:accounts:users"))
    content = response.content.decode()
    assert reverse("settings:accounts:user_edit", args=[rep_east.pk]) in content
    for above in (admin, superuser):
        assert reverse("settings:accounts:user_edit", args=[above.pk]) not in content
    assert content.count('data-testid="user-above"') == 4  # admin, root, manager_east, director
    assert {p.username: p.manageable for p in response.context["page"]} == {
        "admin": False, "hr": True, "rep_east": True, "root": False,
        "manager_east": False, "director": False}


def test_it_offers_only_grantable_roles_on_the_user_forms(client_for, hr, hr_role, rep_east, roles):
    client = client_for(hr)
    for url in (reverse("settings:accounts:user_create"), reverse("settings:accounts:user_edit", args=[rep_east.pk])):
        content = client.get(url).content.decode()
        offered = {int(pk) for pk in re.findall(r'name="roles" value="(\d+)"', content)}
        assert offered == {roles["销售代表"].pk, hr_role.pk}, url


@pytest.mark.parametrize("target", ["rep_east", "hr"])
def test_it_answers_403_to_a_forged_grant_and_changes_nothing(client_for, person, hr, roles, target):
    user = person(target)
    before = account(user)
    response = client_for(hr).post(reverse("settings:accounts:user_edit", args=[user.pk]),
                                   user_form(user, roles=[roles["系统管理员"].pk]))
    assert response.status_code == 403
    assert account(user) == before


def test_it_answers_403_to_a_forged_new_user_with_a_role_beyond(client_for, hr, roles, teams):
    response = client_for(hr).post(reverse("settings:accounts:user_create"), {
        "username": "mole", "display_name": "鼹鼠", "preferred_language": "zh-hans", "time_zone": "Asia/Shanghai",
        "team": teams["shanghai"].pk, "roles": [roles["销售总监"].pk],
        "password1": "Temp-pass-4711", "password2": "Temp-pass-4711"})
    assert response.status_code == 403
    assert not User.objects.filter(username="mole").exists()


def test_it_shows_a_self_move_refusal_on_the_team_field(client_for, hr, teams):
    response = client_for(hr).post(reverse("settings:accounts:user_edit", args=[hr.pk]),
                                   user_form(hr, team=teams["hq"].pk))
    assert response.status_code == 200 and response.context["form"].errors["team"]
    assert fresh(hr).team == teams["shanghai"]


def test_it_offers_only_held_capabilities_and_scopes_on_the_role_form(client_for, hr):
    content = client_for(hr).get(reverse("settings:accounts:role_create")).content.decode()
    assert re.findall(r'name="capabilities" value="([^"]+)"', content) == [Capability.MANAGE_USERS]
    customers = re.search(r'<select name="customers_scope".*?</select>', content, re.S).group(0)
    assert sorted(int(v) for v in re.findall(r'value="(\d+)"', customers)) == [
        Scope.NONE, Scope.OWN, Scope.TEAM]
    service = re.search(r'<select name="service_scope".*?</select>', content, re.S).group(0)
    assert re.findall(r'value="(\d+)"', service) == [str(Scope.NONE)]


def test_it_shows_edit_buttons_only_on_roles_within_ones_rights(client_for, hr, hr_role, roles):
    response = client_for(hr).get(reverse("settings:accounts:roles"))
    editable = {row["role"].name for row in response.context["rows"] if row["manageable"]}
    assert editable == {"销售代表", hr_role.name}
    content = response.content.decode()
    assert reverse("settings:accounts:role_edit", args=[roles["销售代表"].pk]) in content
    assert reverse("settings:accounts:role_edit", args=[roles["区域经理"].pk]) not in content


@pytest.mark.parametrize("name", ["role_edit", "role_delete"])
def test_it_answers_403_for_a_role_beyond_and_changes_nothing(client_for, hr, roles, name):
    role = roles["市场专员"]
    before = Role.objects.filter(pk=role.pk).values().get()
    client = client_for(hr)
    url = reverse(f"settings:accounts:{name}", args=[role.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, role_form(role, capabilities=[], marketing_scope=Scope.OWN)).status_code == 403
    assert Role.objects.filter(pk=role.pk).values().get() == before


@pytest.mark.parametrize("changes", [
    {"capabilities": [Capability.MANAGE_USERS, Capability.IMPORT_DATA]},
    {"customers_scope": Scope.ALL},
])
def test_it_answers_403_to_a_forged_role_beyond_and_saves_nothing(client_for, hr, hr_role, changes):
    client = client_for(hr)
    new = client.post(reverse("settings:accounts:role_create"), role_form(RoleFactory.build(name="越权角色"), **changes))
    assert new.status_code == 403 and not Role.objects.filter(name="越权角色").exists()
    before = Role.objects.filter(pk=hr_role.pk).values().get()
    own = client.post(reverse("settings:accounts:role_edit", args=[hr_role.pk]), role_form(hr_role, **changes))
    assert own.status_code == 403
    assert Role.objects.filter(pk=hr_role.pk).values().get() == before

