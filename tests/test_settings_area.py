"""The settings area (accounts.settings_area): one prefix, /settings/, a section per app registered from
the app's own settings_sections.py; one index and one sidebar listing exactly what the user's
capabilities open; one 设置 entry in the top navigation; the old prefixes answer a permanent redirect.

The grid at the end walks every settings URL, GET and POST: whoever lacks a link's capability gets 403
(as the settings pages always answered: a capability, not a data scope) and changes nothing."""
import re

import pytest
from django.urls import resolve, reverse

from accounts.capabilities import Capability, Scope
from accounts.settings_area import registered_sections, sections_for
from accounts.tests.factories import RoleFactory, UserFactory
from conftest import named_routes

pytestmark = pytest.mark.django_db

SECTIONS = ["accounts", "customers", "sales", "reminders", "service"]


def links_of(user):
    return {entry["section"].key: [link.key for link in entry["links"]] for entry in sections_for(user)}


def holder_of(*capabilities):
    return UserFactory(roles=[RoleFactory(capabilities=list(capabilities), customers_scope=Scope.NONE)])


# The registry ----------------------------------------------------------------------------------

def test_each_app_registers_its_sections_from_its_own_module():
    assert [section.key for section in registered_sections()] == SECTIONS
    modules = {section.key: section.urls.split(".")[0] for section in registered_sections()}
    assert modules == {"accounts": "accounts", "customers": "crm", "sales": "sales", "reminders": "crm",
                       "service": "service"}


def test_every_link_is_listed_under_the_capability_its_view_requires():
    """A link is listed exactly to those its page lets in: the registry and the view agree."""
    for section in registered_sections():
        for link in section.links:
            view = resolve(reverse(link.url_name)).func
            assert view.crm_permission == link.capability, link.url_name
            assert link.url_name.startswith(f"settings:{section.key}:")


def test_every_settings_page_is_under_the_one_prefix():
    routes = [(name, route) for name, route in named_routes() if name.startswith("settings:")]
    assert len(routes) > 40
    assert all(route.startswith("settings/") for _name, route in routes)
    assert not [route for _name, route in named_routes()
                if re.match(r"(accounts|customers|sales|notifications)/settings/", route)]


@pytest.mark.parametrize("persona, expected", [
    ("admin", {"accounts": ["users", "teams", "roles", "access", "audit_log"],
               "customers": ["picklists", "pools"],
               "sales": ["pipelines", "products", "discount_rules", "numbering"],
               "reminders": ["notification_rules", "notification_failures"],
               "service": ["calendars", "sla_policies", "ticket_types", "after_sales", "assignment_rules"]}),
    ("director", {"sales": ["pipelines", "products", "discount_rules", "numbering"]}),
    ("manager_east", {}),
    ("rep_east", {}),
    ("it_importer", {}),
])
def test_the_registry_lists_only_the_links_a_persona_may_open(person, persona, expected):
    assert links_of(person(persona)) == expected


@pytest.mark.parametrize("capability, expected", [
    (Capability.VIEW_AUDIT_LOG, {"accounts": ["audit_log"]}),
    (Capability.CONFIGURE_CUSTOMERS, {"customers": ["picklists", "pools"]}),
    (Capability.MANAGE_USERS, {"accounts": ["users", "teams", "roles", "access"],
                               "reminders": ["notification_rules", "notification_failures"]}),
])
def test_the_registry_lists_the_links_of_one_capability(teams, capability, expected):
    assert links_of(holder_of(capability)) == expected


# The index, the sidebar and the navigation ------------------------------------------------------

def test_the_sidebar_has_every_section_and_link_for_an_admin(client_for, admin):
    page = client_for(admin).get(reverse("settings:accounts:users")).content.decode()
    nav = page[page.index('data-testid="settings-nav"'):page.index("settings-content")]
    for section in registered_sections():
        assert f'data-testid="settings-section-{section.key}"' in nav
        for link in section.links:
            assert f'href="{reverse(link.url_name)}"' in nav, link.key
    assert nav.count('aria-current="page"') == 1


def test_the_sidebar_and_index_show_only_what_the_user_may_open(client_for, teams):
    auditor = holder_of(Capability.VIEW_AUDIT_LOG)
    client = client_for(auditor)
    index = client.get(reverse("settings:index"))
    assert index.status_code == 200
    page = index.content.decode()
    assert reverse("settings:accounts:audit_log") in page
    for hidden in ("settings:accounts:users", "settings:customers:picklists", "settings:sales:pipelines",
                   "settings:reminders:rules"):
        assert f'href="{reverse(hidden)}"' not in page, hidden


def test_the_index_lists_an_admins_sections_with_their_counts(client_for, admin, django_assert_max_num_queries):
    client = client_for(admin)
    client.get(reverse("settings:index"))
    with django_assert_max_num_queries(10):
        page = client.get(reverse("settings:index")).content.decode()
    for key in SECTIONS:
        assert f'data-testid="overview-{key}"' in page
    assert 'data-testid="count-users"' in page


@pytest.mark.parametrize("persona", ["rep_east", "manager_east", "it_importer"])
def test_the_index_refuses_a_user_with_no_settings(client_for, person, persona):
    client = client_for(person(persona))
    assert client.get(reverse("settings:index")).status_code == 403


def test_the_index_sends_anonymous_visitors_to_sign_in(client):
    response = client.get(reverse("settings:index"))
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))


@pytest.mark.parametrize("persona, shown", [
    ("admin", True), ("director", True), ("rep_east", False), ("manager_east", False), ("it_importer", False)])
def test_the_top_navigation_has_one_settings_entry_for_whoever_may_open_one(client_for, person, persona, shown):
    page = client_for(person(persona)).get(reverse("accounts:profile")).content.decode()
    assert page.count('data-section="settings"') == (1 if shown else 0)
    if shown:
        assert f'href="{reverse("settings:index")}"' in page


def test_the_top_navigation_shows_settings_to_an_auditor(client_for, teams):
    page = client_for(holder_of(Capability.VIEW_AUDIT_LOG)).get(reverse("accounts:profile")).content.decode()
    assert page.count('data-section="settings"') == 1


# Old addresses ---------------------------------------------------------------------------------

@pytest.mark.parametrize("old, new", [
    ("/accounts/settings/", "/settings/"),
    ("/accounts/settings/users/", "/settings/accounts/users/"),
    ("/accounts/settings/users/7/password/", "/settings/accounts/users/7/password/"),
    ("/accounts/settings/access/?user=3&customer=12", "/settings/accounts/access/?user=3&customer=12"),
    ("/accounts/settings/audit/?kind=delete", "/settings/accounts/audit/?kind=delete"),
    ("/customers/settings/", "/settings/"),
    ("/customers/settings/picklists/", "/settings/customers/picklists/"),
    ("/customers/settings/pools/4/", "/settings/customers/pools/4/"),
    ("/sales/settings/", "/settings/sales/"),
    ("/sales/settings/pipelines/2/stages/5/", "/settings/sales/pipelines/2/stages/5/"),
    ("/sales/settings/products/?page=2", "/settings/sales/products/?page=2"),
    ("/notifications/settings/", "/settings/reminders/"),
    ("/notifications/settings/e-mail/failed/", "/settings/reminders/e-mail/failed/"),
])
def test_an_old_settings_address_redirects_permanently_to_its_new_place(client, old, new):
    response = client.get(old)
    assert response.status_code == 301
    assert response["Location"] == new
    path = new.split("?")[0]
    assert resolve(path)  # the new address exists


def test_a_post_to_an_old_address_is_redirected_with_its_method(client):
    response = client.post("/sales/settings/products/new/", {"code": "X"})
    assert response.status_code == 308 and response["Location"] == "/settings/sales/products/new/"


def test_a_bookmark_of_an_old_page_opens_it_after_sign_in(client_for, admin):
    response = client_for(admin).get("/customers/settings/picklists/", follow=True)
    assert response.redirect_chain == [("/settings/customers/picklists/", 301)]
    assert response.status_code == 200 and response.context["settings_section"] == "picklists"


def test_the_pool_pages_are_still_the_customer_cores(client_for, rep_east):
    """Only the settings moved: /customers/pools/ stays the reps' pool list."""
    assert client_for(rep_east).get("/customers/pools/").status_code == 200


# The grid: every settings URL, GET and POST, without the capability ------------------------------

def settings_routes():
    return sorted((name, route) for name, route in named_routes() if name.startswith("settings:"))


def filled(route):
    """The route with an id that names nothing: the capability is checked before any lookup."""
    path = re.sub(r"<int:\w+>", "999999", route)
    path = re.sub(r"<(slug|str):\w+>", "quote", path)
    return "/" + path


def capability_of(name):
    for section in registered_sections():
        if name.startswith(f"settings:{section.key}:"):
            view = resolve(filled(dict(settings_routes())[name])).func
            return view.crm_permission
    return None


ROUTES = [(name, route) for name, route in settings_routes() if name != "settings:index"]


@pytest.mark.parametrize("name, route", ROUTES, ids=[r[0] for r in ROUTES])
def test_without_the_capability_every_settings_url_answers_403_on_get_and_post(client_for, teams, name, route):
    """Someone holding every capability but the page's own (and no data scope to speak of) is refused."""
    needed = capability_of(name)
    assert needed, name
    others = [c for c in Capability.values if c != needed]
    user = UserFactory(roles=[RoleFactory(capabilities=others, customers_scope=Scope.ALL, sales_scope=Scope.ALL)])
    client = client_for(user)
    url = filled(route)
    for method in ("get", "post"):
        response = getattr(client, method)(url, {"name": "x", "label": "x", "code": "x"})
        assert response.status_code in ({403, 405} if method == "get" else {403}), (name, method)


@pytest.mark.parametrize("name, route", ROUTES, ids=[r[0] for r in ROUTES])
def test_anonymous_visitors_are_sent_to_sign_in_from_every_settings_url(client, name, route):
    response = client.get(filled(route))
    assert response.status_code in (302, 405)
    if response.status_code == 302:
        assert response.url.startswith(reverse("accounts:login"))
