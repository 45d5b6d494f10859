"""What a person does in the browser, in a few steps shared by the browser tests.
Selectors use names, data-* hooks and URLs, never translated text."""
from playwright.sync_api import expect

from crm.demo import DEMO_PASSWORD

LOGIN_URL = "/accounts/login/"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 812}


def sign_in(page, login, password=DEMO_PASSWORD):
    """Sign in on the login page with a username or a mobile number."""
    page.goto(LOGIN_URL)
    form = page.locator("main form")
    form.locator("input[name=username]").fill(login)
    form.locator("input[name=password]").fill(password)
    form.locator("button[type=submit]").click()
    expect(page.locator("nav [data-testid=main-nav]")).to_be_attached()


NAVBAR_EXPANDS_AT = 992  # Bootstrap's navbar-expand-lg breakpoint


def open_nav(page):
    """Open the main navigation if the navbar is collapsed (narrow screens); return the nav list.
    Collapsed or not is decided by the viewport, not by looking: right after a click the next page
    may not have its stylesheet applied yet, when every button looks visible."""
    page.wait_for_load_state("load")
    toggler = page.locator("nav .navbar-toggler")
    if page.viewport_size["width"] < NAVBAR_EXPANDS_AT and toggler.get_attribute("aria-expanded") != "true":
        expect(toggler).to_be_visible()
        expect(page.locator("#mainNav")).to_be_hidden()
        toggler.click()
        expect(page.locator("#mainNav.show")).to_be_visible()
    nav = page.locator("nav [data-testid=main-nav]")
    expect(nav).to_be_visible()
    return nav


def nav_sections(page):
    """The keys of the sections in the (opened) main navigation, in order."""
    links = open_nav(page).locator("[data-section]")
    for link in links.all():
        expect(link).to_be_visible()
    return [link.get_attribute("data-section") for link in links.all()]


def horizontal_overflow(page):
    """How many CSS pixels the page is wider than the viewport (0 when nothing sticks out)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
