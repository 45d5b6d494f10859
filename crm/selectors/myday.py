"""My day: whom the signed-in rep should contact today."""
import datetime
import zoneinfo

from django.db.models import Count, F, Prefetch, Q
from django.utils import timezone

from accounts.access import visible

from ..models import Contact, Customer, FollowUp
from ..text import display_phone

__all__ = ["my_day", "today_bounds"]

LIST_LIMIT = 50
IDLE_LIMIT = 10
IDLE_AFTER_DAYS = 30


def today_bounds(user, now=None):
    """(start of today, start of tomorrow) in `user`'s time zone, as aware datetimes."""
    try:
        zone = zoneinfo.ZoneInfo(user.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        zone = timezone.get_default_timezone()
    today = timezone.localtime(now or timezone.now(), zone).date()
    start = datetime.datetime.combine(today, datetime.time.min, tzinfo=zone)
    return start, datetime.datetime.combine(today + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone)


def _rows(qs, limit=LIST_LIMIT):
    """The first `limit` customers of `qs`, each with `primary_contact` and `call` (the number to
    dial: the primary contact's, else the customer's, as (E.164, shown))."""
    primary = Prefetch("contacts", queryset=Contact.objects.filter(is_primary=True), to_attr="primary_contacts")
    rows = list(qs.select_related("team").defer("search_text", "notes").prefetch_related(primary)[:limit])
    for customer in rows:
        contact = customer.primary_contacts[0] if customer.primary_contacts else None
        customer.primary_contact = contact
        phone = (contact.mobile or contact.phone) if contact else ""
        phone = phone or customer.mobile or customer.phone
        customer.call = (phone, display_phone(phone)) if phone else None
    return rows


def my_day(user, *, now=None):
    """The live customers `user` owns that are due for a follow-up: `overdue` (planned before today,
    oldest first), `today` (planned today) and `idle` (nothing planned, not followed up for
    IDLE_AFTER_DAYS days), with `counts` of each and of the follow-ups the user logged today.
    Each list is capped; the counts are not. Uses the (owner, next_followup_at) index; a fixed
    number of queries."""
    now = now or timezone.now()
    start, end = today_bounds(user, now)
    mine = visible(user, Customer.objects.live().filter(owner=user))
    counts = mine.filter(next_followup_at__lt=end).aggregate(
        overdue=Count("pk", filter=Q(next_followup_at__lt=start)),
        today=Count("pk", filter=Q(next_followup_at__gte=start)),
    )
    idle_since = now - datetime.timedelta(days=IDLE_AFTER_DAYS)
    idle = mine.filter(Q(last_followup_at__lt=idle_since) | Q(last_followup_at__isnull=True),
                       next_followup_at__isnull=True)
    counts["done"] = visible(user, FollowUp).filter(created_by=user, at__gte=start, at__lt=end).count()
    return {
        "start": start,
        "now": now,
        "counts": counts,
        "overdue": _rows(mine.filter(next_followup_at__lt=start).order_by("next_followup_at", "id")),
        "today": _rows(mine.filter(next_followup_at__gte=start, next_followup_at__lt=end)
                       .order_by("next_followup_at", "id")),
        "idle": _rows(idle.order_by(F("last_followup_at").asc(nulls_first=True), "id"), IDLE_LIMIT),
    }
