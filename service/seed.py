"""The default working calendar, 中国大陆标准工作日: Monday to Friday 09:00–12:00 and 13:30–18:00,
with the official holidays and 调休 make-up working days of every year the `chinese-calendar`
package knows. Takes the model classes, so that a data migration can run it with its own."""
import datetime
import functools

DEFAULT_CALENDAR = "中国大陆标准工作日"
OFFICE_DAY = ((datetime.time(9), datetime.time(12)), (datetime.time(13, 30), datetime.time(18)))


@functools.cache
def official_days():
    """((date, kind, Chinese name, English name), ...) of the holidays and make-up working days the
    installed chinese-calendar package knows, in date order (read once: the package's data is fixed)."""
    from chinese_calendar import constants

    names = {holiday.value: holiday for holiday in constants.Holiday}

    def named(value):
        holiday = names.get(value)
        return (holiday.chinese, holiday.value) if holiday else (value, value)

    days = [(day, "holiday", *named(value)) for day, value in constants.holidays.items()]
    days += [(day, "workday", *named(value)) for day, value in constants.workdays.items()]
    return tuple(sorted(days))


def seed_default_calendar(WorkCalendar, WorkWindow, CalendarDay):
    """Create the default calendar if there is none by its name; add the official days it lacks
    (run again after an upgrade of chinese-calendar, it adds the new years). Returns it."""
    calendar, created = WorkCalendar.objects.get_or_create(
        name=DEFAULT_CALENDAR,
        defaults={"time_zone": "Asia/Shanghai", "is_default": not WorkCalendar.objects.filter(is_default=True).exists()})
    if created:
        WorkWindow.objects.bulk_create(WorkWindow(calendar=calendar, weekday=weekday, start=start, end=end)
                                       for weekday in range(5) for start, end in OFFICE_DAY)
    known = set(CalendarDay.objects.filter(calendar=calendar).values_list("date", flat=True))
    CalendarDay.objects.bulk_create(
        CalendarDay(calendar=calendar, date=day, kind=kind, name=name, name_en=name_en)
        for day, kind, name, name_en in official_days() if day not in known)
    return calendar


# name: (English name, is a complaint)
TICKET_TYPES = {"咨询": ("Enquiry", False), "故障": ("Fault", False), "售后": ("After-sales", False),
                "投诉": ("Complaint", True), "需求": ("Request", False)}

# name: (conditions, first response, resolution): the seed documents' 2 working hours / 24 working hours
# for A-tier customers; complaints counted in working days, as the regulators count them; lighter targets
# for everyone else.
SLA_POLICIES = {
    "A 类客户": ({"tiers": ["A"]}, (2, "working_hours"), (24, "working_hours")),
    "投诉": ({"types": ["投诉"]}, (1, "working_days"), (7, "working_days")),
    "紧急工单": ({"priorities": ["urgent"]}, (2, "working_hours"), (16, "working_hours")),
    "标准服务": ({}, (8, "working_hours"), (5, "working_days")),
}


def seed_service_desk(TicketType, SlaPolicy):
    """The ticket types and SLA policies a new installation starts with, if it has none of each."""
    if not TicketType.objects.exists():
        TicketType.objects.bulk_create(
            TicketType(name=name, name_en=english, is_complaint=complaint, order=10 * n)
            for n, (name, (english, complaint)) in enumerate(TICKET_TYPES.items(), start=1))
    if SlaPolicy.objects.exists():
        return
    types = {t.name: t for t in TicketType.objects.all()}
    for n, (name, (conditions, (first, first_unit), (resolution, resolution_unit))) in enumerate(
            SLA_POLICIES.items(), start=1):
        policy = SlaPolicy.objects.create(
            name=name, order=10 * n, tiers=conditions.get("tiers", []), priorities=conditions.get("priorities", []),
            first_response=first, first_response_unit=first_unit, resolution=resolution,
            resolution_unit=resolution_unit)
        policy.types.set([types[t] for t in conditions.get("types", []) if t in types])
