"""`manage.py sla_due` on the seeded default calendar 中国大陆标准工作日 (the official days of the
chinese-calendar package) and on a calendar an admin made."""
import datetime
import io
import re

import pytest
from django.core.management import CommandError, call_command
from django.utils.translation import gettext_lazy as _

from service.models import CalendarDay, WorkCalendar, WorkWindow
from service.seed import DEFAULT_CALENDAR, seed_default_calendar

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def default_calendar():
    """The migration seeds it; a test that empties the database (another module's) takes it away."""
    calendar = seed_default_calendar(WorkCalendar, WorkWindow, CalendarDay)
    assert seed_default_calendar(WorkCalendar, WorkWindow, CalendarDay) == calendar  # run again: nothing added
    return calendar


def sla_due(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("sla_due", *args, stdout=out, stderr=err)
    return out.getvalue().strip().splitlines()[-1], err.getvalue()


def test_the_default_calendar_is_seeded_with_office_hours_and_the_official_days():
    calendar = WorkCalendar.objects.get(is_default=True)
    assert calendar.name == DEFAULT_CALENDAR and calendar.time_zone == "Asia/Shanghai"
    assert sorted(calendar.windows.values_list("weekday", "start", "end")) == [
        (day, start, end) for day in range(5)
        for start, end in ((datetime.time(9), datetime.time(12)), (datetime.time(13, 30), datetime.time(18)))]
    national_day = calendar.days.get(date=datetime.date(2026, 10, 1))
    assert (national_day.kind, national_day.name, national_day.name_en) == ("holiday", "国庆节", "National Day")
    assert calendar.days.get(date=datetime.date(2026, 9, 20)).kind == CalendarDay.Kind.WORKDAY  # a 调休 Sunday
    assert calendar.days.filter(date__year=2004).exists()


@pytest.mark.parametrize("args, due", [
    # Friday 10:00: 6.5 hours that day; Saturday off; Sunday 09-20 is a 调休 working day.
    (["--start", "2026-09-18T10:00", "--hours", "8"], "2026-09-20T10:30:00+08:00"),
    (["--start", "2026-09-18T02:00:00Z", "--hours", "8"], "2026-09-20T10:30:00+08:00"),  # the same start in UTC
    (["--start", "2026-09-18T10:00+08:00", "--hours", "2"], "2026-09-18T12:00:00+08:00"),  # at a window's end
    # National Day 10-01…07; 10-08, 10-09 and the 调休 Saturday 10-10 are the three working days after.
    (["--start", "2026-09-30T16:00", "--workdays", "3"], "2026-10-10T18:00:00+08:00"),
    (["--start", "2026-10-02T09:00", "--hours", "1.5"], "2026-10-08T10:30:00+08:00"),  # started on a holiday
    # Paused from Friday evening over the weekend to Monday 10:00: the clock runs Monday 10:00–12:00.
    (["--start", "2026-09-25T18:00", "--hours", "2", "--pause", "2026-09-25T17:00/2026-09-28T10:00"],
     "2026-09-28T12:00:00+08:00"),
    (["--start", "2026-09-28T09:00", "--hours", "4", "--pause", "2026-09-28T09:00/2026-09-28T10:00",
      "--pause", "2026-09-28T13:30/2026-09-28T14:00"], "2026-09-28T16:00:00+08:00"),  # two pauses
])
def test_it_prints_the_deadline_on_its_last_line(args, due):
    assert sla_due(*args) == (due, "")


def test_it_uses_the_calendar_named_and_its_zone():
    berlin = WorkCalendar.objects.create(name="Berlin office", time_zone="Europe/Berlin")
    WorkWindow.objects.bulk_create(WorkWindow(calendar=berlin, weekday=day, start=datetime.time(9),
                                              end=datetime.time(17)) for day in range(5))
    CalendarDay.objects.create(calendar=berlin, date=datetime.date(2026, 12, 25), kind="holiday", name="Weihnachten")
    due, warning = sla_due("--calendar", "Berlin office", "--start", "2026-12-24T16:00", "--workdays", "1")
    assert due == "2026-12-28T17:00:00+01:00"
    assert "2027" not in warning


def test_it_warns_when_a_year_of_the_clock_has_no_holidays():
    due, warning = sla_due("--start", "2040-12-28T10:00", "--workdays", "5")
    assert due.startswith("2041-01-") and "2040" in warning and "2041" in warning


@pytest.mark.parametrize("args, message", [
    (["--start", "yesterday", "--hours", "2"], "ISO 8601"),
    (["--start", "2026-09-18T10:00", "--hours", "2", "--calendar", "没有这个日历"], "没有这个日历"),
    (["--start", "2026-09-18T10:00", "--hours", "2", "--pause", "2026-09-18T11:00"], "FROM/TO"),
    (["--start", "2026-09-18T10:00", "--hours", "2", "--pause", "2026-09-18T11:00/2026-09-18T10:00"],
     _("A pause must end after it starts.")),
    (["--start", "2026-09-18T10:00", "--hours", "-1"], _("The target cannot be negative.")),
])
def test_it_refuses_what_it_cannot_read(args, message):
    with pytest.raises(CommandError, match=re.escape(str(message))):
        sla_due(*args)


def test_a_calendar_without_working_hours_is_refused_with_its_name():
    WorkCalendar.objects.create(name="停业")
    with pytest.raises(CommandError, match="停业"):
        sla_due("--calendar", "停业", "--start", "2026-09-18T10:00", "--hours", "2")


@pytest.mark.parametrize("args", [["--start", "9999-12-31T10:00", "--workdays", "3"],
                                  ["--start", "2026-09-18T10:00", "--hours", "1e12"],
                                  ["--start", "2026-09-18T10:00", "--hours", "2", "--pause",
                                   "2026-09-18T11:00/9999-12-31T23:59"]])
def test_moments_and_targets_out_of_range_are_refused_with_a_message(args):
    with pytest.raises(CommandError):
        sla_due(*args)
