"""A request made by htmx (a fragment: the bell, My day, a modal form) that needs another page is
answered so htmx changes the page (HX-Redirect) or shows a message (401), never with a redirect the
browser would follow inside the request and swap a whole page into the fragment; and the pages that
force an action load no polling fragment."""
import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from crm.tests.factories import CustomerFactory

BELL = reverse("notifications:bell")
LOGIN = reverse("accounts:login")
PASSWORD_PAGE = reverse("accounts:password_change")
MY_DAY = reverse("crm:my_day")
HTMX = {"HX-Request": "true", "HX-Current-URL": "http://testserver" + MY_DAY}
TEMPORARY = "Temp-pass-4711"


def _end_every_session():
    Session.objects.all().delete()


def _reset_by_admin(client_for, admin, user):
    url = reverse("settings:accounts:user_password", args=[user.pk])
    response = client_for(admin).post(url, {"password1": TEMPORARY, "password2": TEMPORARY})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.must_change_password


def _sign_in(client, username, password):
    client.logout()
    response = client.post(LOGIN, {"username": username, "password": password})
    assert response.status_code == 302


def test_it_sends_the_bell_of_a_user_who_must_change_the_password_to_the_password_page(
        client_for, client, admin, rep_east):
    _reset_by_admin(client_for, admin, rep_east)
    _sign_in(client, "rep_east", TEMPORARY)

    response = client.get(BELL, headers=HTMX)

    assert response.status_code == 200
    assert response["HX-Redirect"] == PASSWORD_PAGE
    assert not response.has_header("Location") and response.content == b""
    # Without htmx the page itself still redirects as before.
    assert client.get(BELL).url == PASSWORD_PAGE


def test_it_lets_the_user_change_the_forced_password_and_go_home(client_for, client, admin, rep_east):
    _reset_by_admin(client_for, admin, rep_east)
    _sign_in(client, "rep_east", TEMPORARY)
    assert client.get(PASSWORD_PAGE).status_code == 200

    response = client.post(PASSWORD_PAGE, {
        "old_password": TEMPORARY, "new_password1": "Mine-own-2026!", "new_password2": "Mine-own-2026!"})

    assert response.status_code == 302 and client.get(response.url).url == MY_DAY
    assert client.get(BELL, headers=HTMX).status_code == 200
    _sign_in(client, "rep_east", "Mine-own-2026!")
    assert client.get(MY_DAY).status_code == 200


@pytest.mark.parametrize("method", ["get", "post"])
def test_it_answers_401_and_sends_to_the_login_page_when_the_session_has_ended(client_for, rep_east, method):
    client = client_for(rep_east)
    customer = CustomerFactory(owner=rep_east)
    url = BELL if method == "get" else reverse("crm:followup_create", args=[customer.pk])
    _end_every_session()

    response = getattr(client, method)(url, headers=HTMX)

    assert response.status_code == 401
    assert response["Content-Type"].startswith("text/plain")
    assert "登录已失效" in response.content.decode()
    assert response["HX-Redirect"] == f"{LOGIN}?next={MY_DAY}"
    login_page = client.get(response["HX-Redirect"]).content.decode()
    assert "登录已失效" in login_page and f'name="next" value="{MY_DAY}"' in login_page


def test_it_ends_the_open_session_of_a_user_whose_password_an_admin_reset(client_for, rep_east, admin):
    rep = Client()
    rep.force_login(rep_east)
    assert rep.get(BELL, headers=HTMX).status_code == 200

    _reset_by_admin(client_for, admin, rep_east)

    response = rep.get(BELL, headers=HTMX)
    assert response.status_code == 401 and response["HX-Redirect"].startswith(LOGIN)


def test_it_answers_in_english_to_an_english_reader(client_for, rep_east):
    client = client_for(rep_east)
    client.cookies["django_language"] = "en"
    _end_every_session()

    response = client.get(BELL, headers=HTMX)

    assert response.content.decode() == "Your session has ended. Please sign in again."


@pytest.mark.parametrize("current", [None, "https://evil.example/customers/", "http://testserver" + LOGIN])
def test_it_sends_to_the_bare_login_page_without_a_page_of_this_site_to_return_to(client, current):
    headers = {"HX-Request": "true", **({"HX-Current-URL": current} if current else {})}

    response = client.get(BELL, headers=headers)

    assert response.status_code == 401 and response["HX-Redirect"] == LOGIN


def test_it_turns_any_redirect_to_htmx_into_hx_redirect(client_for, rep_east):
    client = client_for(rep_east)

    response = client.get(reverse("home"), headers=HTMX)

    assert response.status_code == 200 and response["HX-Redirect"] == MY_DAY


def test_it_answers_a_scripts_own_request_with_401_and_the_message(client):
    response = client.get(BELL, headers={"X-Requested-With": "fetch"})

    assert response.status_code == 401 and "登录已失效" in response.content.decode()
    assert not response.has_header("HX-Redirect")


def test_it_leaves_the_redirects_of_ordinary_requests_alone(client, client_for, rep_east):
    assert client.get(BELL).url == f"{LOGIN}?next={BELL}"
    assert client_for(rep_east).get(reverse("home")).url == MY_DAY


def test_a_signed_in_page_polls_the_bell(client_for, rep_east):
    page = client_for(rep_east).get(MY_DAY).content.decode()

    assert 'data-testid="bell-slot"' in page and "hx-trigger" in page


def test_the_forced_password_page_loads_no_polling_fragment(client_for, client, admin, rep_east):
    _reset_by_admin(client_for, admin, rep_east)
    _sign_in(client, "rep_east", TEMPORARY)

    page = client.get(PASSWORD_PAGE).content.decode()

    assert 'name="new_password1"' in page and 'data-testid="forced-action-bar"' in page
    assert "hx-get" not in page and "hx-trigger" not in page and 'data-testid="main-nav"' not in page


def test_the_login_and_locked_out_pages_load_no_polling_fragment(client, rep_east):
    login = client.get(LOGIN).content.decode()
    for _ in range(6):
        locked = client.post(LOGIN, {"username": "rep_east", "password": "wrong"})

    assert locked.status_code == 429
    for page in (login, locked.content.decode()):
        assert "hx-get" not in page and "hx-trigger" not in page
