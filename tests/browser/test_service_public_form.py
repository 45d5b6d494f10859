"""A customer on a phone (375 px), not signed in, sends a service request through /support/: sent at
once it is refused as too quick, with the reason and what was typed kept; sent again after the
minimum fill time it becomes a web ticket, and the thank-you page shows its number and what was
sent. Screenshots in artifacts/screenshots/service-public-*.png."""
import pytest
from playwright.sync_api import expect

from crm.models import Customer
from service.models import CalendarDay, SlaPolicy, Ticket, TicketType, WorkCalendar, WorkWindow
from service.seed import seed_default_calendar, seed_service_desk

from .pages import PHONE, horizontal_overflow

pytestmark = pytest.mark.browser


@pytest.fixture
def desk(demo_company, settings):
    seed_default_calendar(WorkCalendar, WorkWindow, CalendarDay)
    seed_service_desk(TicketType, SlaPolicy)
    # The live server runs in this process: the settings fixture reaches it. Every run sends from
    # 127.0.0.1, whose count in Redis outlives the test.
    settings.SERVICE_FORM_PER_IP_HOUR = 10_000
    return Customer.objects.get(name="上海申通物流有限公司")


def test_a_customer_on_a_phone_sends_a_service_request(desk, open_page, screenshot, settings, console_errors):
    page = open_page(PHONE)
    page.goto("/support/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    form = page.locator("[data-testid=service-request-form]")
    # The honeypot: in the page for bots, a clipped 1 px box for people (Bootstrap's .visually-hidden).
    expect(form.locator("[data-testid=honeypot] input[name=homepage]")).to_be_attached()
    box = form.locator("[data-testid=honeypot]").bounding_box()
    assert box["width"] <= 1 and box["height"] <= 1
    form.locator("input[name=name]").fill("张主管")
    form.locator("input[name=company]").fill("上海申通物流有限公司")
    form.locator("input[name=mobile]").fill("139 1234 0000")
    form.locator("select[name=type]").select_option(label="故障")
    form.locator("input[name=subject]").fill("仓库扫码枪连不上 WMS")
    form.locator("textarea[name=description]").fill("一号仓的 6 把扫码枪今天早上起都连不上系统，发货停了。")
    assert horizontal_overflow(page) <= 0
    screenshot(page, "service-public-form-phone")

    form.locator("[data-testid=send]").click()  # at once: a person needs longer than a bot
    expect(page.locator("[data-testid=form-error]")).to_be_visible()
    expect(form.locator("input[name=subject]")).to_have_value("仓库扫码枪连不上 WMS")
    assert not Ticket.objects.exists()
    assert horizontal_overflow(page) <= 0
    screenshot(page, "service-public-form-too-quick-phone")

    page.wait_for_timeout(settings.SERVICE_FORM_MIN_SECONDS * 1000 + 300)
    form.locator("[data-testid=send]").click()
    reference = page.locator("[data-testid=reference]")
    expect(reference).to_be_visible()
    ticket = Ticket.objects.get()
    expect(reference).to_have_text(ticket.reference)
    expect(page.locator("[data-testid=sent]")).to_contain_text("仓库扫码枪连不上 WMS")
    assert (ticket.customer, ticket.channel, ticket.assignee) == (desk, "web", None)
    assert horizontal_overflow(page) <= 0
    screenshot(page, "service-public-thanks-phone")
    # The refused form's 422 is the browser's one console line, and the only one allowed.
    assert [e for e in console_errors if "status of 422" not in e] == []
