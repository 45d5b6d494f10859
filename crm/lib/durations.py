"""How long ago, or for how long, in the words people use: one unit, rounded down ("9 天", "2 个月",
"3 hours"). Django's timesince gives two units ("2 月，3 周"), which in Chinese reads as a month of the
year, and weeks, which nobody counts overdue follow-ups in."""
import datetime

from django.utils import timezone
from django.utils.translation import gettext, ngettext

MINUTE, HOUR, DAY = 60, 3600, 86400


def duration_words(start, end=None):
    """The time from `start` to `end` (default now) as words: minutes under an hour, hours under a
    day, days under 30 days, months (of 30 days) under a year, then years. A negative or zero span
    and anything under a minute read "less than a minute"."""
    if isinstance(start, datetime.date) and not isinstance(start, datetime.datetime):
        start = datetime.datetime.combine(start, datetime.time.min, tzinfo=timezone.get_current_timezone())
    seconds = ((end or timezone.now()) - start).total_seconds()
    if seconds < MINUTE:
        return gettext("less than a minute")
    if seconds < HOUR:
        n = int(seconds // MINUTE)
        return ngettext("%(n)d minute", "%(n)d minutes", n) % {"n": n}
    if seconds < DAY:
        n = int(seconds // HOUR)
        return ngettext("%(n)d hour", "%(n)d hours", n) % {"n": n}
    days = int(seconds // DAY)
    if days < 30:
        return ngettext("%(n)d day", "%(n)d days", days) % {"n": days}
    if days < 365:
        n = days // 30
        return ngettext("%(n)d month", "%(n)d months", n) % {"n": n}
    n = days // 365
    return ngettext("%(n)d year", "%(n)d years", n) % {"n": n}
