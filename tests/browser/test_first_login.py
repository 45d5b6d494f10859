"""First sign-in: a user an admin created in Settings (or whose password an admin reset) must choose
their own password, and can: the page that asks polls nothing, the new password is saved, the user
lands on their role's home page and signs in with it next time. A session that ends while a page with
htmx fragments (the bell, My day) is open leads to the login page with a message, never a login page
inside a fragment. Requests are counted: no loop (it was 56 requests in 3.3 s and a blank page)."""
import datetime
import re
from urllib.parse import urlsplit

import pytest
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Role, Team, User
from crm.tests.factories import CustomerFactory

from .pages import DESKTOP, LOGIN_URL, PHONE, open_nav, sign_in

pytestmark = pytest.mark.browser

TEMPORARY = "Temp-pass-4711"
OWN = "Mine-own-2026!"
BELL = reverse("notifications:bell")
PASSWORD_PAGE = reverse("accounts:password_change")
MY_DAY = reverse("crm:my_day")


class Requests:
    """The paths a page asked the server for, static files left out."""

    def __init__(self, page):
        self.paths = []
        page.on("request", lambda request: self.paths.append(urlsplit(request.url).path))

    def to(self, path):
        return self.paths.count(path)

    def dynamic(self):
        return [path for path in self.paths if not path.startswith("/static/")]


def _submit_login(page, login, password):
    form = page.locator("main form")
    form.locator("input[name=username]").fill(login)
    form.locator("input[name=password]").fill(password)
    form.locator("button[type=submit]").click()


def _choose_own_password(page, requests, live_server, old):
    """On the forced password page: nothing polls, nothing to go to; choose a password, land home."""
    expect(page).to_have_url(live_server.url + PASSWORD_PAGE)
    form = page.locator("main form")
    expect(form.locator("input[name=new_password1]")).to_be_visible()
    expect(page.locator("[data-testid=bell-slot]")).to_have_count(0)
    expect(page.locator("[data-testid=main-nav]")).to_have_count(0)
    page.wait_for_timeout(1500)  # what polled did so at once, and again and again
    assert requests.to(BELL) == 0
    assert len(requests.dynamic()) <= 4, requests.dynamic()  # login, its POST, home, the password page

    form.locator("input[name=old_password]").fill(old)
    form.locator("input[name=new_password1]").fill(OWN)
    form.locator("input[name=new_password2]").fill(OWN)
    form.locator("button[type=submit]").click()

    expect(page).to_have_url(live_server.url + MY_DAY)  # a rep's home page
    expect(page.locator("main .alert-success")).to_be_visible()
    expect(page.locator("[data-testid=bell-slot] [data-testid=bell]")).to_be_visible()
    page.wait_for_timeout(1000)
    assert requests.to(BELL) == 1


def _sign_out(page):
    open_nav(page)
    page.locator("nav .dropdown-toggle").click()
    page.locator("nav .dropdown-menu form button[type=submit]").click()
    expect(page.locator("main form input[name=username]")).to_be_visible()


def test_it_makes_a_user_created_in_settings_choose_a_password_and_sends_them_home(
        demo_company, open_page, live_server, screenshot, console_errors):
    admin = open_page(DESKTOP)
    sign_in(admin, "admin")
    admin.goto(reverse("settings:accounts:user_create"))
    form = admin.locator("[data-testid=user-form]")
    form.locator("input[name=username]").fill("rep_sz")
    form.locator("input[name=display_name]").fill("深圳销售 李娜")
    form.locator("select[name=team]").select_option(str(Team.objects.get(name="上海分公司").pk))
    form.locator(f"input[name=roles][value='{Role.objects.get(name='销售代表').pk}']").check()
    form.locator("input[name=password1]").fill(TEMPORARY)
    form.locator("input[name=password2]").fill(TEMPORARY)
    form.locator("button[type=submit]").click()
    expect(admin).to_have_url(re.compile(r"/settings/accounts/users/\d+/$"))
    assert User.objects.get(username="rep_sz").must_change_password

    page = open_page(DESKTOP)
    requests = Requests(page)
    page.goto(LOGIN_URL)
    _submit_login(page, "rep_sz", TEMPORARY)
    screenshot(page, "first-login-password-1280")
    _choose_own_password(page, requests, live_server, TEMPORARY)
    screenshot(page, "first-login-home-1280")

    user = User.objects.get(username="rep_sz")
    assert not user.must_change_password and user.check_password(OWN)
    _sign_out(page)
    sign_in(page, "rep_sz", OWN)
    expect(page).to_have_url(live_server.url + MY_DAY)
    assert console_errors == []


def test_it_makes_a_user_whose_password_an_admin_reset_choose_a_new_one_on_a_phone(
        demo_company, open_page, live_server, screenshot, console_errors):
    rep = demo_company["rep_sh"]
    admin = open_page(DESKTOP)
    sign_in(admin, "admin")
    admin.goto(reverse("settings:accounts:user_password", args=[rep.pk]))
    admin.locator("main form input[name=password1]").fill(TEMPORARY)
    admin.locator("main form input[name=password2]").fill(TEMPORARY)
    admin.locator("main form button[type=submit]").click()
    expect(admin.locator("main .alert-success")).to_be_visible()

    page = open_page(PHONE)
    requests = Requests(page)
    page.goto(LOGIN_URL)
    _submit_login(page, "rep_sh", TEMPORARY)
    screenshot(page, "first-login-password-375")
    _choose_own_password(page, requests, live_server, TEMPORARY)

    rep.refresh_from_db()
    assert not rep.must_change_password and rep.check_password(OWN)
    assert console_errors == []


@pytest.fixture
def my_day_open(demo_company, open_page, live_server):
    """rep_sh on My day with a follow-up due, the page's timers on a clock the test moves;
    returns (page, requests)."""
    rep = demo_company["rep_sh"]
    CustomerFactory(owner=rep, name="上海会话测试有限公司", next_followup_at=timezone.now() + datetime.timedelta(minutes=5))
    page = open_page(DESKTOP)
    page.clock.install()
    requests = Requests(page)
    sign_in(page, "rep_sh")
    expect(page).to_have_url(live_server.url + MY_DAY)
    expect(page.locator("[data-testid=bell-slot] [data-testid=bell]")).to_be_visible()
    page.wait_for_timeout(500)
    assert requests.to(BELL) == 1
    requests.paths.clear()  # from here on: what the ended session brings
    return page, requests


def _other_than_the_401(console_errors):
    """The 401 is reported by the browser as a failed load and by htmx as an error; nothing else may show up."""
    return [e for e in console_errors if "status of 401" not in e and "Error Code 401" not in e]


def _end_the_session(page):
    key = next(cookie["value"] for cookie in page.context.cookies() if cookie["name"] == "sessionid")
    assert Session.objects.filter(session_key=key).delete()[0] == 1


@pytest.mark.parametrize("trigger", ["bell_poll", "followup_click"])
def test_an_ended_session_leads_to_the_login_page_with_a_message(my_day_open, live_server, screenshot,
                                                                 console_errors, trigger):
    page, requests = my_day_open
    _end_the_session(page)

    if trigger == "bell_poll":
        page.clock.fast_forward(61_000)  # the bell asks every minute
    else:
        page.locator("[data-testid=log-followup]").filter(visible=True).first.click()

    expect(page).to_have_url(f"{live_server.url}{LOGIN_URL}?next={MY_DAY}")
    expect(page.locator("main .alert-warning")).to_contain_text("登录已失效")
    expect(page.locator("main form input[name=username]")).to_be_visible()
    page.clock.fast_forward(5 * 60_000)
    page.wait_for_timeout(500)
    assert requests.to(LOGIN_URL) == 1
    assert requests.to(BELL) == (1 if trigger == "bell_poll" else 0)
    screenshot(page, f"session-ended-{trigger}-1280")

    _submit_login(page, "rep_sh", "demo1234")
    expect(page).to_have_url(live_server.url + MY_DAY)
    assert _other_than_the_401(console_errors) == []


def test_a_401_without_a_redirect_shows_a_message_and_stops_the_polling(my_day_open, live_server, screenshot,
                                                                        console_errors):
    page, requests = my_day_open
    page.route(f"**{BELL}", lambda route: route.fulfill(
        status=401, content_type="text/plain; charset=utf-8", body="登录已失效，请重新登录。"))

    page.clock.fast_forward(61_000)

    box = page.locator("[data-testid=htmx-error]")
    expect(box).to_be_visible()
    expect(box).to_contain_text("登录已失效")
    expect(box.locator("a[data-htmx-error-login]")).to_have_attribute("href", f"{LOGIN_URL}?next={MY_DAY.replace('/', '%2F')}")
    expect(page).to_have_url(live_server.url + MY_DAY)
    expect(page.locator("[data-testid=bell-slot] input[name=username]")).to_have_count(0)
    screenshot(page, "session-ended-no-redirect-1280")
    page.clock.fast_forward(10 * 60_000)
    page.wait_for_timeout(500)
    assert requests.to(BELL) == 1  # the one answered 401, and no more
    assert _other_than_the_401(console_errors) == []
