"""An admin builds a working calendar with a lunch break in the settings, checks a deadline, pastes a
调休 Saturday and sees the deadline move; the pages on a phone. Screenshots in
artifacts/screenshots/service-calendar-*.png."""
import pytest
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
