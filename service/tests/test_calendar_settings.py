"""The working calendars in the settings area (/settings/service/): an admin builds a calendar with a
lunch break, pastes a year's holidays and 调休 days, and the deadline checker moves with them; bad
input is refused in the admin's language with nothing written; only holders of
service.settings:manage get in (the settings grid in tests/test_settings_area.py walks every URL)."""
import datetime

import pytest
from django.urls import reverse

from service.models import CalendarDay, WorkCalendar, WorkWindow
from service.seed import DEFAULT_CALENDAR, seed_default_calendar

pytestmark = pytest.mark.django_db


@pytest.fixture
def default_calendar():
    return seed_default_calendar(WorkCalendar, WorkWindow, CalendarDay)


def week_form(**days):
    data = {"name": "上海客服中心", "time_zone": "Asia/Shanghai", **{f"day_{n}": "" for n in range(7)}}
    data.update({f"day_{n}": spans for n, spans in days.items()})
    return data


def create(client, **extra):
    form = week_form(**{"0": "09:00-12:00, 13:30-18:00", "1": "9:00–12:00，13:30-18:00", "2": "09:00-12:00 13:30-18:00",
                        "3": "09:00-12:00, 13:30-18:00", "4": "09:00-12:00, 13:30-17:00"})
    form.update(extra)
    return client.post(reverse("settings:service:calendar_create"), form)


def test_an_admin_builds_a_calendar_with_a_lunch_break(client_for, admin, default_calendar):
    client = client_for(admin)
    response = create(client)
    calendar = WorkCalendar.objects.get(name="上海客服中心")
    assert response.status_code == 302 and response.url == reverse("settings:service:calendar", args=[calendar.pk])
    assert list(calendar.windows.filter(weekday=1).values_list("start", "end")) == [
        (datetime.time(9), datetime.time(12)), (datetime.time(13, 30), datetime.time(18))]
    assert calendar.windows.get(weekday=4, start=datetime.time(13, 30)).end == datetime.time(17)
    assert not calendar.windows.filter(weekday__in=[5, 6]).exists()
    assert not calendar.is_default and WorkCalendar.objects.get(is_default=True) == default_calendar
    page = client.get(reverse("settings:service:calendars")).content.decode()
    assert "上海客服中心" in page and DEFAULT_CALENDAR in page


@pytest.mark.parametrize("spans, message", [
    ("09:00-12:00, 11:00-18:00", "重叠"),
    ("18:00-09:00", "结束时间早于开始时间"),
    ("上午", "不是"),
    ("25:00-26:00", "不是"),
])
def test_hours_it_cannot_read_are_refused_and_nothing_is_written(client_for, admin, spans, message):
    response = client_for(admin).post(reverse("settings:service:calendar_create"), week_form(**{"0": spans}))
    assert response.status_code == 200 and message in response.content.decode()
    assert not WorkCalendar.objects.filter(name="上海客服中心").exists()


def test_a_calendar_needs_working_hours_and_a_name_of_its_own(client_for, admin, default_calendar):
    client = client_for(admin)
    assert "至少" in client.post(reverse("settings:service:calendar_create"), week_form()).content.decode()
    response = create(client, name=DEFAULT_CALENDAR)
    assert response.status_code == 200 and WorkCalendar.objects.filter(name=DEFAULT_CALENDAR).count() == 1


def test_the_default_moves_to_the_calendar_made_default(client_for, admin, default_calendar):
    create(client_for(admin), is_default="on")
    assert list(WorkCalendar.objects.filter(is_default=True).values_list("name", flat=True)) == ["上海客服中心"]


def check(client, calendar, start, amount, unit="hours"):
    response = client.get(reverse("settings:service:calendar", args=[calendar.pk]),
                          {"start": start, "amount": amount, "unit": unit})
    assert response.status_code == 200
    return response.context["due"]["due"].isoformat()


def test_a_pasted_make_up_saturday_moves_a_deadline(client_for, admin):
    client = client_for(admin)
    create(client)
    calendar = WorkCalendar.objects.get(name="上海客服中心")
    # Friday 2030-10-11 16:00, 3 working hours: one on Friday (until 17:00), two on Monday.
    assert check(client, calendar, "2030-10-11T16:00", 3) == "2030-10-14T11:00:00+08:00"
    response = client.post(reverse("settings:service:days_add", args=[calendar.pk]), {
        "lines": "2030-10-01~2030-10-07 放假 国庆节\n\n2030-10-12 上班 国庆节"})
    assert response.status_code == 302 and response.url.endswith("?year=2030")
    assert calendar.days.filter(kind="holiday").count() == 7
    assert calendar.days.get(date=datetime.date(2030, 10, 12)).kind == "workday"
    # Pasted again with a change, a date is replaced, not doubled; a date given twice counts once.
    client.post(reverse("settings:service:days_add", args=[calendar.pk]), {
        "lines": "2030-10-07 上班 国庆节\n2030-10-07 放假 国庆节"})
    assert calendar.days.filter(date=datetime.date(2030, 10, 7)).get().kind == "holiday"
    # Now Saturday 10-12 is worked, with the hours of Monday.
    assert check(client, calendar, "2030-10-11T16:00", 3) == "2030-10-12T11:00:00+08:00"
    assert check(client, calendar, "2030-09-30T10:00", 1, "workdays") == "2030-10-08T18:00:00+08:00"
    page = client.get(reverse("settings:service:calendar", args=[calendar.pk]), {"year": 2030}).content.decode()
    assert page.count('data-testid="day"') == 8


def test_lines_it_cannot_read_are_refused_with_their_numbers_and_nothing_is_saved(client_for, admin, default_calendar):
    client = client_for(admin)
    response = client.post(reverse("settings:service:days_add", args=[default_calendar.pk]), {
        "lines": "2031-01-01 放假 元旦\n2031-13-01 放假 错误\n2031-02-01 休假吗 春节"}, follow=True)
    page = response.content.decode()
    assert "第 2 行" in page and "第 3 行" in page
    assert not default_calendar.days.filter(date__year=2031).exists()


def test_a_date_taken_off_follows_the_week_again(client_for, admin, default_calendar):
    day = default_calendar.days.get(date=datetime.date(2026, 10, 1))
    client = client_for(admin)
    response = client.post(reverse("settings:service:day_delete", args=[default_calendar.pk, day.pk]))
    assert response.status_code == 302 and not CalendarDay.objects.filter(pk=day.pk).exists()
    other = WorkCalendar.objects.create(name="其他")
    assert client.post(reverse("settings:service:day_delete", args=[other.pk, day.pk])).status_code == 404
    client.post(reverse("settings:service:official_days_add", args=[default_calendar.pk]))
    assert default_calendar.days.filter(date=datetime.date(2026, 10, 1)).exists()


@pytest.mark.dates
def test_it_warns_when_next_year_has_no_holidays(client_for, admin, default_calendar, time_machine):
    time_machine.move_to(datetime.datetime(2026, 12, 7, 10, tzinfo=datetime.UTC))
    client = client_for(admin)
    assert 'data-testid="missing-year"' in client.get(
        reverse("settings:service:calendar", args=[default_calendar.pk])).content.decode()
    CalendarDay.objects.create(calendar=default_calendar, date=datetime.date(2027, 1, 1), kind="holiday", name="元旦")
    assert 'data-testid="missing-year"' not in client.get(
        reverse("settings:service:calendar", args=[default_calendar.pk])).content.decode()


def test_the_pages_keep_to_a_few_queries(client_for, admin, default_calendar, django_assert_max_num_queries):
    client = client_for(admin)
    for _ in range(3):
        WorkCalendar.objects.create(name=f"日历{_}").windows.create(weekday=0, start="09:00", end="18:00")
    with django_assert_max_num_queries(12):
        assert client.get(reverse("settings:service:calendars")).status_code == 200
    with django_assert_max_num_queries(14):
        assert client.get(reverse("settings:service:calendar", args=[default_calendar.pk]),
                          {"start": "2026-09-30T16:00", "amount": "3", "unit": "workdays"}).status_code == 200


@pytest.mark.parametrize("persona", ["rep_east", "manager_east", "director", "it_importer"])
def test_nobody_without_the_capability_gets_in_or_changes_anything(client_for, person, persona, default_calendar):
    client = client_for(person(persona))
    for url in (reverse("settings:service:calendars"), reverse("settings:service:calendar", args=[default_calendar.pk])):
        assert client.get(url).status_code == 403
    response = client.post(reverse("settings:service:days_add", args=[default_calendar.pk]),
                           {"lines": "2031-01-01 放假 元旦"})
    assert response.status_code == 403 and not default_calendar.days.filter(date__year=2031).exists()


@pytest.mark.parametrize("start", ["9999-12-31T10:00", "0001-01-01T00:00", "2026-02-30T10:00"])
def test_a_start_the_checker_cannot_use_is_a_message_not_an_error(client_for, admin, default_calendar, start):
    response = client_for(admin).get(reverse("settings:service:calendar", args=[default_calendar.pk]),
                                     {"start": start, "amount": "3", "unit": "workdays"})
    assert response.status_code == 200 and response.context["due"] is None
    assert response.context["checker"].errors["start"]


def test_dates_outside_the_years_the_system_keeps_are_refused(client_for, admin, default_calendar):
    response = client_for(admin).post(reverse("settings:service:days_add", args=[default_calendar.pk]),
                                      {"lines": "9999-12-31 放假 世界末日"})
    assert response.status_code == 200 and "第 1 行" in response.content.decode()
    assert not default_calendar.days.filter(date__year=9999).exists()
    # What was pasted is still there to be corrected.
    assert "9999-12-31 放假 世界末日" in response.content.decode()
