"""No page in the main flows logs a JavaScript error or a Content-Security-Policy violation
(script-src and style-src are 'self' only: an inline script or style attribute is blocked)."""
import pytest
from django.urls import reverse
from playwright.sync_api import expect

from crm.models import Customer
from sales.demo import seed_sales_demo
from sales.models import Opportunity

from .pages import DESKTOP, PHONE, open_nav, sign_in

pytestmark = pytest.mark.browser


def _visit_every_section(page):
    keys = [link.get_attribute("data-section") for link in open_nav(page).locator("[data-section]").all()]
    for key in keys:
        open_nav(page).locator(f"[data-section={key}]").click()
        expect(page.locator(f"nav [data-section={key}]")).to_have_attribute("aria-current", "page")


def _switch_language(page, code):
    open_nav(page)
    page.locator(f"nav [data-testid=language-switcher] button[value={code}]").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN" if code == "zh-hans" else code)


def _sign_out(page):
    open_nav(page)
    page.locator("nav .dropdown-toggle").click()
    page.locator("nav .dropdown-menu form button[type=submit]").click()
    expect(page.locator("main form input[name=username]")).to_be_visible()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=lambda v: str(v["width"]))
def test_it_logs_no_console_errors_in_the_main_flows(demo_company, open_page, watch_console, console_errors, viewport):
    customer = Customer.objects.get(name="上海申通物流有限公司")
    elsewhere = Customer.objects.get(name="北京燕京建材有限公司")

    admin = open_page(viewport)
    sign_in(admin, "admin")
    _visit_every_section(admin)
    admin.goto("/accounts/profile/")
    admin.goto(customer.get_absolute_url())
    _switch_language(admin, "en")
    _switch_language(admin, "zh-hans")
    _sign_out(admin)

    rep = open_page(viewport)
    sign_in(rep, "rep_sh")
    _visit_every_section(rep)
    rep.goto(customer.get_absolute_url())
    # In a page of its own: the 404 answer is reported as a failed load there, as is
    # /favicon.ico while the 404 page is Django's plain one. Nothing else may show up.
    stray = watch_console(rep.context.new_page(), ignore=["the server responded with a status of 404"])
    assert stray.goto(elsewhere.get_absolute_url()).status == 404
    stray.close()
    rep.goto("/customers/")
    _sign_out(rep)

    assert not console_errors, "\n".join(console_errors)


def test_it_logs_no_console_errors_on_the_new_customer_form(demo_company, open_page, console_errors):
    page = open_page()
    sign_in(page, "rep_sh")

    page.goto("/customers/new/")

    expect(page.locator("main form input[name=name]")).to_be_visible()
    assert not console_errors, "\n".join(console_errors)


# The main pages of the sales director, who opens every section but settings.
MAIN_PAGES = ["crm:my_day", "crm:customer_list", "crm:pool_list", "notifications:list", "accounts:profile",
              "sales:index", "sales:opportunity_list", "sales:quote_list", "sales:approval_inbox",
              "sales:contract_list", "sales:target_list", "reports:index", "reports:sales_dashboard"]


def test_it_logs_no_console_errors_on_the_main_pages(demo_company, open_page, console_errors):
    seed_sales_demo()  # deals, quotes, contracts and targets on every page
    page = open_page()
    sign_in(page, "director")
    deal = Opportunity.objects.order_by("pk").first()

    for url in [reverse(name) for name in MAIN_PAGES] + [deal.get_absolute_url(), deal.customer.get_absolute_url()]:
        assert page.goto(url).status == 200, url
        page.wait_for_load_state("networkidle")
        if url == reverse("sales:opportunity_list"):
            # Each row once had a style attribute the CSP blocked: 15 violations a load.
            expect(page.locator("[data-testid=deals] tbody tr").first).to_be_visible()

    assert not console_errors, "\n".join(console_errors)
