"""The settings of the service desk admins keep: working calendars, SLA policies and ticket types."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from crm.lib.audit import audited

from ..models import CalendarDay, WorkCalendar, WorkWindow
from ..seed import official_days
from .recompute import sla_recompute_queue


def calendar_save(*, by, calendar=None, name, time_zone, is_default, windows):
    """Create or change a working calendar: its name, zone, whether it is the default (the one default
    moves to it) and its weekly windows ({weekday: [(start, end), ...]}, replaced as a whole). A
    calendar stops being the default only by another becoming it. A change of its zone or windows, or
    of the default, queues the open tickets' new deadlines (sla_recompute_queue). Returns (the
    calendar, how many open tickets get new deadlines)."""
    with audited(by, "calendar_save"), transaction.atomic():
        if WorkCalendar.objects.filter(name=name).exclude(pk=getattr(calendar, "pk", None)).exists():
            raise ValidationError({"name": _("A calendar with this name exists already.")})
        if calendar is None:
            calendar = WorkCalendar(name=name)
        hours_before = _hours(calendar)
        was_default = calendar.is_default
        if is_default and not was_default:
            WorkCalendar.objects.filter(is_default=True).update(is_default=False)
        calendar.name, calendar.time_zone = name, time_zone
        calendar.is_default = is_default or was_default or not WorkCalendar.objects.exclude(pk=calendar.pk).exists()
        calendar.save()
        calendar.windows.all().delete()
        WorkWindow.objects.bulk_create(WorkWindow(calendar=calendar, weekday=weekday, start=start, end=end)
                                       for weekday, spans in sorted(windows.items()) for start, end in spans)
        hours_changed = hours_before is not None and hours_before != _hours(calendar)
        became_default = calendar.is_default and not was_default
        recalculating = 0
        if hours_changed or became_default:
            recalculating = sla_recompute_queue(calendar_ids=[calendar.pk] if hours_changed else [],
                                                default=became_default)
    return calendar, recalculating


def _hours(calendar):
    """What of a saved calendar the clocks run on (its zone and weekly windows, as stored), None for a
    new one: no ticket runs on it yet."""
    if calendar.pk is None:
        return None
    zone = WorkCalendar.objects.filter(pk=calendar.pk).values_list("time_zone", flat=True).get()
    return zone, list(WorkWindow.objects.filter(calendar=calendar).order_by("weekday", "start")
                      .values_list("weekday", "start", "end"))


def calendar_days_save(*, by, calendar, days):
    """Enter holidays and make-up working days: `days` [(date, kind, name)], each replacing what the
    calendar held for its date. All or nothing. A date whose kind changes queues the open tickets' new
    deadlines. Returns (how many dates, how many open tickets get new deadlines)."""
    entries = {day: CalendarDay(calendar=calendar, date=day, kind=kind, name=name[:60]) for day, kind, name in days}
    with audited(by, "calendar_days_save"):
        held = dict(calendar.days.filter(date__in=list(entries)).values_list("date", "kind"))
        CalendarDay.objects.bulk_create(entries.values(), update_conflicts=True, unique_fields=["calendar", "date"],
                                        update_fields=["kind", "name"])
        moved = any(held.get(day) != entry.kind for day, entry in entries.items())
        recalculating = sla_recompute_queue(calendar_ids=[calendar.pk]) if moved else 0
    return len(entries), recalculating


def calendar_day_delete(*, by, day):
    """Take a date off the calendar: it follows the weekly windows again. Queues the open tickets' new
    deadlines; returns how many open tickets get them."""
    with audited(by, "calendar_day_delete"):
        day.delete()
        return sla_recompute_queue(calendar_ids=[day.calendar_id])


def calendar_official_days_add(*, by, calendar, years=None):
    """Add the official holidays and make-up working days the installed chinese-calendar package knows
    (of `years`, else of all) on the dates the calendar holds nothing for, and queue the open tickets'
    new deadlines. Returns (how many dates, how many open tickets get new deadlines)."""
    known = set(calendar.days.values_list("date", flat=True))
    new = [CalendarDay(calendar=calendar, date=day, kind=kind, name=name, name_en=name_en)
           for day, kind, name, name_en in official_days()
           if day not in known and (years is None or day.year in years)]
    with audited(by, "calendar_official_days_add"):
        CalendarDay.objects.bulk_create(new)
        recalculating = sla_recompute_queue(calendar_ids=[calendar.pk]) if new else 0
    return len(new), recalculating


def official_years():
    """The years the installed chinese-calendar package has holidays for."""
    return sorted({day.year for day, kind, *_names in official_days() if kind == CalendarDay.Kind.HOLIDAY})


def sla_policy_save(*, by, policy=None, types, **fields):
    """Create or change an SLA policy (`fields`: the model's, `types`: the ticket types it is limited
    to). A new policy goes last, before none. A change of its targets, warning share or calendar queues
    the new deadlines of its open tickets (a change of its conditions or order does not choose the
    policy of open tickets again). Returns (the policy, how many open tickets get new deadlines)."""
    from ..models import SlaPolicy

    with audited(by, "sla_policy_save"), transaction.atomic():
        if SlaPolicy.objects.filter(name=fields["name"]).exclude(pk=getattr(policy, "pk", None)).exists():
            raise ValidationError({"name": _("A policy with this name exists already.")})
        # As stored: a model form has set its values on `policy` already.
        clock_before = SlaPolicy.objects.filter(pk=getattr(policy, "pk", None)).values(*CLOCK_FIELDS).first()
        if policy is None:
            last = SlaPolicy.objects.order_by("-order").values_list("order", flat=True).first() or 0
            policy = SlaPolicy(order=last + 10)
        for name, value in fields.items():
            setattr(policy, name, value)
        policy.full_clean(exclude=["order"])
        policy.save()
        policy.types.set(types)
        recalculating = 0
        if clock_before is not None and clock_before != SlaPolicy.objects.values(*CLOCK_FIELDS).get(pk=policy.pk):
            recalculating = sla_recompute_queue(policy_ids=[policy.pk])
    return policy, recalculating


# What of a policy its tickets' deadlines and warnings are worked out from.
CLOCK_FIELDS = ("calendar", "first_response", "first_response_unit", "resolution", "resolution_unit",
                "warn_remaining_percent")


def sla_policy_move(*, by, policy, up):
    """Swap the policy with the one before it (`up`) or after it in the order they are tried."""
    from ..models import SlaPolicy

    with audited(by, "sla_policy_move"), transaction.atomic():
        move_in_order(SlaPolicy.objects.all(), policy, up=up)


def move_in_order(queryset, record, *, up):
    """Swap `record` with its neighbour before (`up`) or after it among the rows of `queryset`, ordered
    by `order` then id, numbering them 10, 20, 30 … again (the rows locked meanwhile). Call it inside
    the caller's audited transaction."""
    ordered = list(queryset.select_for_update().order_by("order", "id"))
    index = next(i for i, row in enumerate(ordered) if row.pk == record.pk)
    other = index - 1 if up else index + 1
    if not 0 <= other < len(ordered):
        return
    ordered[index], ordered[other] = ordered[other], ordered[index]
    for position, item in enumerate(ordered, start=1):
        if item.order != position * 10:
            item.order = position * 10
            item.save(update_fields=["order"])


def sla_policy_delete(*, by, policy):
    with audited(by, "sla_policy_delete"):
        policy.delete()


def ticket_type_save(*, by, ticket_type=None, **fields):
    """Create or change a ticket type of the picklist. Returns it."""
    from ..models import TicketType

    with audited(by, "ticket_type_save"), transaction.atomic():
        if TicketType.objects.filter(name=fields["name"]).exclude(pk=getattr(ticket_type, "pk", None)).exists():
            raise ValidationError({"name": _("A ticket type with this name exists already.")})
        ticket_type = ticket_type or TicketType()
        for name, value in fields.items():
            setattr(ticket_type, name, value)
        ticket_type.save()
    return ticket_type
