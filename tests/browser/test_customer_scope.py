"""A sales rep sees the customers of their own branch; another branch's customer does not exist
for them (404, and nothing of it on the page)."""
import pytest
from playwright.sync_api import expect

from crm.models import Customer

from .pages import sign_in

pytestmark = pytest.mark.browser


def test_it_shows_a_customer_of_the_reps_own_branch(demo_company, open_page):
    customer = Customer.objects.get(name="上海申通物流有限公司")  # rep_sh's branch: 上海分公司
    page = open_page()
    sign_in(page, "rep_sh")

    response = page.goto(customer.get_absolute_url())

    assert response.status == 200
    expect(page.locator("main h1")).to_have_text(customer.name)


def test_it_answers_404_for_another_branchs_customer(demo_company, open_page, screenshot):
    customer = Customer.objects.get(name="北京燕京建材有限公司")  # rep_bj's, 北京分公司
    page = open_page()
    sign_in(page, "rep_sh")

    response = page.goto(customer.get_absolute_url())

    assert response.status == 404
    assert customer.name not in page.content()
    screenshot(page, "rep_sh-404-1280")
    page.goto("/customers/")
    expect(page.locator("[data-testid=customer-table]")).not_to_contain_text(customer.name)
    expect(page.locator("[data-testid=customer-table]")).to_contain_text("上海申通物流有限公司")
