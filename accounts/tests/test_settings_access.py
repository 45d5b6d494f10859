"""Who may open the accounts section of the settings area (/settings/accounts/): holders of MANAGE_USERS
only (the audit log: VIEW_AUDIT_LOG), on every URL and method. The settings index and the sections of
other apps: tests/test_settings_area.py."""
import pytest
from django.urls import reverse

from accounts.tests.factories import RoleFactory

# Every URL name of the accounts section, and which kind of record it takes an id of.
SETTINGS_URLS = [
    ("users", None),
    ("user_create", None),
    ("user_edit", "user"),
    ("user_password", "user"),
    ("user_deactivate", "user"),
    ("user_reactivate", "user"),
    ("teams", None),
    ("team_create", None),
    ("team_edit", "team"),
    ("team_delete", "team"),
    ("roles", None),
    ("role_create", None),
    ("role_edit", "role"),
    ("role_delete", "role"),
    ("access_check", None),
    ("audit_log", None),
]
POST_ONLY = {"user_deactivate", "user_reactivate"}


@pytest.fixture
def url_for(teams, rep_west):
    """url_for(name, target) -> the URL, with the id of an unused team, a user, or an unused role."""
    spare_team = teams["hangzhou"]
    ids = {"user": rep_west.pk, "team": spare_team.pk, "role": RoleFactory(name="空角色").pk}

    def build(name, target):
        return reverse(f"settings:accounts:{name}", args=[ids[target]] if target else [])

    return build


@pytest.mark.parametrize("name, target", SETTINGS_URLS)
@pytest.mark.parametrize("persona", ["rep_east", "manager_east", "director", "it_importer"])
def test_it_refuses_every_settings_url_without_manage_users(request, client_for, url_for, rep_west, teams,
                                                           persona, name, target):
    client = client_for(request.getfixturevalue(persona))
    url = url_for(name, target)
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
    from accounts.models import User

    response = client_for(admin).get(reverse("settings:index"))
    accounts = next(entry for entry in response.context["sections"] if entry["section"].key == "accounts")
    figures = {card["link"].key: card["figure"] for card in accounts["cards"]}
    assert figures["users"][0] == User.objects.count() >= 5
    assert figures["teams"][0] == len(teams)
    assert figures["roles"][0] == len(roles)
    page = response.content.decode()
    assert f'data-testid="count-users">{User.objects.count()}<' in page
