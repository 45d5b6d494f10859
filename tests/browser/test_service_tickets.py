"""An agent on a phone (375 px) takes a ticket from the team's unassigned queue, replies, sets it to
wait on the customer and resolves it, and the customer answers the survey on a phone; then the agent
opens a ticket from a customer's page in three steps. The
sales rep sees the ticket read-only on the customer page. Screenshots in
artifacts/screenshots/service-*.png."""
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from crm.models import Customer
from service import services
from service.models import CalendarDay, SlaPolicy, Ticket, TicketStatus, TicketType, WorkCalendar, WorkWindow
from service.seed import seed_default_calendar, seed_service_desk

from .pages import PHONE, horizontal_overflow, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def desk(demo_company):
    seed_default_calendar(WorkCalendar, WorkWindow, CalendarDay)
    seed_service_desk(TicketType, SlaPolicy)
    customer = Customer.objects.get(name="上海申通物流有限公司")
    ticket = services.ticket_create(by=None, customer=customer, subject="仓库扫码枪连不上 WMS",
                                    type=TicketType.objects.get(name="故障"), priority="urgent", channel="web",
                                    description="一号仓的 6 把扫码枪今天早上起都连不上系统，发货停了。", author_name="张主管")
    return {"customer": customer, "ticket": ticket}


def test_an_agent_on_a_phone_works_a_ticket_from_the_queue_to_resolved(desk, open_page, screenshot):
    ticket = desk["ticket"]
    page = open_page(PHONE)
    sign_in(page, "service")
    page.goto("/service/tickets/?queue=unassigned")
    rows = page.locator("[data-testid=ticket-row]")
    expect(rows).to_have_count(1)
    assert horizontal_overflow(page) <= 0
    screenshot(page, "service-queue-phone")
    rows.first.locator("[data-testid=ticket-link]").click()
    expect(page.locator("h1")).to_contain_text("仓库扫码枪连不上 WMS")

    assign = page.locator("[data-testid=assign-form]")
    assign.locator("select[name=assignee]").select_option(label="客服 郑欣 · 上海分公司")
    assign.locator("button[type=submit]").click()
    expect(page.locator("[data-testid=assignee]")).to_contain_text("郑欣")

    reply = page.locator("[data-testid=reply-form]")
    reply.locator("textarea[name=body]").fill("工程师已出发，预计 40 分钟到现场；先请用手工单据登记出库。")
    reply.locator("select[name=status]").select_option("waiting")
    reply.locator("[data-testid=send]").click()
    expect(page.locator("[data-testid=status]").first).to_contain_text("等待客户")
    expect(page.locator("[data-testid=entry-reply]")).to_contain_text("工程师已出发")
    expect(page.locator("[data-testid=sla]").first).to_contain_text("暂停计时")
    assert horizontal_overflow(page) <= 0
    screenshot(page, "service-ticket-waiting-phone")

    page.locator("[data-testid=status-resolved]").click()
    expect(page.locator("[data-testid=status]").first).to_contain_text("已解决")
    expect(page.locator("[data-testid=status-open]")).to_contain_text("重开")
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.RESOLVED and ticket.first_responded_at and ticket.pauses
    assert horizontal_overflow(page) <= 0

    # The agent wants the survey link now, to send it by WeChat; the customer answers on a phone.
    page.locator("[data-testid=survey-issue]").click()
    link = page.locator("[data-testid=survey-link]").input_value()
    screenshot(page, "service-ticket-resolved-phone")
    customer = open_page(PHONE)  # a browser of its own: not signed in
    assert link.startswith("http")  # the site's public address (NOTIFY_SITE_URL): here, the live server's path
    customer.goto(urlsplit(link).path)
    expect(customer.locator("h1")).to_contain_text("请评价我们的服务")
    assert horizontal_overflow(customer) <= 0
    screenshot(customer, "service-survey-phone")
    customer.locator("label[for=csat-5]").click()
    if customer.locator("input[name=nps]").count():
        customer.locator("input[name=nps]").fill("9")
    customer.locator("textarea[name=comment]").fill("响应很快，工程师很专业")
    customer.locator("[data-testid=survey-send]").click()
    expect(customer.locator("[data-testid=survey-thanks]")).to_be_visible()
    page.reload()
    expect(page.locator("[data-testid=survey-result]")).to_contain_text("5/5")
    expect(page.locator("[data-testid=survey-result]")).to_contain_text("工程师很专业")


def test_an_agent_opens_a_ticket_from_a_customer_in_three_steps_and_the_rep_reads_it(desk, open_page, screenshot):
    customer = desk["customer"]
    page = open_page(PHONE)
    sign_in(page, "service")
    page.goto(customer.get_absolute_url())
    page.locator("[data-testid=new-ticket]").click()  # 1
    form = page.locator("[data-testid=ticket-form]")
    form.locator("input[name=subject]").fill("月结报表与财务数据不一致")  # 2
    assert horizontal_overflow(page) <= 0
    screenshot(page, "service-ticket-form-phone")
    form.locator("[data-testid=save]").click()  # 3
    expect(page.locator("h1")).to_contain_text("月结报表与财务数据不一致")
    created = Ticket.objects.get(subject="月结报表与财务数据不一致")
    assert created.assignee.username == "service" and created.first_response_due

    rep = open_page({"width": 1280, "height": 900})
    sign_in(rep, "rep_sh")
    rep.goto(customer.get_absolute_url())
    panel = rep.locator("[data-testid=panel-tickets]")
    expect(panel.locator("[data-testid=customer-ticket]")).to_have_count(2)
    expect(panel).to_contain_text("仓库扫码枪连不上 WMS")
    expect(panel.locator("a[href*='/service/tickets/']")).to_have_count(0)  # read-only: no way into the desk
    panel.locator("summary").first.click()
    screenshot(rep, "service-customer-panel")
