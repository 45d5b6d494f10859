"""A sales rep on a phone opens the customer pool (公海), claims a customer, and finds it theirs.
The pool and its customers are made here (not by seed_demo), so the test says what it needs."""
import pytest
from playwright.sync_api import expect

from accounts.models import Role
from accounts.seed import seed_roles
from accounts.tests.factories import PASSWORD, TeamFactory, UserFactory
from crm.models import Choice, Customer, Pool
from crm.seed import seed_choices
from crm.tests.factories import CustomerFactory

from .pages import DESKTOP, PHONE, horizontal_overflow, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def pool_company(live_server, transactional_db):
    seed_roles(Role)
    seed_choices(Choice)
    east = TeamFactory(name="华东区")
    shanghai = TeamFactory(name="上海分公司", parent=east)
    rep = UserFactory(username="rep_pool", display_name="王小明", team=shanghai,
                      roles=[Role.objects.get(name="销售代表")])
    manager = UserFactory(username="manager_pool", display_name="李经理", team=east,
                          roles=[Role.objects.get(name="区域经理")])
    pool = Pool.objects.create(name="华东公海", daily_claim_limit=3)
    pool.teams.set([east])
    names = ["杭州西湖科技有限公司", "苏州园林设计有限公司", "南京金陵物流有限公司", "宁波港航贸易有限公司"]
    customers = {name: CustomerFactory(name=name, pool=pool, team=east, tier="A" if i % 2 else "B")
                 for i, name in enumerate(names)}
    return {"rep": rep, "manager": manager, "pool": pool, "customers": customers}


def test_it_lets_a_rep_claim_from_the_pool_on_a_phone(pool_company, open_page, screenshot, console_errors):
    pool = pool_company["pool"]
    wanted = pool_company["customers"]["苏州园林设计有限公司"]
    page = open_page(PHONE)
    sign_in(page, "rep_pool", PASSWORD)

    page.goto("/customers/pools/")
    page.locator(f"[data-pool='{pool.pk}']").click()
    expect(page.locator("main h1")).to_have_text("华东公海")
    expect(page.locator("[data-testid=claims-left]")).to_contain_text("3")
    assert horizontal_overflow(page) == 0
    screenshot(page, "pool-rep-375")

    page.locator(f"tr[data-customer='{wanted.pk}'] input[name=ids]").check()
    page.locator("[data-testid=claim-selected]").click()

    expect(page.locator(".alert-success")).to_be_visible()
    expect(page.locator("[data-testid=pool-table]")).not_to_contain_text(wanted.name)
    expect(page.locator("[data-testid=claims-left]")).to_contain_text("2")
    assert Customer.objects.get(pk=wanted.pk).owner == pool_company["rep"]
    page.goto(wanted.get_absolute_url())
    expect(page.locator("main h1")).to_have_text(wanted.name)
    expect(page.locator("main")).to_contain_text("王小明")
    screenshot(page, "pool-rep-claimed-375")
    assert console_errors == []


def test_it_finds_a_pool_customer_by_pinyin_and_shows_the_page_on_a_desktop(pool_company, open_page, screenshot,
                                                                           console_errors):
    pool = pool_company["pool"]
    page = open_page(DESKTOP)
    sign_in(page, "manager_pool", PASSWORD)
    page.goto(pool.get_absolute_url())
    expect(page.locator("[data-testid=assign-selected]")).to_be_visible()
    screenshot(page, "pool-manager-1280")

    page.locator("#id_q").fill("szyl")
    page.locator("[data-testid=pool-search] button[type=submit]").click()

    rows = page.locator("[data-testid=pool-table] tbody tr[data-customer]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("苏州园林设计有限公司")
    assert console_errors == []


def test_it_shows_the_pool_to_a_rep_on_a_desktop(pool_company, open_page, screenshot, console_errors):
    page = open_page(DESKTOP)
    sign_in(page, "rep_pool", PASSWORD)
    page.goto(pool_company["pool"].get_absolute_url())
    expect(page.locator("[data-testid=pool-table] tbody tr[data-customer]")).to_have_count(4)
    screenshot(page, "pool-rep-1280")
    assert console_errors == []


def test_it_shows_the_pool_settings_to_an_admin(pool_company, open_page, screenshot, console_errors):
    UserFactory(username="admin_pool", team=None, roles=[Role.objects.get(name="系统管理员")])
    for viewport, suffix in ((DESKTOP, "1280"), (PHONE, "375")):
        page = open_page(viewport)
        sign_in(page, "admin_pool", PASSWORD)
        page.goto("/settings/customers/pools/")
        page.locator(f"[data-pool='{pool_company['pool'].pk}'] a").first.click()
        expect(page.locator("[data-testid=pool-form]")).to_be_visible()
        assert horizontal_overflow(page) == 0
        screenshot(page, f"pool-settings-{suffix}")
        page.goto("/settings/customers/picklists/")
        expect(page.locator("[data-testid=picklists]")).to_be_visible()
        assert horizontal_overflow(page) == 0
        screenshot(page, f"picklist-settings-{suffix}")
    assert console_errors == []
