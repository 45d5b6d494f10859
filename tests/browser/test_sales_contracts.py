"""On a won demo deal a rep makes a contract with a two-instalment plan (split by the helper), records a
partial payment (部分回款), and after the overdue job has run past the due date the instalment shows
as overdue (逾期). A 区域经理 sets a target on the targets page and sees it saved. Desktop and phone."""
import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from accounts.access import visible
from sales.demo import seed_sales_demo
from sales.models import Contract, Instalment, Opportunity, StageKind, Target
from sales.selectors.targets import period_start
from sales.tasks import instalments_mark_overdue
from sales.views.contracts import LIST_SIZE

from .pages import DESKTOP, horizontal_overflow, sign_in

pytestmark = pytest.mark.browser

PHONE_390 = {"width": 390, "height": 844}


@pytest.fixture
def won_deal(demo_company):
    """A won deal of rep_sh that has no contract yet (the demo made one on another)."""
    seed_sales_demo()
    return Opportunity.objects.filter(stage__kind=StageKind.WON, owner__username="rep_sh", contracts=None).first()


def instalment(page, number):
    return page.locator(f"[data-testid=instalment][data-number='{number}']")


def test_a_rep_makes_a_contract_records_a_payment_and_the_job_marks_it_overdue(
        won_deal, open_page, screenshot, live_server, console_errors):
    page = open_page(DESKTOP)
    sign_in(page, won_deal.owner.username)
    page.goto(won_deal.get_absolute_url())
    page.locator("[data-testid=contract-create]").click()
    form = page.locator("[data-testid=contract-form]")
    expect(form).to_be_visible()
    first_due = timezone.localdate() + datetime.timedelta(days=10)
    form.locator("input[name=title]").fill("智能仓储合同")
    form.locator("input[name=split-count]").fill("2")
    form.locator("input[name=split-first_due]").fill(first_due.isoformat())
    form.locator("[data-testid=split-button]").click()
    rows = page.locator("[data-testid=plan-row]")
    expect(rows.nth(0).locator("input[name$=amount]")).not_to_have_value("")
    expect(rows.nth(1).locator("input[name$=due_on]")).not_to_have_value("")
    screenshot(page, "sales-contract-new-1280")
    page.locator("[data-testid=contract-form] [data-testid=save]").click()

    expect(page.locator("[data-testid=plan]")).to_be_visible()
    contract = Contract.objects.get(opportunity=won_deal)
    assert contract.amount == won_deal.amount and contract.instalments.count() == 2
    expect(page.locator("[data-testid=instalment]")).to_have_count(2)

    instalment(page, 1).locator("[data-testid=record-payment]").click()
    payment = page.locator("[data-testid=payment-form]")
    payment.locator("input[name=amount]").fill("10000")
    payment.locator("input[name=method]").fill("银行转账")
    payment.locator("[data-testid=save]").click()
    expect(instalment(page, 1).locator("[data-testid=instalment-status]")).to_have_attribute("data-status", "partial")
    expect(page.locator("[data-testid=payment]")).to_have_count(1)
    screenshot(page, "sales-contract-partial-1280")

    # The job marks this instalment, and the demo's that fall due meanwhile.
    day = first_due + datetime.timedelta(days=1)
    also = Instalment.objects.exclude(contract=contract).filter(
        status__in=["due", "partial"], due_on__lt=day, contract__status="active").count()
    assert instalments_mark_overdue(today=day.isoformat()) == also + 1
    page.reload()
    expect(instalment(page, 1).locator("[data-testid=instalment-status]")).to_have_attribute("data-status", "overdue")
    expect(instalment(page, 2).locator("[data-testid=instalment-status]")).to_have_attribute("data-status", "due")
    screenshot(page, "sales-contract-overdue-1280")

    phone = open_page(PHONE_390)
    sign_in(phone, won_deal.owner.username)
    phone.goto(contract.get_absolute_url())
    expect(instalment(phone, 1).locator("[data-testid=instalment-status]")).to_have_attribute("data-status", "overdue")
    assert horizontal_overflow(phone) <= 0
    screenshot(phone, "sales-contract-overdue-390")
    phone.goto(reverse("sales:contract_list"))
    mine = visible(won_deal.owner, Contract.objects.all()).count()  # the demo's too, a page of them
    expect(phone.locator("[data-testid=contract-row]")).to_have_count(min(mine, LIST_SIZE))
    expect(phone.locator("[data-testid=contract-row]", has_text=contract.number)).to_be_visible()
    assert horizontal_overflow(phone) <= 0
    screenshot(phone, "sales-contract-list-390")
    phone.goto(won_deal.get_absolute_url())
    expect(phone.locator("[data-testid=deal-contract]")).to_have_count(1)
    assert horizontal_overflow(phone) <= 0
    screenshot(phone, "sales-deal-contracts-390")
    phone.goto(reverse("sales:contract_create", args=[won_deal.pk]))
    assert horizontal_overflow(phone) <= 0
    screenshot(phone, "sales-contract-new-390")
    assert console_errors == []


def test_a_manager_sets_a_target_and_sees_it_saved(won_deal, demo_company, open_page, screenshot, live_server,
                                                   console_errors):
    rep = demo_company["rep_hz"]
    for viewport, name in ((DESKTOP, "1280"), (PHONE_390, "390")):
        page = open_page(viewport)
        sign_in(page, "manager_east")
        page.goto(reverse("sales:target_list"))
        row = page.locator(f"[data-testid=target-row][data-kind=user][data-pk='{rep.pk}']")
        amount = "450000" if name == "1280" else "480000"
        row.locator("input[name$=-amount]").fill(amount)
        row.locator("input[name$=-count]").fill("3")
        page.locator("[data-testid=target-form] [data-testid=save]").first.click()
        expect(page.locator(".alert-success")).to_be_visible()
        row = page.locator(f"[data-testid=target-row][data-kind=user][data-pk='{rep.pk}']")
        expect(row.locator("input[name$=-amount]")).to_have_value(f"{amount}.00")
        quarter = period_start("quarter", timezone.localdate())
        assert Target.objects.get(user=rep, period="quarter", starts_on=quarter).amount == Decimal(amount)
        assert horizontal_overflow(page) <= 0
        screenshot(page, f"sales-targets-{name}")
        expect(page.locator(f"[data-testid=target-row][data-kind=user][data-pk='{demo_company['rep_bj'].pk}']")
               ).to_have_count(0)
    assert console_errors == []
