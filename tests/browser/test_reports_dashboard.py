"""A deal is won (through the services) and the 华东 manager's dashboard shows it: won count and amount,
the rep's row of the leaderboard against the month's target, and the list behind the number. The
charts draw under the CSP (no console errors, no violations). Desktop and phone width."""
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from crm.tests.factories import CustomerFactory
from sales import services
from sales.models import Target, TargetPeriod

from .pages import DESKTOP, horizontal_overflow, sign_in

pytestmark = pytest.mark.browser

PHONE_390 = {"width": 390, "height": 844}
AMOUNT = re.compile(r"¥380,?000")  # grouped or not, as the locale formats it
URL = reverse("reports:sales_dashboard") + "?period=this_month"


@pytest.fixture
def deal(demo_company):
    director, rep = demo_company["director"], demo_company["rep_sh"]
    pipeline = services.pipeline_save(by=director, name="项目型销售")
    first = pipeline.stages.get(kind="open")
    services.stage_save(by=director, pipeline=pipeline, stage=first, name="初步接触", probability=10,
                        stale_after_days=14)
    review = services.stage_save(by=director, pipeline=pipeline, name="方案评审", probability=40)
    customer = CustomerFactory(owner=rep, name="上海浦江仓储有限公司")
    deal = services.opportunity_create(by=rep, customer=customer, pipeline=pipeline, name="智能仓储一期",
                                       amount=Decimal("380000"), expected_close=timezone.localdate())
    deal = services.opportunity_move(opportunity=deal, stage=review, by=rep)
    Target.objects.create(period=TargetPeriod.MONTH, starts_on=timezone.localdate().replace(day=1), user=rep,
                          amount=Decimal("760000"), count=2, set_by=director)
    return deal


def _win(deal):
    won = deal.pipeline.stages.get(kind="won")
    return services.opportunity_move(opportunity=deal, stage=won, by=deal.owner)


def test_a_won_deal_shows_on_the_managers_dashboard(deal, open_page, screenshot, live_server, console_errors):
    page = open_page(DESKTOP)
    sign_in(page, "manager_east")
    page.goto(URL)
    expect(page.locator("[data-testid=won-count]")).to_have_text("0")
    row = page.locator(f"[data-testid=leader-row][data-user='{deal.owner_id}']")
    expect(row.locator("[data-testid=leader-open]")).to_have_text("1")

    _win(deal)
    page.goto(URL)
    expect(page.locator("[data-testid=won-count]")).to_have_text("1")
    expect(page.locator("[data-testid=won-amount]")).to_have_text(AMOUNT)
    expect(page.locator("[data-testid=win-rate]")).to_have_text("100.0%")
    row = page.locator(f"[data-testid=leader-row][data-user='{deal.owner_id}']")
    expect(row.locator("[data-testid=leader-won]")).to_have_text("1")
    expect(row.locator("[data-testid=leader-won-amount]")).to_have_text(AMOUNT)
    expect(row.locator("[data-testid=leader-percent]")).to_have_text("50.0%")
    expect(row.locator("[data-testid=leader-open]")).to_have_text("0")
    # The charts are drawn (ECharts puts a canvas in each), and a tooltip opens under the CSP.
    for chart in ("funnel", "forecast", "conversion"):
        expect(page.locator(f"#chart-{chart} canvas")).to_have_count(1)
    box = page.locator("#chart-funnel").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 20)
    page.wait_for_timeout(300)
    screenshot(page, "reports-dashboard-1280")

    page.locator("[data-testid=won-count]").click()
    expect(page.locator("[data-testid=row-count]")).to_have_attribute("data-count", "1")
    expect(page.locator("[data-testid=row]")).to_contain_text("智能仓储一期")
    screenshot(page, "reports-drilldown-1280")
    assert console_errors == []


def test_on_a_phone_the_dashboard_fits_and_the_tables_scroll(deal, open_page, screenshot, live_server,
                                                             console_errors):
    _win(deal)
    page = open_page(PHONE_390)
    sign_in(page, "manager_east")
    page.goto(URL)
    expect(page.locator("[data-testid=won-count]")).to_have_text("1")
    expect(page.locator("#chart-forecast canvas")).to_have_count(1)
    assert horizontal_overflow(page) <= 0  # wide tables scroll inside themselves, charts fit the width
    chart_width = page.locator("#chart-funnel canvas").bounding_box()["width"]
    assert chart_width <= PHONE_390["width"]
    screenshot(page, "reports-dashboard-390")
    assert console_errors == []


def test_a_rep_sees_the_dashboard_of_their_own_deals(deal, open_page, screenshot, live_server, console_errors):
    _win(deal)
    page = open_page(DESKTOP)
    sign_in(page, "rep_sh")
    page.goto(URL)
    expect(page.locator("[data-testid=won-count]")).to_have_text("1")
    expect(page.locator("[data-testid=team]")).to_have_count(0)
    expect(page.locator("[data-testid=export]")).to_have_count(0)
    expect(page.locator("[data-testid=leader-row]")).to_have_count(1)
    assert console_errors == []
