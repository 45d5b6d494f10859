"""manage.py sla_due: when a clock started at a moment reaches a target on a working calendar, for
admins who check a calendar (and for the acceptance tests). The last line is the deadline, ISO 8601
with the calendar's UTC offset."""
import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from crm.lib.inputs import date_range_message, in_date_range

from ...models import WorkCalendar
from ...selectors import default_calendar, working_calendar, years_without_holidays
from ...working_time import NoWorkingTime

# The longest targets it computes (a clock looks at most three years ahead anyway).
MAX_HOURS = 100_000
MAX_WORKDAYS = 10_000


class Command(BaseCommand):
    help = "Print the deadline of a clock on a working calendar (last line: ISO 8601 with the calendar's offset)."

    def add_arguments(self, parser):
        parser.add_argument("--start", required=True, help="ISO 8601; without an offset, in the calendar's zone")
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--hours", type=float, help="working hours")
        target.add_argument("--workdays", type=int, help="working days: the end of the Nth working day after the start")
        parser.add_argument("--pause", action="append", default=[], metavar="FROM/TO",
                            help="a time the clock stood still (ISO 8601 FROM/TO); may repeat")
        parser.add_argument("--calendar", help="the calendar's name (default: the default calendar)")

    def handle(self, *args, start, hours, workdays, pause, calendar, **options):
        found = self._calendar(calendar)
        clock = working_calendar(found)
        begin = clock.local(_moment(start, "--start"))
        pauses = [(clock.local(a), clock.local(b)) for a, b in (_pause(text) for text in pause)]
        if any(b <= a for a, b in pauses):
            raise CommandError(_("A pause must end after it starts."))
        if hours is not None and hours < 0 or workdays is not None and workdays < 0:
            raise CommandError(_("The target cannot be negative."))
        if hours is not None and not hours <= MAX_HOURS or workdays is not None and workdays > MAX_WORKDAYS:
            raise CommandError(_("The target is too long: at most %(hours)s working hours or %(days)s working days.")
                               % {"hours": f"{MAX_HOURS:,}", "days": f"{MAX_WORKDAYS:,}"})
        try:
            if hours is not None:
                due = clock.add_working(begin, datetime.timedelta(seconds=round(hours * 3600)), pauses)
                target = _("%(hours)s working hours") % {"hours": f"{hours:g}"}
            else:
                due = clock.add_workdays(begin, workdays, pauses)
                target = _("%(days)d working days") % {"days": workdays}
        except NoWorkingTime as exc:
            raise CommandError(_("The calendar “%(name)s” has no working time within three years of the start.")
                               % {"name": found.name}) from exc
        self.stdout.write(_("Calendar: %(name)s (%(zone)s)") % {"name": found.name, "zone": found.time_zone})
        self.stdout.write(_("Start: %(start)s; target: %(target)s") % {"start": begin.isoformat(), "target": target})
        for pause_from, pause_to in pauses:
            self.stdout.write(_("Paused: %(from)s – %(to)s") % {
                "from": clock.local(pause_from).isoformat(), "to": clock.local(pause_to).isoformat()})
        missing = years_without_holidays(found, range(begin.year, due.year + 1))
        if missing:
            self.stderr.write(_("Warning: the calendar holds no holidays for %(years)s; add that year's schedule "
                                "in the settings, or the deadline may fall on a holiday.")
                              % {"years": ", ".join(str(year) for year in missing)})
        self.stdout.write(due.replace(microsecond=0).isoformat())

    def _calendar(self, name):
        if name:
            try:
                return WorkCalendar.objects.get(name=name)
            except WorkCalendar.DoesNotExist as exc:
                raise CommandError(_("There is no working calendar called “%(name)s”.") % {"name": name}) from exc
        found = default_calendar()
        if found is None:
            raise CommandError(_("There is no working calendar yet: create one in the settings."))
        return found


def _moment(text, what):
    try:
        moment = datetime.datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise CommandError(_("%(what)s: “%(text)s” is not a date and time in ISO 8601 (e.g. 2026-09-18T10:00+08:00).")
                           % {"what": what, "text": text}) from exc
    if not in_date_range(moment.date()):
        raise CommandError(f"{what}: {date_range_message()}")
    return moment


def _pause(text):
    pause_from, separator, pause_to = text.partition("/")
    if not separator:
        raise CommandError(_("--pause takes FROM/TO, two ISO 8601 moments: “%(text)s”.") % {"text": text})
    return _moment(pause_from, "--pause"), _moment(pause_to, "--pause")
