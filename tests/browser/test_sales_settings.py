"""The admin shapes a process without a developer: a new pipeline, a gated stage with a checklist
item, in the settings pages; then a rep's deal is refused by the gate on the board and passes once
the item is ticked."""
import pytest
from django.urls import reverse
from playwright.sync_api import expect

from crm.tests.factories import CustomerFactory
from sales import services
from sales.models import Opportunity, Pipeline

from .pages import DESKTOP, sign_in
from .test_sales_board import drag

pytestmark = pytest.mark.browser


def test_an_admin_configures_a_gated_stage_that_a_rep_then_meets(demo_company, open_page, screenshot, live_server,
                                                                 console_errors):
    page = open_page(DESKTOP)
    sign_in(page, "director")
    page.goto(reverse("settings:sales:pipelines"))
    page.locator("[data-testid=new-pipeline]").click()
    form = page.locator("[data-testid=pipeline-form]")
    form.locator("input[name=name]").fill("渠道销售")
    form.locator("button[type=submit]").click()
    expect(page.locator("[data-testid=new-stage]")).to_be_visible()
    pipeline = Pipeline.objects.get(name="渠道销售")

    page.locator("[data-testid=new-stage]").click()
    form = page.locator("[data-testid=stage-form]")
    form.locator("input[name=name]").fill("方案评审")
    form.locator("input[name=probability]").fill("40")
    form.locator("input[name=stale_after_days]").fill("14")
    form.locator("button[type=submit]").click()
    stage = page.locator("#stage-list li", has_text="方案评审")
    stage.locator("[data-testid=add-gate-item]").click()
    form = page.locator("[data-testid=gate-item-form]")
    form.locator("input[name=label]").fill("财务评审")
    form.locator("button[type=submit]").click()
    expect(page.locator("#stage-list li", has_text="方案评审").locator("[data-testid=gate-items]")).to_contain_text(
        "财务评审")
    screenshot(page, "sales-settings-gated-stage-1280")

    rep = demo_company["rep_sh"]
    customer = CustomerFactory(owner=rep, name="上海闵行渠道商")
    deal = services.opportunity_create(by=rep, customer=customer, pipeline=pipeline, name="渠道首单")
    page.context.clear_cookies()
    sign_in(page, "rep_sh")
    page.goto(reverse("sales:board", args=[pipeline.pk]))
    first = page.locator("[data-testid=board] section").first
    review = page.locator("[data-testid='column-方案评审']")
    drag(page, first.locator("[data-testid=card]", has_text="渠道首单"), review.locator(".board-cards"))
    expect(review.locator("[data-testid=gate-message]")).to_contain_text("财务评审")
    assert Opportunity.objects.get(pk=deal.pk).stage.name != "方案评审"

    page.goto(reverse("sales:opportunity_detail", args=[deal.pk]))
    page.locator("[data-testid=gate-item]", has_text="财务评审").locator("[data-testid=tick]").click()
    expect(page.locator("[data-testid=gate-item]", has_text="财务评审").locator(".bi-check-square-fill")).to_be_visible()
    page.goto(reverse("sales:board", args=[pipeline.pk]))
    review = page.locator("[data-testid='column-方案评审']")
    drag(page, page.locator("[data-testid=card]", has_text="渠道首单"), review.locator(".board-cards"))
    expect(review.locator("[data-testid=card]", has_text="渠道首单")).to_be_visible()
    expect(review.locator("[data-testid=count]")).to_have_text("1")  # the board as the server re-drew it
    assert Opportunity.objects.get(pk=deal.pk).stage.name == "方案评审"
    assert [e for e in console_errors if "status of 422" not in e] == []
