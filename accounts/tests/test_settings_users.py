"""Settings › Users: the list with its filters, creating, editing, deactivating, and a temporary
password set by an admin."""
import re

import pytest
from django.urls import reverse

from accounts.access import visible
from accounts.models import User
from accounts.tests.factories import PASSWORD, UserFactory
from crm.models import Customer
from crm.tests.factories import CustomerFactory

USERS = reverse("settings:accounts:users")
NEW_USER = reverse("settings:accounts:user_create")


def edit_url(user):
    return reverse("settings:accounts:user_edit", args=[user.pk])


def listed(response):
    return {u.username for u in response.context["page"]}


def form_data(user, **changes):
    """The edit form as the page would post it back, with `changes`."""
    data = {
        "display_name": user.display_name, "mobile": user.mobile or "", "email": user.email,
        "team": user.team_id or "", "manager": user.manager_id or "",
        "roles": [r.pk for r in user.roles.all()], "preferred_language": user.preferred_language,
        "time_zone": user.time_zone, "is_active": "on" if user.is_active else "",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


# The list --------------------------------------------------------------------------------------

@pytest.fixture
def staff(admin, director, manager_east, manager_west, rep_east, rep_east2, rep_hz, rep_west):
    return {u.username: u for u in (admin, director, manager_east, manager_west, rep_east, rep_east2, rep_hz, rep_west)}


def test_it_lists_users_with_team_and_roles(client_for, admin, staff):
    response = client_for(admin).get(USERS)
    assert response.status_code == 200
    assert listed(response) == set(staff)
    assert "上海分公司" in response.content.decode()
    assert "销售代表" in response.content.decode()


@pytest.mark.parametrize("query, expected", [
    ({"team": "shanghai"}, {"rep_east", "rep_east2"}),
    ({"role": "区域经理"}, {"manager_east", "manager_west"}),
    ({"q": "rep_e"}, {"rep_east", "rep_east2"}),
    ({"q": "13800000001"}, {"rep_hz"}),
    ({"q": "杭州小王"}, {"rep_hz"}),
    ({"status": "inactive"}, {"rep_west"}),
    ({"status": "active", "team": "shanghai", "q": "east2"}, {"rep_east2"}),
    ({"status": "active", "team": "beijing"}, set()),
])
def test_it_filters_and_searches_users(client_for, admin, staff, teams, roles, query, expected):
    User.objects.filter(pk=staff["rep_hz"].pk).update(mobile="13800000001", display_name="杭州小王")
    User.objects.filter(pk=staff["rep_west"].pk).update(is_active=False)
    params = dict(query)
    if "team" in params:
        params["team"] = teams[params["team"]].pk
    if "role" in params:
        params["role"] = roles[params["role"]].pk
    assert listed(client_for(admin).get(USERS, params)) == expected


def test_it_answers_htmx_with_the_results_alone(client_for, admin, staff):
    response = client_for(admin).get(USERS, {"q": "rep_west"}, headers={"HX-Request": "true"})
    content = response.content.decode()
    assert content.lstrip().startswith('<div id="user-results">')
    assert "rep_west" in content and "<html" not in content


def test_it_paginates_and_keeps_the_filters(client_for, admin, teams, roles):
    for n in range(30):
        UserFactory(username=f"bulk{n:02}", team=teams["beijing"], roles=[roles["销售代表"]])
    client = client_for(admin)
    first = client.get(USERS, {"team": teams["beijing"].pk})
    assert len(first.context["page"]) == 25
    assert f"team={teams['beijing'].pk}&amp;page=2" in first.content.decode()
    second = client.get(USERS, {"team": teams["beijing"].pk, "page": 2})
    assert listed(second) == {f"bulk{n:02}" for n in range(25, 30)}


def test_it_lists_a_full_page_of_users_in_few_queries(client_for, admin, teams, roles, django_assert_max_num_queries):
    for n in range(30):
        manager = UserFactory(username=f"boss{n:02}", team=teams["east"])
        UserFactory(username=f"worker{n:02}", team=teams["shanghai"], manager=manager,
                    roles=[roles["销售代表"], roles["客服专员"]])
    client = client_for(admin)
    client.get(USERS)  # warm the session and content-type caches
    with django_assert_max_num_queries(8):
        response = client.get(USERS, {"status": "active"})
    assert len(response.context["page"]) == 25


# Creating --------------------------------------------------------------------------------------

NEW = {
    "username": "rep_sz", "display_name": "深圳小李", "mobile": "13900000009", "email": "sz@example.invalid",
    "preferred_language": "zh-hans", "time_zone": "Asia/Shanghai",
    "password1": "Temp-pass-4711", "password2": "Temp-pass-4711",
}


def test_it_creates_a_user_who_must_change_the_password(client_for, admin, teams, roles, manager_east):
    data = {**NEW, "team": teams["shanghai"].pk, "manager": manager_east.pk, "roles": [roles["销售代表"].pk]}
    response = client_for(admin).post(NEW_USER, data)
    user = User.objects.get(username="rep_sz")
    assert response.status_code == 302 and response.url == edit_url(user)
    assert (user.team, user.manager, user.mobile) == (teams["shanghai"], manager_east, "13900000009")
    assert list(user.roles.all()) == [roles["销售代表"]]
    assert user.check_password("Temp-pass-4711")
    assert user.must_change_password


def test_it_refuses_a_duplicate_username(client_for, admin, rep_east):
    response = client_for(admin).post(NEW_USER, {**NEW, "username": "rep_east", "mobile": ""})
    assert response.status_code == 200
    assert response.context["form"].errors["username"]
    assert User.objects.filter(username="rep_east").count() == 1
    assert not User.objects.filter(display_name="深圳小李").exists()


def test_it_refuses_a_weak_or_mismatched_temporary_password(client_for, admin):
    client = client_for(admin)
    weak = client.post(NEW_USER, {**NEW, "password1": "rep_sz", "password2": "rep_sz"})
    assert weak.context["form"].errors["password2"]
    mismatch = client.post(NEW_USER, {**NEW, "password2": "Other-pass-4711"})
    assert mismatch.context["form"].errors["password2"]
    assert not User.objects.filter(username="rep_sz").exists()


def test_it_refuses_a_mobile_number_already_in_use(client_for, admin, rep_east):
    User.objects.filter(pk=rep_east.pk).update(mobile="13900000009")
    response = client_for(admin).post(NEW_USER, NEW)
    assert response.context["form"].errors["mobile"]
    assert not User.objects.filter(username="rep_sz").exists()


# Editing ---------------------------------------------------------------------------------------

def test_it_renders_the_edit_form_with_role_checkboxes_and_the_team_tree(client_for, admin, rep_east, roles):
    content = client_for(admin).get(edit_url(rep_east)).content.decode()
    boxes = re.findall(r'<input type="checkbox"[^>]*name="roles"[^>]*>', content)
    assert len(boxes) == len(roles)
    assert [b for b in boxes if "checked" in b] == [b for b in boxes if f'value="{roles["销售代表"].pk}"' in b]
    assert "— — 上海分公司" in content


def test_it_edits_a_user(client_for, admin, rep_east, teams, roles, manager_west):
    data = form_data(rep_east, display_name="东东", team=teams["beijing"].pk, manager=manager_west.pk,
                     roles=[roles["销售代表"].pk, roles["客服专员"].pk], preferred_language="en", time_zone="Asia/Tokyo")
    response = client_for(admin).post(edit_url(rep_east), data)
    assert response.status_code == 302
    rep_east.refresh_from_db()
    assert (rep_east.display_name, rep_east.team, rep_east.manager) == ("东东", teams["beijing"], manager_west)
    assert (rep_east.preferred_language, rep_east.time_zone) == ("en", "Asia/Tokyo")
    assert set(rep_east.roles.all()) == {roles["销售代表"], roles["客服专员"]}


def test_it_does_not_offer_the_user_as_their_own_manager(client_for, admin, rep_east):
    response = client_for(admin).post(edit_url(rep_east), form_data(rep_east, manager=rep_east.pk))
    assert response.context["form"].errors["manager"]
    assert rep_east not in response.context["form"].fields["manager"].queryset
    rep_east.refresh_from_db()
    assert rep_east.manager.username == "manager_east"


def test_it_refuses_a_manager_cycle_and_shows_why(english_client_for, admin, manager_east, rep_east):
    # rep_east reports to manager_east; making manager_east report to rep_east closes a loop.
    response = english_client_for(admin).post(edit_url(manager_east), form_data(manager_east, manager=rep_east.pk,
                                                                         display_name="改名"))
    assert response.status_code == 200
    assert response.context["form"].errors["manager"] == [
        "A user cannot report to themselves, directly or through others."]
    assert "A user cannot report to themselves" in response.content.decode()
    manager_east.refresh_from_db()
    assert manager_east.manager.username == "director"
    assert manager_east.display_name != "改名"


def test_it_refuses_an_admin_deactivating_themselves(client_for, admin):
    response = client_for(admin).post(edit_url(admin), form_data(admin, is_active=""))
    assert response.context["form"].errors["is_active"]
    admin.refresh_from_db()
    assert admin.is_active


def test_it_changes_what_a_user_sees_when_their_role_changes(client_for, admin, rep_east, rep_hz, roles):
    shanghai = CustomerFactory(name="上海客户", owner=rep_east)
    hangzhou = CustomerFactory(name="杭州客户", owner=rep_hz)

    def seen():
        return set(visible(User.objects.get(pk=rep_east.pk), Customer))

    def give_roles(*names):
        user = User.objects.get(pk=rep_east.pk)
        response = client_for(admin).post(edit_url(user), form_data(user, roles=[roles[n].pk for n in names]))
        assert response.status_code == 302

    assert seen() == {shanghai}              # 销售代表: own team (上海分公司)
    give_roles("销售总监")
    assert seen() == {shanghai, hangzhou}    # all records
    give_roles()
    assert seen() == set()                   # no role, no customers


# Deactivating and passwords --------------------------------------------------------------------

def test_it_deactivates_and_reactivates_a_user(client_for, admin, rep_east, client):
    admin_client = client_for(admin)
    response = admin_client.post(reverse("settings:accounts:user_deactivate", args=[rep_east.pk]))
    assert response.status_code == 302
    rep_east.refresh_from_db()
    assert not rep_east.is_active
    assert "rep_east" in {u.username for u in admin_client.get(USERS, {"status": "inactive"}).context["page"]}

    admin_client.post(reverse("settings:accounts:user_reactivate", args=[rep_east.pk]))
    rep_east.refresh_from_db()
    assert rep_east.is_active


def test_it_never_deactivates_the_signed_in_admin(client_for, admin):
    client_for(admin).post(reverse("settings:accounts:user_deactivate", args=[admin.pk]))
    admin.refresh_from_db()
    assert admin.is_active


def test_it_sets_a_temporary_password_the_user_must_change(client_for, admin, rep_east, client):
    url = reverse("settings:accounts:user_password", args=[rep_east.pk])
    response = client_for(admin).post(url, {"password1": "Temp-pass-4711", "password2": "Temp-pass-4711"})
    assert response.status_code == 302
    rep_east.refresh_from_db()
    assert rep_east.check_password("Temp-pass-4711")
    assert rep_east.must_change_password

    client.logout()
    client.force_login(rep_east)
    assert client.get(reverse("crm:customer_list")).url == reverse("accounts:password_change")


@pytest.mark.parametrize("first, second", [
    ("12345678", "12345678"),                # numeric and common
    ("rep_east1", "rep_east1"),              # too like the username
    ("Temp-pass-4711", "Temp-pass-4712"),    # do not match
])
def test_it_validates_the_temporary_password(client_for, admin, rep_east, first, second):
    url = reverse("settings:accounts:user_password", args=[rep_east.pk])
    response = client_for(admin).post(url, {"password1": first, "password2": second})
    assert response.status_code == 200
    assert response.context["form"].errors
    rep_east.refresh_from_db()
    assert rep_east.check_password(PASSWORD)
    assert not rep_east.must_change_password
