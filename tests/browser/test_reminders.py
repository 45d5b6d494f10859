"""A rep sees the bell's count, opens the reminder, lands on the customer, logs the follow-up, and
after the next scan the reminder has stopped (the count drops). The bell, the centre and the admins'
reminder pages at 1280 and 390 px (screenshots in artifacts/screenshots/)."""
import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from crm import services
from crm.models import EmailDelivery, Notification
from crm.notifications import RULES
from crm.selectors import notifications_unread_count
from crm.tests.factories import CustomerFactory

from .pages import DESKTOP, horizontal_overflow, sign_in

pytestmark = pytest.mark.browser

PHONE_390 = {"width": 390, "height": 844}
NAME = "上海提醒演示客户有限公司"


@pytest.fixture
def reminder(demo_company):
    """A follow-up of rep_sh's that came due an hour ago, and the scan that raised its reminder."""
    rep = demo_company["rep_sh"]
    services.notifications_scan()  # the demo's first scan (its own reminders, grouped where many)
    customer = CustomerFactory(owner=rep, name=NAME, next_followup_at=timezone.now() - datetime.timedelta(hours=1))
    services.notifications_scan()  # one more due: raised by itself
    return Notification.objects.get(rule="followup_due", object_id=customer.pk)


def bell_count(page):
    return int(page.locator("[data-testid=bell-count]").inner_text().rstrip("+"))


@pytest.mark.parametrize("viewport, width", [(DESKTOP, 1280), (PHONE_390, 390)])
def test_the_reminder_stops_once_the_follow_up_is_logged(reminder, demo_company, open_page, console_errors,
                                                         screenshot, viewport, width):
    rep = demo_company["rep_sh"]
    before = notifications_unread_count(rep)
    page = open_page(viewport)
    sign_in(page, "rep_sh")
    expect(page.locator("[data-testid=bell-count]")).to_have_text(str(before) if before < 100 else "99+")
    assert horizontal_overflow(page) == 0
    page.screenshot(path=screenshot(page, f"reminders-bell-{width}"))  # the top bar as one sees it

    page.locator("[data-testid=bell]").click()
    expect(page).to_have_url(f"{page.url.split('/notifications/')[0]}/notifications/")
    assert horizontal_overflow(page) == 0
    page.screenshot(path=screenshot(page, f"reminders-centre-{width}"))  # the first screen of a long list
    # The demo company has many reminders: the rep narrows the list to follow-ups due.
    page.locator("[data-testid=rule-filter]").select_option("followup_due")
    page.locator("[data-testid=notification-filters] button[type=submit]").click()
    item = page.locator(f"[data-testid=notification][data-pk='{reminder.pk}']")
    expect(item).to_contain_text(NAME)

    item.locator("[data-testid=notification-link]").click()
    expect(page).to_have_url(f"{page.url.split('/customers/')[0]}/customers/{reminder.object_id}/")
    expect(page.locator("main h1")).to_have_text(NAME)
    buttons = "[data-testid=sticky-followup]" if width < 992 else "[data-testid=customer-actions]"
    page.locator(f"{buttons} [data-testid=log-followup]").click()
    modal = page.locator("#crm-modal")
    modal.locator("[data-testid=followup-summary]").fill("已电话联系，约下周拜访")
    modal.locator("[data-testid=followup-save]").click()
    expect(modal).to_be_hidden()

    services.notifications_scan()  # what beat runs every five minutes
    page.reload()
    after = notifications_unread_count(rep)
    assert after == before - 1
    expect(page.locator("[data-testid=bell-count]")).to_have_text(str(after) if after < 100 else "99+")
    reminder.refresh_from_db()
    assert reminder.resolved_at is not None and reminder.read_at is not None
    page.goto(reverse("notifications:list"))
    expect(page.locator(f"[data-testid=notification][data-pk='{reminder.pk}']")).to_have_count(0)
    assert console_errors == []


@pytest.mark.parametrize("viewport, width", [(DESKTOP, 1280), (PHONE_390, 390)])
def test_a_group_of_reminders_opens_the_list_of_exactly_its_customers(demo_company, open_page, console_errors,
                                                                      screenshot, viewport, width):
    rep = demo_company["rep_sh"]
    services.notifications_scan()
    names = [f"久未跟进演示客户{i}" for i in range(8)]
    for name in names:
        CustomerFactory(owner=rep, tier="B", name=name, last_followup_at=timezone.now() - datetime.timedelta(days=10))
    services.notifications_scan()  # eight at once: one reminder
    group = Notification.objects.filter(rule="not_followed_up", recipient=rep, is_group=True).latest("pk")
    page = open_page(viewport)
    sign_in(page, "rep_sh")
    page.goto(reverse("notifications:list"))
    item = page.locator(f"[data-testid=notification][data-pk='{group.pk}']")
    expect(item).to_contain_text("8 位客户超过 7 天未跟进")
    assert horizontal_overflow(page) == 0
    screenshot(page, f"reminders-group-{width}")

    item.locator("[data-testid=notification-link]").click()
    expect(page.locator("[data-testid=reminder-filter]")).to_be_visible()
    table = page.locator("[data-testid=customer-table]")
    for name in names:
        expect(table).to_contain_text(name)
    expect(table.locator("tbody tr[data-customer]")).to_have_count(len(names))
    assert horizontal_overflow(page) == 0
    screenshot(page, f"reminders-group-list-{width}")
    assert console_errors == []


@pytest.mark.parametrize("viewport, width", [(DESKTOP, 1280), (PHONE_390, 390)])
def test_the_admin_pages_read_well(reminder, demo_company, open_page, console_errors, screenshot, viewport, width):
    EmailDelivery.objects.create(kind="notification", user=reminder.recipient, notification=reminder, status="failed",
                                 attempts=5, next_attempt_at=timezone.now(), created_at=timezone.now(),
                                 last_error="SMTPServerDisconnected: Connection unexpectedly closed")
    page = open_page(viewport)
    sign_in(page, "admin")
    page.goto(reverse("settings:reminders:rules"))
    expect(page.locator("[data-testid=notification-rules] [data-rule]")).to_have_count(len(RULES))  # every app's
    assert horizontal_overflow(page) == 0
    page.screenshot(path=screenshot(page, f"reminders-settings-rules-{width}"))
    page.goto(reverse("settings:reminders:rule_edit", args=["not_followed_up"]))
    expect(page.locator("[data-testid=rule-form] input[name=days_a]")).to_have_value("3")
    screenshot(page, f"reminders-settings-rule-{width}")
    page.goto(reverse("settings:reminders:failures"))
    expect(page.locator("[data-testid=email-failure]")).to_have_count(1)
    assert horizontal_overflow(page) == 0
    screenshot(page, f"reminders-settings-failures-{width}")
    page.goto(reverse("notifications:preferences"))
    assert horizontal_overflow(page) == 0
    screenshot(page, f"reminders-preferences-{width}")
    assert console_errors == []
