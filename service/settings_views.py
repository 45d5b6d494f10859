"""Service configuration in the settings area (holders of service.settings:manage): the working
calendars the SLA clocks run on. Views parse a form, call a service in service/services.py and
redirect; reads are configuration only (no customer data), so no access layer is involved."""
import datetime

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from accounts.capabilities import Capability
from accounts.permissions import capability_required
from accounts.settings_views import render_settings
from accounts.views import show_service_error
from crm.lib.inputs import FIRST_DATE, LAST_DATE, parse_int

from . import services
from .models import AfterSalesRule, AssignmentRule, CalendarDay, Channel, Priority, SlaPolicy, TicketType, WorkCalendar
from .selectors import next_year_missing, working_calendar
from .settings_forms import (
    AfterSalesRuleForm,
    AssignmentRuleForm,
    CalendarForm,
    DaysForm,
    DeadlineCheckForm,
    SlaPolicyForm,
    TicketTypeForm,
    shown_windows,
)
from .working_time import NoWorkingTime

manage = capability_required(Capability.MANAGE_SERVICE)


def _calendars():
    year = timezone.localdate().year
    return WorkCalendar.objects.prefetch_related("windows").annotate(
        holidays_this_year=Count("days", filter=Q(days__kind=CalendarDay.Kind.HOLIDAY, days__date__year=year)),
        holidays_next_year=Count("days", filter=Q(days__kind=CalendarDay.Kind.HOLIDAY, days__date__year=year + 1)))


def _week(calendar):
    """[(weekday label, "09:00-12:00, 13:30-18:00")] of the days with working hours."""
    spans = {}
    for window in calendar.windows.all():
        spans.setdefault(window.get_weekday_display(), []).append((window.start, window.end))
    return [(label, shown_windows(found)) for label, found in spans.items()]


@manage
def calendar_list(request):
    calendars = list(_calendars())
    for calendar in calendars:
        calendar.week = _week(calendar)
    return render_settings(request, "service/settings/calendars.html", {
        "calendars": calendars, "next_year": timezone.localdate().year + 1}, section="calendars")


@manage
def calendar_create(request):
    return _calendar_form(request, None)


@manage
def calendar_edit(request, calendar_pk):
    return _calendar_form(request, get_object_or_404(WorkCalendar.objects.prefetch_related("windows"), pk=calendar_pk))


def _calendar_form(request, calendar):
    return _form_page(
        request, CalendarForm(request.POST or None, calendar=calendar),
        save=lambda fields: services.calendar_save(by=request.user, calendar=calendar, **fields),
        saved=lambda result: (_with_recalculating(_("Calendar %(name)s saved.") % {"name": result[0].name}, result[1]),
                              reverse("settings:service:calendar", args=[result[0].pk])),
        template="service/settings/calendar_form.html", context={"calendar": calendar}, section="calendars")


def _with_recalculating(message, recalculating):
    """`message`, and when a save queued new deadlines for open tickets, how many get them."""
    if not recalculating:
        return message
    return " ".join([message, ngettext("The deadlines of %(n)d open ticket will be recalculated.",
                                       "The deadlines of %(n)d open tickets will be recalculated.",
                                       recalculating) % {"n": recalculating}])


def _form_page(request, form, *, save, saved, template, context, section):
    """A settings form page: on a valid POST, `save(form.service_fields())` (its ValidationError shown
    on the form), then the message and address `saved(what save returned)` gives; else the page."""
    if request.method == "POST" and form.is_valid():
        try:
            record = save(form.service_fields())
        except ValidationError as error:
            show_service_error(form, error)
        else:
            message, url = saved(record)
            messages.success(request, message)
            return redirect(url)
    return render_settings(request, template, {"form": form, **context}, section=section)


@manage
def calendar_detail(request, calendar_pk):
    """The calendar's week, the holidays and make-up days of a year, the form to add more, and a
    deadline checker (GET) that shows when a clock started at a moment reaches its target."""
    calendar = get_object_or_404(WorkCalendar.objects.prefetch_related("windows"), pk=calendar_pk)
    return _calendar_page(request, calendar, DaysForm())


def _calendar_page(request, calendar, days_form):
    today = timezone.localdate()
    year = parse_int(request.GET.get("year", ""), minimum=FIRST_DATE.year, maximum=LAST_DATE.year) or today.year
    years = sorted({day.year for day in calendar.days.dates("date", "year")} | {today.year, today.year + 1})
    checker = DeadlineCheckForm(request.GET if "start" in request.GET else None)
    return render_settings(request, "service/settings/calendar_detail.html", {
        "calendar": calendar, "week": _week(calendar), "year": year, "years": years,
        "days": calendar.days.filter(date__year=year).order_by("date"),
        "missing_year": next_year_missing(calendar, today),
        "official_years": services.official_years(),
        "days_form": days_form, "checker": checker, "due": _deadline(calendar, checker),
    }, section="calendars")


def _deadline(calendar, checker):
    """{"due": aware datetime} or {"error": message} of the checker's question, None when none was asked."""
    if not checker.is_bound or not checker.is_valid():
        return None
    clock = working_calendar(calendar)
    start = clock.local(timezone.make_naive(checker.cleaned_data["start"]))
    amount, unit = checker.cleaned_data["amount"], checker.cleaned_data["unit"]
    try:
        if unit == "workdays":
            due = clock.add_workdays(start, int(amount))
        else:
            due = clock.add_working(start, datetime.timedelta(seconds=round(float(amount) * 3600)))
    except NoWorkingTime:
        return {"error": _("This calendar has no working time within three years of the start.")}
    return {"due": due, "start": start, "zone": calendar.time_zone}


@manage
@require_POST
def days_add(request, calendar_pk):
    calendar = get_object_or_404(WorkCalendar.objects.prefetch_related("windows"), pk=calendar_pk)
    form = DaysForm(request.POST)
    if not form.is_valid():  # the page again, with what was pasted and the lines it could not read
        return _calendar_page(request, calendar, form)
    days = form.cleaned_data["lines"]
    saved, recalculating = services.calendar_days_save(by=request.user, calendar=calendar, days=days)
    messages.success(request, _with_recalculating(_("%(n)d dates saved.") % {"n": saved}, recalculating))
    return redirect(f"{reverse('settings:service:calendar', args=[calendar.pk])}?year={days[0][0].year}")


@manage
@require_POST
def day_delete(request, calendar_pk, day_pk):
    day = get_object_or_404(CalendarDay, pk=day_pk, calendar_id=calendar_pk)
    recalculating = services.calendar_day_delete(by=request.user, day=day)
    messages.success(request, _with_recalculating(
        _("%(date)s follows the weekly hours again.") % {"date": day.date.isoformat()}, recalculating))
    return redirect(f"{reverse('settings:service:calendar', args=[calendar_pk])}?year={day.date.year}")


@manage
@require_POST
def official_days_add(request, calendar_pk):
    """Add the official holidays and make-up days the system knows (the chinese-calendar package)."""
    calendar = get_object_or_404(WorkCalendar, pk=calendar_pk)
    added, recalculating = services.calendar_official_days_add(by=request.user, calendar=calendar)
    if added:
        messages.success(request, _with_recalculating(
            _("%(n)d official holidays and make-up working days added.") % {"n": added}, recalculating))
    else:
        messages.info(request, _("The calendar holds every official date the system knows already."))
    return redirect("settings:service:calendar", calendar.pk)


# SLA policies ----------------------------------------------------------------------------------

@manage
def policy_list(request):
    from crm.models import Tier

    labels = {**dict(Tier.choices), **dict(Priority.choices), **dict(Channel.choices)}
    policies = list(SlaPolicy.objects.select_related("calendar").prefetch_related("types").order_by("order", "id"))
    for policy in policies:
        policy.conditions = [str(labels.get(value, value)) for value in (*policy.tiers, *policy.priorities,
                                                                          *policy.channels)]
        policy.conditions += [t.name for t in policy.types.all()]
    return render_settings(request, "service/settings/policies.html", {"policies": policies}, section="sla_policies")


@manage
def policy_create(request):
    return _policy_form(request, None)


@manage
def policy_edit(request, policy_pk):
    return _policy_form(request, get_object_or_404(SlaPolicy, pk=policy_pk))


def _policy_form(request, policy):
    return _form_page(
        request, SlaPolicyForm(request.POST or None, instance=policy),
        save=lambda fields: services.sla_policy_save(by=request.user, policy=policy, **fields),
        saved=lambda result: (_with_recalculating(_("Policy %(name)s saved.") % {"name": result[0].name}, result[1]),
                              reverse("settings:service:sla_policies")),
        template="service/settings/policy_form.html", context={"policy": policy}, section="sla_policies")


@manage
@require_POST
def policy_move(request, policy_pk):
    policy = get_object_or_404(SlaPolicy, pk=policy_pk)
    services.sla_policy_move(by=request.user, policy=policy, up=request.POST.get("direction") == "up")
    return redirect("settings:service:sla_policies")


@manage
@require_POST
def policy_delete(request, policy_pk):
    policy = get_object_or_404(SlaPolicy, pk=policy_pk)
    services.sla_policy_delete(by=request.user, policy=policy)
    messages.success(request, _("Policy %(name)s deleted.") % {"name": policy.name})
    return redirect("settings:service:sla_policies")


# Ticket types ----------------------------------------------------------------------------------

@manage
def ticket_type_list(request):
    return render_settings(request, "service/settings/ticket_types.html",
                           {"ticket_types": TicketType.objects.order_by("order", "id")}, section="ticket_types")


@manage
def ticket_type_create(request):
    return _ticket_type_form(request, None)


@manage
def ticket_type_edit(request, type_pk):
    return _ticket_type_form(request, get_object_or_404(TicketType, pk=type_pk))


def _ticket_type_form(request, ticket_type):
    return _form_page(
        request, TicketTypeForm(request.POST or None, instance=ticket_type),
        save=lambda fields: services.ticket_type_save(by=request.user, ticket_type=ticket_type, **fields),
        saved=lambda saved: (_("Ticket type %(name)s saved.") % {"name": saved.name},
                             reverse("settings:service:ticket_types")),
        template="service/settings/ticket_type_form.html", context={"ticket_type": ticket_type},
        section="ticket_types")


@manage
def after_sales_list(request):
    """Every active pipeline and what winning one of its deals opens (its rule, if any)."""
    from sales.models import Pipeline

    pipelines = Pipeline.objects.filter(is_active=True).select_related(
        "after_sales_rule__type", "after_sales_rule__team").order_by("order", "id")
    return render_settings(request, "service/settings/after_sales.html", {"pipelines": pipelines},
                           section="after_sales")


@manage
def after_sales_edit(request, pipeline_pk):
    from sales.models import Pipeline

    pipeline = get_object_or_404(Pipeline, pk=pipeline_pk)
    rule = AfterSalesRule.objects.filter(pipeline=pipeline).first()
    return _form_page(
        request, AfterSalesRuleForm(request.POST or None, instance=rule or AfterSalesRule(pipeline=pipeline)),
        save=lambda fields: services.after_sales_rule_save(by=request.user, pipeline=pipeline, **fields),
        saved=lambda saved: (_("Saved what a won deal of %(pipeline)s opens.") % {"pipeline": pipeline.name},
                             reverse("settings:service:after_sales")),
        template="service/settings/after_sales_form.html", context={"pipeline": pipeline}, section="after_sales")


# Assignment rules ------------------------------------------------------------------------------

@manage
def assignment_rule_list(request):
    from crm.models import Tier

    labels = {**dict(Tier.choices), **dict(Channel.choices)}
    rules = list(AssignmentRule.objects.select_related("team").prefetch_related("types").order_by("order", "id"))
    for rule in rules:
        rule.conditions = [str(labels.get(value, value)) for value in (*rule.tiers, *rule.channels)]
        rule.conditions += [str(t) for t in rule.types.all()] + rule.provinces
    return render_settings(request, "service/settings/assignment_rules.html", {"rules": rules},
                           section="assignment_rules")


@manage
def assignment_rule_create(request):
    return _assignment_rule_form(request, None)


@manage
def assignment_rule_edit(request, rule_pk):
    return _assignment_rule_form(request, get_object_or_404(AssignmentRule, pk=rule_pk))


def _assignment_rule_form(request, rule):
    return _form_page(
        request, AssignmentRuleForm(request.POST or None, instance=rule),
        save=lambda fields: services.assignment_rule_save(by=request.user, rule=rule, **fields),
        saved=lambda saved: (_("Rule %(name)s saved.") % {"name": saved.name},
                             reverse("settings:service:assignment_rules")),
        template="service/settings/assignment_rule_form.html", context={"rule": rule}, section="assignment_rules")


@manage
@require_POST
def assignment_rule_move(request, rule_pk):
    rule = get_object_or_404(AssignmentRule, pk=rule_pk)
    services.assignment_rule_move(by=request.user, rule=rule, up=request.POST.get("direction") == "up")
    return redirect("settings:service:assignment_rules")


@manage
@require_POST
def assignment_rule_delete(request, rule_pk):
    rule = get_object_or_404(AssignmentRule, pk=rule_pk)
    services.assignment_rule_delete(by=request.user, rule=rule)
    messages.success(request, _("Rule %(name)s deleted.") % {"name": rule.name})
    return redirect("settings:service:assignment_rules")
