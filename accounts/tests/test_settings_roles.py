"""Settings › Roles: capabilities and one data scope per module, and who holds each role."""
from django.urls import reverse

from accounts.access import user_access
from accounts.capabilities import Capability, LandingPage, Scope
from accounts.models import Role, User
from accounts.tests.factories import RoleFactory

ROLES = reverse("settings:accounts:roles")
NEW_ROLE = reverse("settings:accounts:role_create")

ROLE = {
    "name": "大客户经理", "description": "跟进重点客户",
    "capabilities": [Capability.EXPORT_DATA, Capability.VIEW_DASHBOARDS],
    "customers_scope": Scope.TEAM_AND_SUBTEAMS, "sales_scope": Scope.TEAM, "service_scope": Scope.NONE,
    "marketing_scope": Scope.OWN, "landing_page": LandingPage.SALES, "priority": 25,
}


def test_it_lists_roles_with_scopes_capabilities_and_holders(client_for, admin, rep_east, rep_east2, roles):
    client = client_for(admin)
    client.cookies["django_language"] = "en"
    response = client.get(ROLES)
    rows = {row["role"].name: row for row in response.context["rows"]}
    assert rows["销售代表"]["role"].user_count == 2
    assert rows["市场专员"]["role"].user_count == 0
    assert ("Customers", "Own team") in rows["销售代表"]["scopes"]
    assert "Manage users, teams and roles" in rows["系统管理员"]["capabilities"]
    assert "Own team and sub-teams" in response.content.decode()


def test_it_lists_roles_in_few_queries(client_for, admin, django_assert_max_num_queries):
    RoleFactory.create_batch(20, capabilities=[Capability.EXPORT_DATA])
    client = client_for(admin)
    client.get(ROLES)
    with django_assert_max_num_queries(4):
        response = client.get(ROLES)
    assert len(response.context["rows"]) >= 27


def test_it_creates_a_role(client_for, admin):
    response = client_for(admin).post(NEW_ROLE, ROLE)
    assert response.status_code == 302
    role = Role.objects.get(name="大客户经理")
    assert role.capabilities == sorted([Capability.EXPORT_DATA, Capability.VIEW_DASHBOARDS])
    assert (role.customers_scope, role.sales_scope, role.marketing_scope) == (
        Scope.TEAM_AND_SUBTEAMS, Scope.TEAM, Scope.OWN)
    assert (role.landing_page, role.priority) == (LandingPage.SALES, 25)


def test_it_refuses_a_duplicate_role_name(client_for, admin, roles):
    response = client_for(admin).post(NEW_ROLE, {**ROLE, "name": "销售代表"})
    assert response.context["form"].errors["name"]
    assert Role.objects.filter(name="销售代表").count() == 1


def test_it_refuses_an_unknown_capability(client_for, admin):
    response = client_for(admin).post(NEW_ROLE, {**ROLE, "capabilities": ["everything:allowed"]})
    assert response.context["form"].errors["capabilities"]
    assert not Role.objects.filter(name="大客户经理").exists()


def test_it_edits_a_role_and_its_holders_gain_the_capability(client_for, admin, rep_east, roles):
    rep = roles["销售代表"]
    data = {**ROLE, "name": rep.name, "capabilities": [Capability.IMPORT_DATA]}
    response = client_for(admin).post(reverse("settings:accounts:role_edit", args=[rep.pk]), data)
    assert response.status_code == 302
    rep.refresh_from_db()
    assert (rep.capabilities, rep.customers_scope) == ([Capability.IMPORT_DATA], Scope.TEAM_AND_SUBTEAMS)
    assert user_access(User.objects.get(pk=rep_east.pk)).has(Capability.IMPORT_DATA)


def test_it_deletes_an_unused_role(client_for, admin, roles):
    unused = roles["市场专员"]
    response = client_for(admin).post(reverse("settings:accounts:role_delete", args=[unused.pk]))
    assert response.status_code == 302
    assert not Role.objects.filter(pk=unused.pk).exists()


def test_it_refuses_deleting_a_role_users_hold(client_for, admin, rep_east, roles):
    held = roles["销售代表"]
    response = client_for(admin).post(reverse("settings:accounts:role_delete", args=[held.pk]))
    assert response.status_code == 422
    assert response.context["error"]
    assert Role.objects.filter(pk=held.pk).exists()
    assert list(rep_east.roles.all()) == [held]
