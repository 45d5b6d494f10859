"""A regional manager finds a duplicate while editing a customer, merges the two and undoes it,
on a desktop and on a phone."""
import pytest
from django.urls import reverse
from playwright.sync_api import expect

from crm.models import Contact, Customer, CustomerMerge
from crm.tests.factories import ContactFactory, CustomerFactory, FollowUpFactory

from .pages import DESKTOP, PHONE, horizontal_overflow, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def duplicates(demo_company):
    """The same company entered twice in 上海分公司, by two reps."""
    a = CustomerFactory(name="上海明珠物流有限公司", owner=demo_company["rep_sh"], email="info@mingzhu.cn",
                        tier="A", tags=["重点"], notes="2019 年起合作")
    b = CustomerFactory(name="上海明珠物流有限责任公司", owner=demo_company["rep_sh2"], mobile="+8613812345678",
                        tier="B", tags=["物流"], notes="展会上认识的，需求是冷链运输")
    ContactFactory(customer=a, name="张经理", is_primary=True)
    ContactFactory(customer=b, name="李主管", is_primary=True, mobile="+8613900001111")
    FollowUpFactory(customer=b, summary="电话沟通冷链需求")
    return a, b


def test_it_merges_two_duplicates_found_while_editing_and_undoes_it(duplicates, open_page, screenshot,
                                                                    live_server, console_errors):
    a, b = duplicates
    page = open_page(DESKTOP)
    sign_in(page, "manager_east")

    page.goto(reverse("crm:customer_edit", args=[a.pk]))
    name = page.locator("form[data-testid=customer-form] input[name=name]")
    name.fill("上海明珠物流有限责任公司")
    name.dispatch_event("change")
    alert = page.locator("[data-testid=duplicates-alert]")
    expect(alert).to_contain_text(b.name)
    screenshot(page, "merge-duplicate-warning-1280")

    alert.locator("[data-testid=duplicate-merge]").click()
    expect(page.locator("[data-testid=merge-form]")).to_be_visible()
    expect(page.locator(f"input[name=survivor][value='{a.pk}']")).to_be_checked()
    page.locator(f"input[name=value_mobile][value='{b.pk}']").check()
    page.locator("input[name=value_notes][value=concat]").check()
    assert horizontal_overflow(page) <= 0
    screenshot(page, "merge-chooser-1280")
    page.locator("[data-testid=merge-submit]").click()

    expect(page).to_have_url(live_server.url + a.get_absolute_url())
    expect(page.locator("[data-testid=merge-done]")).to_be_visible()
    screenshot(page, "merge-done-1280")
    a.refresh_from_db()
    b.refresh_from_db()
    assert b.merged_into_id == a.pk and b.archived_at is not None
    assert a.mobile == "+8613812345678" and a.tags == ["物流", "重点"] and "冷链运输" in a.notes
    assert set(Contact.objects.filter(customer=a).values_list("name", flat=True)) == {"张经理", "李主管"}

    page.locator("[data-testid=merge-undo]").click()

    expect(page).to_have_url(live_server.url + a.get_absolute_url())
    expect(page.locator("[data-testid=merge-done]")).to_have_count(0)
    screenshot(page, "merge-undone-1280")
    a.refresh_from_db()
    b.refresh_from_db()
    assert b.merged_into_id is None and b.archived_at is None
    assert a.mobile == "" and a.notes == "2019 年起合作" and a.tags == ["重点"]
    assert list(Contact.objects.filter(customer=b).values_list("name", flat=True)) == ["李主管"]
    assert CustomerMerge.objects.get().undone_at is not None
    assert console_errors == []


def test_it_merges_and_undoes_on_a_phone(duplicates, open_page, screenshot, live_server, console_errors):
    a, b = duplicates
    page = open_page(PHONE)
    sign_in(page, "manager_east")

    page.goto(f"{reverse('crm:customer_merge')}?ids={b.pk}&ids={a.pk}")

    expect(page.locator("[data-testid=merge-form]")).to_be_visible()
    assert horizontal_overflow(page) <= 0
    # Stacked per field: each option is as wide as the screen, one under the other.
    options = page.locator("fieldset[data-field=mobile] .form-check").all()
    boxes = [option.bounding_box() for option in options]
    assert len(boxes) == 2 and boxes[1]["y"] > boxes[0]["y"] and boxes[0]["width"] > 300
    screenshot(page, "merge-chooser-375")
    page.locator(f"input[name=value_email][value='{a.pk}']").check()
    page.locator("[data-testid=merge-submit]").click()

    expect(page).to_have_url(live_server.url + b.get_absolute_url())
    expect(page.locator("[data-testid=merge-undo]")).to_be_visible()
    assert horizontal_overflow(page) <= 0
    screenshot(page, "merge-done-375")
    b.refresh_from_db()
    assert b.email == "info@mingzhu.cn"
    assert Customer.objects.get(pk=a.pk).merged_into_id == b.pk

    page.locator("[data-testid=merge-undo]").click()

    expect(page).to_have_url(live_server.url + b.get_absolute_url())
    screenshot(page, "merge-undone-375")
    assert Customer.objects.get(pk=a.pk).merged_into_id is None
    b.refresh_from_db()
    assert b.email == ""
    assert console_errors == []
