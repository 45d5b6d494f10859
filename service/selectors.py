"""Reads of the service desk's data that views, commands and tasks share."""
import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.access import can_edit, get_visible_or_404, visible

from .models import (
    OPEN_STATUSES,
    Article,
    CalendarDay,
    Complaint,
    SlaPolicy,
    Survey,
    TargetUnit,
    Ticket,
    TicketEntry,
    TicketStatus,
    TicketTask,
    WorkCalendar,
)
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


def open_tickets_on(*, calendar_ids=(), default=False, policy_ids=()):
    """The open tickets whose SLA policy runs on one of the calendars `calendar_ids` (named by the
    policy, or as the default calendar when the policy names none and one of them is the default
    now), on the default calendar (`default`), or is one of `policy_ids`. Decided when it is read:
    a task queued before the default moved finds the tickets of the calendar that is default then."""
    from django.db.models import Q

    scope = Q(sla_policy_id__in=list(policy_ids)) | Q(sla_policy__calendar_id__in=list(calendar_ids))
    if default or (calendar_ids and getattr(default_calendar(), "pk", None) in calendar_ids):
        scope |= Q(sla_policy__isnull=False, sla_policy__calendar__isnull=True)
    return Ticket.objects.filter(scope, status__in=OPEN_STATUSES)


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


def sla_warning(policy, start, *, target, pauses=(), clock=None):
    """When the policy's warning for `target` is due: once all but `warn_remaining_percent` of the
    target's time is used, counted as the target counts it (working time, or clock time for calendar
    hours; N working days are the working time up to the end of the Nth)."""
    clock = clock or working_calendar(policy.calendar)
    share = (100 - policy.warn_remaining_percent) / 100
    amount, unit = getattr(policy, target), getattr(policy, f"{target}_unit")
    if unit == TargetUnit.WORKING_DAYS:
        total = clock.working_between(start, clock.add_workdays(start, int(amount)))
    else:
        total = datetime.timedelta(seconds=round(float(amount) * 3600))
    used = datetime.timedelta(seconds=round(total.total_seconds() * share))
    if unit == TargetUnit.HOURS:
        return clock.add_elapsed(start, used, pauses)
    return clock.add_working(start, used, pauses)


# Tickets ------------------------------------------------------------------------------------------

# The work queues: (key, label). Each holds open tickets the user may see, the next due first.
QUEUES = (
    ("mine", _("My tickets")),
    ("team", _("My team's")),
    ("unassigned", _("Unassigned")),
    ("breaching", _("Breaching soon")),
    ("waiting", _("Waiting on customer")),
    ("all", _("All open")),
)


def queue_of(user, key, *, now=None):
    """The open tickets of queue `key` (QUEUES) that `user` may see, the next due first (tickets whose
    clock stands still last), newest first among equals, with what a row shows loaded. Unknown keys
    are "mine"."""
    now = now or timezone.now()
    qs = visible(user, Ticket.objects.filter(status__in=OPEN_STATUSES))
    if key == "team":
        qs = qs.filter(team_id=user.team_id) if user.team_id else qs.none()
    elif key == "unassigned":
        qs = qs.filter(assignee=None)
    elif key == "breaching":
        soon = now + datetime.timedelta(hours=settings.SERVICE_BREACHING_SOON_HOURS)
        qs = qs.filter(due_at__lte=soon)
    elif key == "waiting":
        qs = qs.filter(status=TicketStatus.WAITING)
    elif key != "all":
        qs = qs.filter(assignee=user)
    return qs.select_related("customer", "assignee", "team", "type")


def ticket_for(user, pk, *, write=False):
    """One ticket `user` may see (404 otherwise; 403 with write=True on one they may only read)."""
    qs = Ticket.objects.select_related("customer", "contact", "type", "assignee", "team", "sla_policy",
                                       "opportunity", "contract", "product", "follows", "created_by")
    return get_visible_or_404(user, qs, pk, write=write)


def entries_of(ticket):
    """The ticket's timeline, oldest first, with the authors and the replies' mail loaded."""
    return (TicketEntry.objects.filter(ticket=ticket).select_related("author", "mail").prefetch_related("attachments")
            .order_by("created_at", "id"))


def sla_state(ticket, now=None):
    """"breached", "due_soon", "paused", "met" or None (no policy) for the ticket's running target."""
    now = now or timezone.now()
    if ticket.sla_policy_id is None and ticket.due_at is None:
        return None
    if not ticket.is_open:
        due = ticket.resolution_due
        return None if due is None else "met" if ticket.resolved_at and ticket.resolved_at <= due else "breached"
    if ticket.waiting_since is not None:
        return "paused"
    if ticket.due_at is None:
        return None
    if ticket.due_at < now:
        return "breached"
    return "due_soon" if ticket.due_at <= now + datetime.timedelta(hours=settings.SERVICE_BREACHING_SOON_HOURS) else "ok"


TICKETS_ON_CUSTOMER = 10
ENTRIES_PER_TICKET = 5


def tickets_of_customer(user, customer):
    """The customer page's tickets panel for anyone who may see the customer: its newest tickets
    (TICKETS_ON_CUSTOMER), each with its latest timeline entries (ENTRIES_PER_TICKET, internal notes
    marked), its survey's answer and whether `user` may open the ticket itself; the count of all.
    Read-only; three queries."""
    from django.db.models import Count, F, Window
    from django.db.models.functions import RowNumber

    # The count of all in the same query: a window is computed before the LIMIT.
    tickets = list(Ticket.objects.filter(customer=customer).select_related("type", "assignee", "survey")
                   .annotate(total=Window(Count("id"))).order_by("-id")[:TICKETS_ON_CUSTOMER])
    if not tickets:
        return {"tickets": [], "count": 0}
    ids = [t.pk for t in tickets]
    ranked = (TicketEntry.objects.filter(ticket_id__in=ids)
              .annotate(rank=Window(RowNumber(), partition_by=[F("ticket_id")], order_by=[F("created_at").desc(),
                                                                                          F("id").desc()])))
    latest = {}
    for entry in ranked.filter(rank__lte=ENTRIES_PER_TICKET).select_related("author"):
        latest.setdefault(entry.ticket_id, []).append(entry)
    openable = set(visible(user, Ticket.objects.filter(pk__in=ids)).values_list("pk", flat=True))
    for ticket in tickets:
        ticket.latest_entries = sorted(latest.get(ticket.pk, ()), key=lambda e: (e.created_at, e.pk))
        ticket.user_can_open = ticket.pk in openable
    return {"tickets": tickets, "count": tickets[0].total}


def ticket_page(user, pk):
    """Everything the ticket page shows (404 outside the user's reach): the ticket, its timeline, its
    SLA state, whether the user may change it and where its status may go."""
    from .services.tickets import next_statuses

    ticket = ticket_for(user, pk)
    may_change = can_edit(user, ticket)
    return {
        "ticket": ticket,
        "entries": list(entries_of(ticket)),
        "checklist": list(TicketTask.objects.filter(ticket=ticket).select_related("done_by")),
        "sla_state": sla_state(ticket),
        "can_edit": may_change,
        "customer_visible": visible(user, type(ticket.customer).objects.filter(pk=ticket.customer_id)).exists(),
        "next_statuses": [TicketStatus(s) for s in next_statuses(ticket)] if may_change else [],
        "complaint": Complaint.objects.filter(ticket=ticket).select_related(
            "accepted_by", "handled_by", "called_back_by").first() if ticket.type.is_complaint else None,
        "followed_by": list(visible(user, Ticket.objects.filter(follows=ticket)).only("pk", "subject")),
        "survey": Survey.objects.filter(ticket=ticket).select_related("followed_up_by").first(),
        "linked_articles": list(Article.objects.filter(ticket_links__ticket=ticket).order_by("ticket_links__linked_at")),
        "suggested_articles": articles_suggested(ticket) if may_change and ticket.is_open else [],
    }


def complaints_of(user, *, start=None, end=None, step=""):
    """The complaint register as `user` may see it (their tickets' complaints), newest first: registered in
    [start, end] (local dates, either open), at `step` if given, with what its rows show loaded."""
    from crm.lib.timezones import user_zone

    zone = user_zone(user)
    qs = visible(user, Complaint).select_related(
        "ticket__customer", "ticket__type", "ticket__assignee", "handled_by", "called_back_by", "accepted_by")
    if start:
        qs = qs.filter(ticket__created_at__gte=datetime.datetime.combine(start, datetime.time(), tzinfo=zone))
    if end:
        day_after = end + datetime.timedelta(days=1)
        qs = qs.filter(ticket__created_at__lt=datetime.datetime.combine(day_after, datetime.time(), tzinfo=zone))
    if step:
        qs = qs.filter(step=step)
    return qs.order_by("-id")


# Knowledge base -----------------------------------------------------------------------------------

SUGGESTED_ARTICLES = 5


def articles_matching(term="", *, category=None, status="published"):
    """Articles whose title or text holds `term` (a fragment, or the title's pinyin or initials), newest
    first, with their helpful / not helpful counts; `status` "" for every status."""
    from django.db.models import Count, Q

    from crm.lib.text import fold_text

    qs = Article.objects.select_related("category").annotate(
        helpful=Count("votes", filter=Q(votes__helpful=True)), unhelpful=Count("votes", filter=Q(votes__helpful=False)))
    if status:
        qs = qs.filter(status=status)
    if category is not None:
        qs = qs.filter(category=category)
    term = fold_text(term).lower().strip() if term else ""
    if term:  # as typed, or without its spaces (pinyin typed in syllables: "she zhi")
        qs = qs.filter(Q(search_text__contains=term) | Q(search_text__contains=term.replace(" ", "")))
    return qs.order_by("-updated_at", "-id")


def articles_suggested(ticket, *, limit=SUGGESTED_ARTICLES):
    """The published articles most like the ticket's subject and description: the most two-character
    Chinese words and Latin words in common (one query over the articles' term index), then the most
    helpful. Those already linked to the ticket are left out."""
    from django.db.models.expressions import RawSQL

    from .services.knowledge import text_terms

    terms = text_terms(f"{ticket.subject} {ticket.description}")[:200]
    if not terms:
        return []
    shared = RawSQL("cardinality(ARRAY(SELECT unnest(service_article.terms) INTERSECT SELECT unnest(%s::varchar[])))",
                    [terms])
    return list(Article.objects.filter(status="published", terms__overlap=terms)
                .exclude(ticket_links__ticket=ticket).annotate(shared=shared)
                .order_by("-shared", "-views", "-id")[:limit])
