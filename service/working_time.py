"""Working-time arithmetic on a calendar held in memory (no database): when a clock that runs only in
working windows, and not while paused, reaches a target. All moments are aware datetimes; days are
the calendar's local days, differences are taken in UTC (a daylight-saving change costs no hour)."""
import datetime
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

UTC = datetime.UTC
# How far ahead a deadline is looked for before the calendar is taken to have no working time.
HORIZON_DAYS = 3 * 366


class NoWorkingTime(ValueError):
    """The calendar has no working window within the horizon."""


@dataclass(frozen=True)
class WorkingCalendar:
    """`windows`: {weekday (0 = Monday): ((start, end), ...)} of datetime.time; `holidays` and
    `workdays` (make-up working days, 调休): sets of dates. A make-up day has `makeup_windows`, by
    default those of the first weekday with any."""

    zone: ZoneInfo
    windows: dict
    holidays: frozenset = frozenset()
    workdays: frozenset = frozenset()
    makeup_windows: tuple = field(default=None)

    def __post_init__(self):
        if self.makeup_windows is None:
            first = next((self.windows[day] for day in range(7) if self.windows.get(day)), ())
            object.__setattr__(self, "makeup_windows", tuple(first))
        # The UTC windows of each day asked for, kept: the deadlines of many tickets opened over the same
        # weeks walk the same days (100,000 tickets' deadlines took 12 s building them again each time).
        # Kept on the instance only, never in a module or process cache: an instance is read from the
        # database (selectors.working_calendar) for one request or one chunk of a task and dropped, so
        # a calendar an admin changes in another process is read afresh by the next one
        # (service.services.recompute reads it after locking its chunk's tickets).
        object.__setattr__(self, "_day_windows", {})

    def local(self, moment):
        """`moment` in the calendar's zone; a naive one is taken to be in that zone already."""
        if moment.tzinfo is None:
            return moment.replace(tzinfo=self.zone)
        return moment.astimezone(self.zone)

    def is_working_day(self, day):
        return bool(self._spans_of(day))

    def _spans_of(self, day):
        if day in self.holidays:
            return ()
        if day in self.workdays:
            return self.makeup_windows
        return self.windows.get(day.weekday(), ())

    def windows_on(self, day):
        """The working windows of local date `day` as (start, end) in UTC."""
        found = self._day_windows.get(day)
        if found is None:
            found = self._day_windows[day] = tuple(
                (datetime.datetime.combine(day, start, tzinfo=self.zone).astimezone(UTC),
                 datetime.datetime.combine(day, end, tzinfo=self.zone).astimezone(UTC))
                for start, end in self._spans_of(day))
        return found

    def _windows_from(self, start):
        """Working windows (UTC) from `start` on, the first one clipped to it."""
        day = self.local(start).date()
        start = start.astimezone(UTC)
        for offset in range(HORIZON_DAYS):
            for begin, end in self.windows_on(day + datetime.timedelta(days=offset)):
                if end > start:
                    yield max(begin, start), end
        raise NoWorkingTime("no working time within the horizon")

    def add_working(self, start, duration, pauses=()):
        """The moment `duration` of working time after `start`, not counting `pauses` ((from, to)
        pairs). A deadline that falls exactly at the end of a window is that moment."""
        start = self.local(start)
        return _consume(_without_pauses(self._windows_from(start), _utc_pauses(self, pauses)), start, duration)

    def add_elapsed(self, start, duration, pauses=()):
        """The moment `duration` of clock time after `start`, not counting `pauses`."""
        start = self.local(start)
        always = iter([(start.astimezone(UTC), datetime.datetime.max.replace(tzinfo=UTC))])
        return _consume(_without_pauses(always, _utc_pauses(self, pauses)), start, duration)

    def add_workdays(self, start, days, pauses=()):
        """The end of the `days`-th working day after the day `start` falls on (its last window's end),
        later by the working time `pauses` take from the clock before it."""
        if days < 1:
            return self.local(start)
        day, found = self.local(start).date(), 0
        for _ in range(HORIZON_DAYS):
            day += datetime.timedelta(days=1)
            if self.is_working_day(day):
                found += 1
                if found == days:
                    nominal = self.windows_on(day)[-1][1]
                    break
        else:
            raise NoWorkingTime("no working day within the horizon")
        if not pauses:
            return nominal.astimezone(self.zone)
        return self.add_working(start, self.working_between(start, nominal), pauses)

    def working_between(self, start, end, pauses=()):
        """The working time from `start` to `end` (zero if `end` is not later), not counting `pauses`."""
        start, end = self.local(start).astimezone(UTC), self.local(end).astimezone(UTC)
        total = datetime.timedelta()
        if end <= start:
            return total
        day, last = self.local(start).date(), self.local(end).date()
        windows = []
        while day <= last:
            windows.extend(self.windows_on(day))
            day += datetime.timedelta(days=1)
        clipped = ((max(a, start), min(b, end)) for a, b in windows if b > start and a < end)
        for a, b in _without_pauses(clipped, _utc_pauses(self, pauses)):
            total += b - a
        return total


def _utc_pauses(calendar, pauses):
    """The pauses as sorted, merged (from, to) pairs in UTC; naive moments are in the calendar's zone."""
    spans = sorted((calendar.local(a).astimezone(UTC), calendar.local(b).astimezone(UTC))
                   for a, b in pauses if calendar.local(b) > calendar.local(a))
    merged = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def _without_pauses(windows, pauses):
    """The parts of `windows` (in time order) outside `pauses` (sorted, merged)."""
    for begin, end in windows:
        for pause_from, pause_to in pauses:
            if pause_to <= begin or pause_from >= end:
                continue
            if pause_from > begin:
                yield begin, pause_from
            begin = max(begin, pause_to)
            if begin >= end:
                break
        if begin < end:
            yield begin, end


def _consume(spans, start, duration):
    """The moment the spans (in time order) have given `duration`, in the zone of `start`."""
    if duration <= datetime.timedelta():
        return start
    remaining = duration
    for begin, end in spans:
        length = end - begin
        if length >= remaining:
            return (begin + remaining).astimezone(start.tzinfo)
        remaining -= length
    raise NoWorkingTime("no working time within the horizon")
