"""A rep puts a product on a deal, makes a quote at 30% off and submits it; the rep's manager approves
it in the approvals inbox, then the 销售总监; the quote is approved, the rep marks it sent and
accepted, and prints it. Desktop, then the same pages on a phone (390 px)."""
from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from accounts.models import Role
from crm.models import Customer
from sales import services
from sales.models import DiscountRule, DocumentNumbering, Product, Quote
from sales.seed import seed_sales_defaults

from .pages import DESKTOP, horizontal_overflow, sign_in

pytestmark = pytest.mark.browser

PHONE_390 = {"width": 390, "height": 844}


@pytest.fixture
def deal(demo_company):
    """rep_sh's deal 智能仓储一期 with 上海申通物流有限公司, the catalogue, and the seeded rules (the
    flush of earlier browser tests took the migration's rows)."""
    seed_sales_defaults(DocumentNumbering, DiscountRule, Role)
    director = demo_company["director"]
    services.numbering_save(by=director, kind="quote", pattern="SH-Q{yyyy}{mm}-{seq:4}")
    for code, name, unit, price in [("WMS", "仓储管理系统", "套", "180000"), ("SVC-Y", "年度运维服务", "年", "48000")]:
        services.product_save(by=director, code=code, name=name, unit=unit, list_price=Decimal(price))
    pipeline = services.pipeline_save(by=director, name="项目型销售")
    rep = demo_company["rep_sh"]
    customer = Customer.objects.get(name="上海申通物流有限公司")
    return services.opportunity_create(by=rep, customer=customer, pipeline=pipeline, name="智能仓储一期",
                                       contact=customer.contacts.first())


def add_line(page, product_code, quantity, discount):
    """Fill the last line of the line items form (adding a row when the last one is taken)."""
    rows = page.locator("[data-testid=line-row]:visible")
    last = rows.last
    if last.locator("select[data-line=product]").input_value():
        page.locator("[data-testid=add-line]").click()
        last = page.locator("[data-testid=line-row]:visible").last
    select = last.locator("select[data-line=product]")
    value = select.locator("option", has_text=product_code).get_attribute("value")
    select.select_option(value)
    last.locator("input[data-line=quantity]").fill(str(quantity))
    last.locator("input[data-line=discount]").fill(str(discount))


def decide_in_inbox(page, login, screenshot, name):
    """Sign in, find the one quote waiting in the approvals inbox, and approve it with a comment."""
    sign_in(page, login)
    page.goto(reverse("sales:approval_inbox"))
    item = page.locator("[data-testid=inbox-item]")
    expect(item).to_have_count(1)
    expect(item.locator("[data-testid=inbox-discount]")).to_contain_text("30")
    screenshot(page, name)
    item.locator("textarea[name=comment]").fill("同意")
    item.locator("[data-testid=approve]").click()
    expect(page.locator("[data-testid=inbox-empty]")).to_be_visible()


def test_a_30_percent_quote_is_approved_by_the_manager_and_the_director_then_sent_and_accepted(
        deal, open_page, screenshot, live_server, console_errors):
    rep = open_page(DESKTOP)
    sign_in(rep, "rep_sh")
    rep.goto(deal.get_absolute_url())
    rep.locator("[data-testid=edit-lines]").click()
    add_line(rep, "WMS", 2, 30)
    add_line(rep, "SVC-Y", 1, 30)
    expect(rep.locator("#lines-sum")).to_contain_text("285,600.00")  # (360,000 + 48,000) × 70%
    screenshot(rep, "sales-quote-lines-1280")
    rep.locator("[data-testid=save-lines]").click()
    expect(rep.locator("[data-testid=deal-line]")).to_have_count(2)
    expect(rep.locator("[data-testid=lines-total]")).to_contain_text("285")
    screenshot(rep, "sales-quote-deal-1280")

    rep.locator("[data-testid=new-quote]").click()
    rep.locator("[data-testid=create-quote]").click()
    expect(rep.locator("[data-testid=line-row]")).to_have_count(2)
    screenshot(rep, "sales-quote-edit-1280")
    rep.locator("[data-testid=save-quote]").click()
    quote = Quote.objects.get(opportunity=deal)
    assert quote.number.startswith("SH-Q") and quote.number.endswith("-0001")
    expect(rep.locator("[data-testid=discount-percent]")).to_contain_text("30")
    rep.locator("[data-testid=submit-quote]").click()
    expect(rep.locator("[data-testid=quote-status]")).to_have_attribute("data-status", "pending")
    expect(rep.locator("[data-testid=approval][data-decision=pending]")).to_have_count(2)
    screenshot(rep, "sales-quote-pending-1280")

    decide_in_inbox(open_page(DESKTOP), "manager_east", screenshot, "sales-approvals-manager-1280")
    quote.refresh_from_db()
    assert quote.status == "pending"
    director = open_page(DESKTOP)
    decide_in_inbox(director, "director", screenshot, "sales-approvals-director-1280")
    director.goto(reverse("settings:sales:discount_rules"))
    expect(director.locator("[data-testid=rule]")).to_have_count(2)
    screenshot(director, "sales-settings-discount-rules-1280")
    director.goto(reverse("settings:sales:numbering"))
    expect(director.locator("[data-testid=numbering-quote] [data-testid=next-number]")).to_contain_text("-0002")
    screenshot(director, "sales-settings-numbering-1280")

    rep.reload()
    expect(rep.locator("[data-testid=quote-status]")).to_have_attribute("data-status", "approved")
    expect(rep.locator("[data-testid=approval][data-decision=approved]")).to_have_count(2)
    rep.locator("[data-testid=send-quote]").click()
    expect(rep.locator("[data-testid=quote-status]")).to_have_attribute("data-status", "sent")
    rep.locator("[data-testid=accept-quote]").click()
    expect(rep.locator("[data-testid=quote-status]")).to_have_attribute("data-status", "accepted")
    screenshot(rep, "sales-quote-accepted-1280")

    rep.goto(reverse("sales:quote_print", args=[quote.pk]))
    expect(rep.locator("[data-testid=print-number]")).to_have_text(quote.number)
    expect(rep.locator("[data-testid=print-customer]")).to_have_text("上海申通物流有限公司")
    expect(rep.locator("[data-testid=print-lines] tbody tr")).to_have_count(2)
    screenshot(rep, "sales-quote-print-1280")
    rep.emulate_media(media="print")
    expect(rep.locator(".toolbar")).to_be_hidden()
    screenshot(rep, "sales-quote-print-media-print")
    assert console_errors == []


def test_on_a_phone_the_quote_the_inbox_and_the_print_page_fit(deal, open_page, screenshot, live_server,
                                                              console_errors, demo_company):
    rep = demo_company["rep_sh"]
    services.opportunity_lines_save(opportunity=deal, by=rep, lines=[
        {"product": Product.objects.get(code="WMS"), "quantity": Decimal(2),
         "discount_percent": Decimal(30), "description": "含实施与培训"}])
    quote = services.quote_submit(quote=services.quote_create(opportunity=deal, by=rep), by=rep)

    page = open_page(PHONE_390)
    sign_in(page, "rep_sh")
    for name, url in [("sales-quote-deal-390", deal.get_absolute_url()),
                      ("sales-quote-detail-390", reverse("sales:quote_detail", args=[quote.pk])),
                      ("sales-quote-list-390", reverse("sales:quote_list")),
                      ("sales-quote-lines-390", reverse("sales:opportunity_lines", args=[deal.pk])),
                      ("sales-quote-print-390", reverse("sales:quote_print", args=[quote.pk]))]:
        page.goto(url)
        page.wait_for_load_state("load")
        assert horizontal_overflow(page) <= 0, name
        screenshot(page, name)

    manager = open_page(PHONE_390)
    sign_in(manager, "manager_east")
    manager.goto(reverse("sales:approval_inbox"))
    expect(manager.locator("[data-testid=inbox-item]")).to_have_count(1)
    assert horizontal_overflow(manager) <= 0
    screenshot(manager, "sales-approvals-390")
    assert console_errors == []
