"""The working-time arithmetic of the SLA clocks (service.working_time) on a calendar of its own:
Monday to Friday 09:00–12:00 and 13:30–18:00, the holidays 2030-10-01…07 and two 调休 make-up
working days, Sunday 2030-09-29 and Saturday 2030-10-12."""
import datetime
from zoneinfo import ZoneInfo

import pytest

from service.working_time import NoWorkingTime, WorkingCalendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
OFFICE_DAY = ((datetime.time(9), datetime.time(12)), (datetime.time(13, 30), datetime.time(18)))
HOLIDAYS = frozenset(datetime.date(2030, 10, day) for day in range(1, 8))
MAKE_UP = frozenset({datetime.date(2030, 9, 29), datetime.date(2030, 10, 12)})


@pytest.fixture
def office():
    return WorkingCalendar(zone=SHANGHAI, windows={weekday: OFFICE_DAY for weekday in range(5)},
                           holidays=HOLIDAYS, workdays=MAKE_UP)


def at(text):
    """A moment: ISO 8601, in Shanghai when it has no offset."""
    moment = datetime.datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)


def hours(n):
    return datetime.timedelta(hours=n)


@pytest.mark.parametrize("start, target, due", [
    ("2030-09-30T11:00", 2, "2030-09-30T14:30"),  # across the lunch break
    ("2030-09-30T10:00", 2, "2030-09-30T12:00"),  # ends exactly at a window's end: that moment
    ("2030-09-30T09:00", 7.5, "2030-09-30T18:00"),  # a whole working day ends at 18:00, not the next 09:00
    ("2030-09-27T17:00", 2, "2030-09-29T10:00"),  # Friday evening, then the 调休 Sunday
    ("2030-09-30T17:00", 2, "2030-10-08T10:00"),  # across the seven days of holiday
    ("2030-10-03T10:00", 1, "2030-10-08T10:00"),  # started on a holiday
    ("2030-10-08T12:30", 1, "2030-10-08T14:30"),  # started in the lunch break
    ("2030-10-08T07:00", 1, "2030-10-08T10:00"),  # started before the office opens
    ("2030-10-08T04:30+00:00", 1, "2030-10-08T14:30"),  # started given in UTC (12:30 in Shanghai)
    ("2030-10-11T17:00", 3, "2030-10-12T11:00"),  # Friday, then the 调休 Saturday
    ("2030-10-08T10:00", 0, "2030-10-08T10:00"),
])
def test_it_adds_working_hours(office, start, target, due):
    result = office.add_working(at(start), hours(target))
    assert result == at(due)
    assert result.utcoffset() == datetime.timedelta(hours=8)  # shown in the calendar's zone


def test_a_pause_across_nights_and_holidays_does_not_count(office):
    # One hour on Monday, paused from 17:00 until 10:00 on the first day back: 3 hours are left.
    due = office.add_working(at("2030-09-30T16:00"), hours(4), pauses=[(at("2030-09-30T17:00"), at("2030-10-08T10:00"))])
    assert due == at("2030-10-08T14:30")


def test_a_pause_over_a_weekend_gains_no_working_hours(office):
    start, weekend = at("2030-10-18T16:00"), (at("2030-10-18T18:00"), at("2030-10-21T09:00"))
    assert office.add_working(start, hours(5), pauses=[weekend]) == office.add_working(start, hours(5))
    assert office.working_between(weekend[0], weekend[1]) == datetime.timedelta()


def test_pauses_that_overlap_count_once(office):
    pauses = [(at("2030-10-08T09:00"), at("2030-10-08T10:00")), (at("2030-10-08T09:30"), at("2030-10-08T11:00"))]
    assert office.add_working(at("2030-10-08T09:00"), hours(1), pauses=pauses) == at("2030-10-08T12:00")


@pytest.mark.parametrize("start, days, due", [
    ("2030-09-27T15:00", 2, "2030-09-30T18:00"),  # the 调休 Sunday is the first working day after Friday
    ("2030-09-30T10:00", 1, "2030-10-08T18:00"),  # the holidays are not working days
    ("2030-10-03T10:00", 1, "2030-10-08T18:00"),  # started on a holiday
    ("2030-10-11T09:00", 1, "2030-10-12T18:00"),  # the 调休 Saturday
    ("2030-10-08T23:30", 1, "2030-10-09T18:00"),  # the day it started counts by its local date
    ("2030-10-08T16:00+00:00", 1, "2030-10-10T18:00"),  # 16:00 UTC is already 10-09 in Shanghai
])
def test_n_working_days_end_with_the_nth_working_day_after_the_start(office, start, days, due):
    assert office.add_workdays(at(start), days) == at(due)


def test_a_pause_moves_a_working_days_deadline_by_the_working_time_it_took(office):
    # 4.5 working hours paused on the first day: the deadline (10-09 18:00) moves 4.5 working hours on.
    pause = (at("2030-10-08T13:30"), at("2030-10-08T18:00"))
    assert office.add_workdays(at("2030-10-08T10:00"), 1, pauses=[pause]) == at("2030-10-10T15:00")


def test_it_measures_the_working_time_between_two_moments(office):
    # Friday 10:00–12:00 and 13:30–18:00, the 调休 Sunday's 7.5 hours, Monday 09:00–10:00.
    assert office.working_between(at("2030-09-27T10:00"), at("2030-09-30T10:00")) == hours(15)
    assert office.working_between(at("2030-09-30T10:00"), at("2030-09-27T10:00")) == datetime.timedelta()


def test_a_deadline_recomputed_keeps_the_working_time_already_used(office):
    start, now = at("2030-09-30T11:00"), at("2030-10-08T11:00")
    used = office.working_between(start, now)
    assert used == hours(1 + 4.5 + 2)
    # A 24-hour target becomes 8: the new deadline is 8 working hours from the start, not from now.
    assert office.add_working(now, hours(8) - used) == office.add_working(start, hours(8)) == at("2030-10-08T11:30")


def test_clock_hours_run_day_and_night_but_not_while_paused(office):
    start = at("2030-10-04T20:00")
    assert office.add_elapsed(start, hours(24)) == at("2030-10-05T20:00")
    assert office.add_elapsed(start, hours(24), pauses=[(at("2030-10-05T08:00"), at("2030-10-05T10:00"))]) == \
        at("2030-10-05T22:00")


def test_across_a_change_to_summer_time_an_hour_is_an_hour():
    berlin = ZoneInfo("Europe/Berlin")
    office = WorkingCalendar(zone=berlin, windows={day: ((datetime.time(9), datetime.time(17)),) for day in range(5)})
    # Friday 16:00 CET; Sunday 2030-03-31 the clocks go forward; the second hour is Monday 09:00-10:00 CEST.
    due = office.add_working(datetime.datetime(2030, 3, 29, 16, tzinfo=berlin), hours(2))
    assert due == datetime.datetime(2030, 4, 1, 10, tzinfo=berlin)
    assert due.utcoffset() == datetime.timedelta(hours=2)
    assert office.working_between(datetime.datetime(2030, 3, 29, 9, tzinfo=berlin),
                                  datetime.datetime(2030, 4, 1, 17, tzinfo=berlin)) == hours(16)


def test_a_make_up_day_has_the_hours_of_the_first_weekday_with_any():
    late_monday = ((datetime.time(10), datetime.time(19)),)
    office = WorkingCalendar(zone=SHANGHAI, windows={0: late_monday, 1: OFFICE_DAY}, workdays=MAKE_UP)
    assert office.windows_on(datetime.date(2030, 9, 29)) == ((at("2030-09-29T10:00"), at("2030-09-29T19:00")),)


def test_a_calendar_without_working_time_says_so():
    closed = WorkingCalendar(zone=SHANGHAI, windows={})
    with pytest.raises(NoWorkingTime):
        closed.add_working(at("2030-10-08T10:00"), hours(1))
    with pytest.raises(NoWorkingTime):
        closed.add_workdays(at("2030-10-08T10:00"), 1)
