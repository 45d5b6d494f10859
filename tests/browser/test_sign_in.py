"""Each persona of the demo company signs in, lands on the home page of their role and sees
only the sections their roles open, on a desktop and on a phone."""
import re

import pytest
from playwright.sync_api import expect

from .pages import DESKTOP, PHONE, horizontal_overflow, nav_sections, sign_in

pytestmark = pytest.mark.browser

ALL_SECTIONS = ["my_day", "customers", "sales", "service", "marketing", "reports", "settings"]

# persona: (home page, section of the home page, sections in the navigation)
PERSONAS = {
    "admin": ("/settings/", "settings", ALL_SECTIONS),
    "director": ("/reports/", "reports", ALL_SECTIONS),  # 设置 holds the pipelines he configures
    "manager_east": ("/reports/", "reports", ["my_day", "customers", "sales", "service", "reports"]),
    "rep_sh": ("/customers/my-day/", "my_day", ["my_day", "customers", "sales"]),
    "rep_bj": ("/customers/my-day/", "my_day", ["my_day", "customers", "sales"]),
    "service": ("/service/", "service", ["my_day", "customers", "service"]),
    "marketing": ("/marketing/", "marketing", ["my_day", "customers", "marketing"]),
    "it": ("/customers/", "customers", ["my_day", "customers"]),
}


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=lambda v: str(v["width"]))
@pytest.mark.parametrize("persona", PERSONAS)
def test_it_lands_on_the_role_home_with_only_the_allowed_sections(
        demo_company, open_page, screenshot, live_server, persona, viewport):
    home, home_section, sections = PERSONAS[persona]
    page = open_page(viewport)

    sign_in(page, persona)

    expect(page).to_have_url(live_server.url + home)
    narrow = viewport["width"] < 992  # Bootstrap's navbar-expand-lg breakpoint
    expect(page.locator("nav .navbar-toggler")).to_be_visible(visible=narrow)
    assert horizontal_overflow(page) <= 0
    screenshot(page, f"{persona}-{viewport['width']}")

    assert nav_sections(page) == sections
    active = page.locator("nav [data-section][aria-current=page]")
    expect(active).to_have_attribute("data-section", home_section)
    if narrow:
        screenshot(page, f"{persona}-{viewport['width']}-menu")


def test_it_signs_in_with_the_mobile_number(demo_company, open_page, live_server):
    rep = demo_company["rep_sh"]
    page = open_page()

    sign_in(page, rep.mobile)

    expect(page).to_have_url(live_server.url + "/customers/my-day/")
    expect(page.locator("nav .dropdown-toggle")).to_contain_text(rep.display_name)


def test_it_stays_on_the_login_page_with_a_wrong_password(demo_company, open_page):
    page = open_page()
    page.goto("/accounts/login/")
    form = page.locator("main form")
    form.locator("input[name=username]").fill("rep_sh")
    form.locator("input[name=password]").fill("not-the-password")
    form.locator("button[type=submit]").click()

    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(page.locator("nav [data-section]")).to_have_count(0)
    expect(form.locator(".alert-danger, .invalid-feedback").first).to_be_visible()
