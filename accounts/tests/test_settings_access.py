"""Who may open the settings area: holders of MANAGE_USERS only, on every URL and method."""
import pytest
from django.urls import reverse

from accounts.tests.factories import RoleFactory

# Every settings URL name, and which kind of record it takes an id of.
SETTINGS_URLS = [
    ("settings", None),
    ("settings_users", None),
    ("settings_user_create", None),
    ("settings_user_edit", "user"),
    ("settings_user_password", "user"),
    ("settings_user_deactivate", "user"),
    ("settings_user_reactivate", "user"),
    ("settings_teams", None),
    ("settings_team_create", None),
    ("settings_team_edit", "team"),
    ("settings_team_delete", "team"),
    ("settings_roles", None),
    ("settings_role_create", None),
    ("settings_role_edit", "role"),
    ("settings_role_delete", "role"),
    ("settings_access_check", None),
    ("settings_audit_log", None),
]
POST_ONLY = {"settings_user_deactivate", "settings_user_reactivate"}


@pytest.fixture
def url_for(teams, rep_west):
    """url_for(name, target) -> the URL, with the id of an unused team, a user, or an unused role."""
    spare_team = teams["hangzhou"]
    ids = {"user": rep_west.pk, "team": spare_team.pk, "role": RoleFactory(name="空角色").pk}

    def build(name, target):
        return reverse(f"accounts:{name}", args=[ids[target]] if target else [])

    return build


@pytest.mark.parametrize("name, target", SETTINGS_URLS)
@pytest.mark.parametrize("persona", ["rep_east", "manager_east", "director", "it_importer"])
def test_it_refuses_every_settings_url_without_manage_users(request, client_for, url_for, rep_west, teams,
                                                           persona, name, target):
    client = client_for(request.getfixturevalue(persona))
    url = url_for(name, target)
    if persona == "director" and name == "settings":
        # The settings start page sends a director (who configures pipelines) to the pipelines.
        assert client.get(url).url == reverse("settings:sales:pipelines")
    else:
        assert client.get(url).status_code == 403
        assert client.post(url, {"name": "x", "username": "x"}).status_code == 403
    rep_west.refresh_from_db()
    assert rep_west.is_active
    assert teams["hangzhou"].__class__.objects.filter(pk=teams["hangzhou"].pk).exists()


@pytest.mark.parametrize("name, target", SETTINGS_URLS)
def test_it_sends_anonymous_visitors_to_sign_in(client, url_for, name, target):
    response = client.get(url_for(name, target))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


@pytest.mark.parametrize("name, target", SETTINGS_URLS)
def test_it_opens_every_settings_page_for_an_admin(client_for, admin, url_for, name, target):
    response = client_for(admin).get(url_for(name, target))
    if name in POST_ONLY:
        assert response.status_code == 405
    else:
        assert response.status_code == 200
        assert b'data-testid="settings-nav"' in response.content


def test_it_shows_the_settings_sub_navigation(client_for, admin):
    client = client_for(admin)
    client.cookies["django_language"] = "en"
    content = client.get(reverse("settings:index")).content.decode()
    for label in ("Users", "Teams", "Roles", "Access check"):
        assert label in content


def test_it_counts_users_teams_and_roles_on_the_overview(client_for, admin, rep_east, rep_west, teams, roles):
    response = client_for(admin).get(reverse("settings:index"))
    overview = response.context["overview"]
    assert overview["users_active"] == overview["users_total"] >= 5
    assert overview["teams"] == len(teams)
    assert overview["roles"] == len(roles)
