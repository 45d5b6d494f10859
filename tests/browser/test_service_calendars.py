"""An admin builds a working calendar with a lunch break in the settings, checks a deadline, pastes a
调休 Saturday and sees the deadline move; the pages on a phone. Then, with a real Celery worker, the
same edits move an open ticket's stored deadline, seen on the ticket's page. Screenshots in
artifacts/screenshots/service-calendar-*.png."""
import datetime
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from playwright.sync_api import expect

from service.models import CalendarDay, WorkCalendar, WorkWindow
from service.seed import seed_default_calendar

from .pages import horizontal_overflow, sign_in
from .test_layout import _switch_language

pytestmark = pytest.mark.browser


def _check(page, start, hours):
    checker = page.locator("[data-testid=checker]")
    checker.locator("input[name=start]").fill(start)
    checker.locator("input[name=amount]").fill(str(hours))
    checker.locator("select[name=unit]").select_option("hours")
    checker.locator("button[type=submit]").click()
    return page.locator("[data-testid=due] [data-due]").get_attribute("data-due")


def test_an_admin_builds_a_calendar_and_a_make_up_saturday_moves_a_deadline(demo_company, open_page, screenshot):
    seed_default_calendar(WorkCalendar, WorkWindow, CalendarDay)
    page = open_page({"width": 1280, "height": 900})
    sign_in(page, "admin")
    page.goto("/settings/")
    page.get_by_role("link", name="工作日历").first.click()
    expect(page.locator("[data-testid=calendar]")).to_have_count(1)
    screenshot(page, "service-calendar-list")
    page.locator("[data-testid=new-calendar]").click()
    form = page.locator("[data-testid=calendar-form]")
    form.locator("input[name=name]").fill("上海客服中心")
    for day in range(5):
        form.locator(f"input[name=day_{day}]").fill("09:00-12:00，13:30-18:00")
    form.locator("input[name=day_2]").fill("09:00-12:00, 11:30-18:00")  # overlapping: refused
    form.locator("button[type=submit]").click()
    expect(page.locator(".invalid-feedback")).to_contain_text("重叠")
    page.locator("input[name=day_2]").fill("09:00-12:00, 13:30-18:00")
    screenshot(page, "service-calendar-form")
    page.locator("[data-testid=calendar-form] button[type=submit]").click()
    expect(page.locator("h1")).to_contain_text("上海客服中心")
    expect(page.locator("[data-testid=week]")).to_contain_text("13:30-18:00")

    # Friday 2030-10-11 16:00 + 3 working hours: two on Friday, one on Monday.
    assert _check(page, "2030-10-11T16:00", 3) == "2030-10-14T10:00:00+08:00"
    page.locator("[data-testid=days-form] textarea").fill("2030-10-01~2030-10-07 放假 国庆节\n2030-10-12 上班 国庆节")
    page.locator("[data-testid=days-form] button[type=submit]").click()
    expect(page.locator("[data-testid=day]")).to_have_count(8)
    expect(page.locator("[data-testid=day][data-date='2030-10-12']")).to_contain_text("调休上班日")
    # Now the 调休 Saturday is worked: the deadline comes two days sooner.
    assert _check(page, "2030-10-11T16:00", 3) == "2030-10-12T10:00:00+08:00"
    screenshot(page, "service-calendar-detail")
    assert horizontal_overflow(page) <= 0

    page.set_viewport_size({"width": 375, "height": 812})
    page.reload()
    assert horizontal_overflow(page) <= 0
    screenshot(page, "service-calendar-detail-phone")

    _switch_language(page, "en")
    expect(page.locator("[data-testid=day][data-date='2030-10-12']")).to_contain_text("Make-up working day")
    expect(page.locator("[data-testid=days-form]")).to_contain_text("Holidays and make-up working days")
    screenshot(page, "service-calendar-detail-phone-en")
    assert horizontal_overflow(page) <= 0


def test_an_admin_adds_an_sla_policy_and_moves_it_up(demo_company, open_page, screenshot):
    from service.models import SlaPolicy, TicketType
    from service.seed import seed_service_desk

    seed_default_calendar(WorkCalendar, WorkWindow, CalendarDay)
    seed_service_desk(TicketType, SlaPolicy)
    page = open_page({"width": 1280, "height": 900})
    sign_in(page, "admin")
    page.goto("/settings/service/sla-policies/")
    expect(page.locator("[data-testid=policy]")).to_have_count(4)
    page.locator("[data-testid=new-policy]").click()
    form = page.locator("[data-testid=policy-form]")
    form.locator("input[name=name]").fill("微信渠道")
    form.get_by_label("微信").check()
    form.locator("input[name=first_response]").fill("1")
    form.locator("input[name=resolution]").fill("1.5")
    form.locator("select[name=resolution_unit]").select_option("working_days")
    form.locator("button[type=submit]").click()
    expect(page.locator(".invalid-feedback")).to_contain_text("工作日须为整数")
    page.locator("input[name=resolution]").fill("2")
    screenshot(page, "service-policy-form")
    page.locator("[data-testid=policy-form] button[type=submit]").click()
    rows = page.locator("[data-testid=policy]")
    expect(rows).to_have_count(5)
    expect(rows.last).to_contain_text("微信渠道")
    rows.last.get_by_role("button", name="上移").click()
    expect(page.locator("[data-testid=policy]").nth(3)).to_contain_text("微信渠道")
    screenshot(page, "service-policies")
    page.set_viewport_size({"width": 375, "height": 812})
    page.reload()
    assert horizontal_overflow(page) <= 0
    screenshot(page, "service-policies-phone")


def _resolution_due_becomes(page, url, expected, worker, seconds=60):
    """Open the ticket's page until it shows `expected` as its resolution deadline (the worker works it
    out after the save); fail with the end of the worker's log if it never does."""
    shown = ""
    for _ in range(seconds * 2):
        page.goto(url)
        shown = page.locator("[data-testid=resolution-due]").inner_text().strip()
        if shown.startswith(expected):
            return
        page.wait_for_timeout(500)
    worker["log"].seek(0)
    pytest.fail(f"resolution due {shown!r}, expected {expected}\n{worker['log'].read()[-3000:]}")


@pytest.mark.worker
def test_a_lunch_break_and_a_make_up_saturday_move_an_open_tickets_deadline(demo_company, celery_worker_process,
                                                                               open_page, screenshot):
    """An A-tier customer's fault opened Thursday 2030-10-10 10:00 (24 working hours to resolve; a year
    without official days): on the seeded calendar (lunch 12:00–13:30) due Tuesday 11:30; on the admin's
    new default calendar with a one-hour lunch, Tuesday 10:00; with its 调休 Saturday, Monday 10:00."""
    from crm.tests.factories import CustomerFactory
    from service import services
    from service.models import SlaPolicy, TicketType
    from service.seed import seed_service_desk
    from service.selectors import open_tickets_on

    seed_default_calendar(WorkCalendar, WorkWindow, CalendarDay)
    seed_service_desk(TicketType, SlaPolicy)
    customer = CustomerFactory(name="华东重工集团", owner=demo_company["admin"], tier="A")
    opened = datetime.datetime(2030, 10, 10, 10, tzinfo=ZoneInfo("Asia/Shanghai"))
    with time_machine.travel(opened, tick=False):
        ticket = services.ticket_create(by=None, customer=customer, subject="主轴异响", channel="web",
                                        type=TicketType.objects.get(name="故障"), author_name="李工")
    on_the_default = open_tickets_on(default=True).count()

    page = open_page({"width": 1280, "height": 900})
    sign_in(page, "admin")
    page.goto(ticket.get_absolute_url())
    expect(page.locator("[data-testid=resolution-due]")).to_have_text("2030-10-15 11:30")
    screenshot(page, "service-calendar-ticket-before")

    page.goto("/settings/service/")
    page.locator("[data-testid=new-calendar]").click()
    form = page.locator("[data-testid=calendar-form]")
    form.locator("input[name=name]").fill("上海客服中心")
    for day in range(5):
        form.locator(f"input[name=day_{day}]").fill("09:00-12:00, 13:00-18:00")
    form.locator("input[name=is_default]").check()
    form.locator("button[type=submit]").click()
    expect(page.locator("h1")).to_contain_text("上海客服中心")
    told = page.locator(".messages")
    expect(told).to_contain_text(re.compile(rf"\b{on_the_default} (open tickets?|个未结工单)"))
    screenshot(page, "service-calendar-recalculating")
    _resolution_due_becomes(page, ticket.get_absolute_url(), "2030-10-15 10:00", celery_worker_process)

    page.goto("/settings/service/")
    page.locator("[data-testid=calendar]", has_text="上海客服中心").get_by_role("link").first.click()
    page.locator("[data-testid=days-form] textarea").fill("2030-10-12 上班 国庆节")
    page.locator("[data-testid=days-form] button[type=submit]").click()
    expect(page.locator("[data-testid=day][data-date='2030-10-12']")).to_contain_text("调休上班日")
    expect(page.locator(".messages")).to_contain_text(re.compile(rf"\b{on_the_default} (open tickets?|个未结工单)"))
    _resolution_due_becomes(page, ticket.get_absolute_url(), "2030-10-14 10:00", celery_worker_process)
    timeline = page.locator("[data-testid=entry-changed]")
    expect(timeline).to_have_count(2)
    expect(timeline.last).to_contain_text("2030-10-15 10:00")
    expect(timeline.last).to_contain_text("2030-10-14 10:00")
    screenshot(page, "service-calendar-ticket-after")
