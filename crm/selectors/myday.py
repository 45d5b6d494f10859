"""My day: whom the signed-in rep should contact today."""
import datetime
import zoneinfo
from typing import NamedTuple

from django.db.models import Count, F, Prefetch, Q
from django.utils import timezone

from accounts.access import visible

from ..lib.text import display_phone
from ..models import Contact, Customer, FollowUp
from .search import with_edit_flag

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


class Dial(NamedTuple):
    """A number to call: E.164 for the tel: link, and as people read it."""

    number: str
    shown: str


def _rows(qs, user, limit=LIST_LIMIT):
    """The first `limit` customers of `qs`, each with `primary_contact`, `call` (a Dial: the primary
    contact's number, else the customer's) and `user_can_edit` (for the 跟进 button)."""
    primary = Prefetch("contacts", queryset=Contact.objects.filter(is_primary=True), to_attr="primary_contacts")
    qs = with_edit_flag(qs.select_related("team").defer("search_text", "notes"), user)
    rows = list(qs.prefetch_related(primary)[:limit])
    for customer in rows:
        contact = customer.primary_contacts[0] if customer.primary_contacts else None
        customer.primary_contact = contact
        phone = (contact.mobile or contact.phone) if contact else ""
        phone = phone or customer.mobile or customer.phone
        customer.call = Dial(phone, display_phone(phone)) if phone else None
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
        "overdue": _rows(mine.filter(next_followup_at__lt=start).order_by("next_followup_at", "id"), user),
        "today": _rows(mine.filter(next_followup_at__gte=start, next_followup_at__lt=end)
                       .order_by("next_followup_at", "id"), user),
        "idle": _rows(idle.order_by(F("last_followup_at").asc(nulls_first=True), "id"), user, IDLE_LIMIT),
    }
