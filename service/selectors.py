"""Reads of the service desk's data that views, commands and tasks share."""
import datetime
from zoneinfo import ZoneInfo

from .models import CalendarDay, SlaPolicy, TargetUnit, WorkCalendar
from .working_time import WorkingCalendar


def default_calendar():
    """The default working calendar (the seeded 中国大陆标准工作日 unless an admin chose another)."""
    return WorkCalendar.objects.filter(is_default=True).first() or WorkCalendar.objects.order_by("pk").first()


def working_calendar(calendar=None):
    """The WorkingCalendar (in memory, for the arithmetic) of `calendar`, else of the default one:
    three queries whatever the number of years it holds."""
    calendar = calendar or default_calendar()
    if calendar is None:
        raise WorkCalendar.DoesNotExist("no working calendar")
    windows = {}
    for window in calendar.windows.all():
        windows.setdefault(window.weekday, []).append((window.start, window.end))
    days = calendar.days.values_list("date", "kind")
    return WorkingCalendar(
        zone=ZoneInfo(calendar.time_zone),
        windows={weekday: tuple(sorted(spans)) for weekday, spans in windows.items()},
        holidays=frozenset(day for day, kind in days if kind == CalendarDay.Kind.HOLIDAY),
        workdays=frozenset(day for day, kind in days if kind == CalendarDay.Kind.WORKDAY),
    )


def years_without_holidays(calendar, years):
    """Those of `years` for which `calendar` holds no holiday: their official schedule (published each
    November for the next year) has not been entered yet."""
    known = set(calendar.days.filter(kind=CalendarDay.Kind.HOLIDAY, date__year__in=list(years))
                .values_list("date__year", flat=True).distinct())
    return [year for year in years if year not in known]


def next_year_missing(calendar, today=None):
    """The next year when `calendar` holds no holiday for it, else None."""
    from django.utils import timezone

    year = (today or timezone.localdate()).year + 1
    return year if years_without_holidays(calendar, [year]) else None




def active_sla_policies():
    """The active SLA policies in the order they are tried, with their ticket types and calendars."""
    return list(SlaPolicy.objects.filter(is_active=True).select_related("calendar").prefetch_related("types")
                .order_by("order", "id"))


def sla_policy_for(*, tier, priority, type_id, channel, policies=None):
    """The first active policy (of `policies`, else read here) whose conditions all hold for a ticket
    with these attributes; None when none does."""
    for policy in active_sla_policies() if policies is None else policies:
        if policy.holds_for(tier=tier, priority=priority, type_id=type_id, channel=channel):
            return policy
    return None


def sla_deadline(policy, start, *, target, pauses=(), clock=None):
    """When the policy's `target` ("first_response" or "resolution") falls due for a clock started at
    `start` and stopped during `pauses`, on the policy's calendar (else the default one; `clock`: that
    calendar as working_calendar() read it, for a caller computing many)."""
    clock = clock or working_calendar(policy.calendar)
    amount, unit = getattr(policy, target), getattr(policy, f"{target}_unit")
    if unit == TargetUnit.WORKING_DAYS:
        return clock.add_workdays(start, int(amount), pauses)
    duration = datetime.timedelta(seconds=round(float(amount) * 3600))
    if unit == TargetUnit.HOURS:
        return clock.add_elapsed(start, duration, pauses)
    return clock.add_working(start, duration, pauses)
