"""Reads of the reminders: the bell's count, the notification centre (only notifications whose
record the reader may still see, through the access layer), a notification with its record, the
morning digest, preferences, and the admins' views of the rules and failed e-mails."""
from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Q, Subquery, When
from django.db.models.functions import Coalesce
from django.http import Http404

from accounts.access import access_q, get_visible_or_404, visible

from ..models import Customer, EmailDelivery, Notification, NotificationPreference, NotificationRule
from ..notifications import RULES
from .myday import today_bounds

__all__ = [
    "email_failures", "group_counts", "group_object_ids", "notification_for", "notification_preferences_for", "notification_rule_labels",
    "notification_rules_for_settings",
    "notifications_for", "notifications_unread_count", "open_reminders", "with_texts", "digest_for",
]

PAGE_SIZE = 50
DIGEST_LIMIT = 20


def _muted(user):
    """The rules `user` turned off in the app (a subquery, not a list: no query of its own)."""
    return NotificationPreference.objects.filter(user=user, in_app=False).values("rule")


def notifications_unread_count(user):
    """The bell: open (unread, unresolved) notifications of `user` in rules they see in the app, of
    records they may see (the centre's condition, so the two always agree, even before the next scan
    resolves a record taken out of their sight). One COUNT."""
    if not getattr(user, "is_authenticated", False):
        return 0
    return (Notification.objects.filter(recipient=user, read_at__isnull=True, resolved_at__isnull=True)
            .exclude(rule__in=_muted(user)).filter(_shown_q(user)).count())


def _models():
    """{record model: [rule keys]} over the registry."""
    result = {}
    for key, rule in RULES.items():
        result.setdefault(rule.record_model(), []).append(key)
    return result


def _visible_records_q(user):
    """Notifications whose record `user` may see: per record model, the access layer's condition
    as an EXISTS on the record (no condition at all for a model the user sees whole)."""
    models = _models()
    condition = Q(pk__in=[])
    for model, keys in models.items():
        allowed = access_q(user, model)
        if allowed is None:
            continue
        of_type = Q(rule__in=keys)
        if len(allowed):
            of_type &= Q(Exists(model._default_manager.filter(allowed, pk=OuterRef("object_id"))))
        condition |= of_type
    return condition


def _shown_q(user):
    """What `user` is shown: single reminders of records they may see, and groups of which they may
    see at least one open record; never a group's items (the group stands for them)."""
    members = Notification.objects.filter(group_id=OuterRef("pk"), resolved_at__isnull=True)
    return Q(group__isnull=True) & (
        (Q(is_group=False) & _visible_records_q(user))
        | (Q(is_group=True) & Exists(members.filter(_visible_records_q(user)))))


def notifications_for(user, *, unread=False, rule=None):
    """`user`'s notifications, newest first, of records `user` may still see, a group as one (one
    query; page it with crm.lib.paging.older_page, then `with_texts` on the page)."""
    qs = (Notification.objects.filter(recipient=user).exclude(rule__in=_muted(user)).filter(_shown_q(user))
          .annotate(group_open=_group_open(user)))
    if unread:
        qs = qs.filter(read_at__isnull=True, resolved_at__isnull=True)
    if rule in RULES:
        qs = qs.filter(rule=rule)
    return qs.order_by("-id")


def _group_open(user):
    """A group's open records `user` may see, counted in the list's own query (None for a single one)."""
    members = (Notification.objects.filter(group_id=OuterRef("pk"), resolved_at__isnull=True)
               .filter(_visible_records_q(user)).order_by().values("group_id").annotate(n=Count("pk")).values("n"))
    return Case(When(is_group=True, then=Coalesce(Subquery(members), 0)), default=None, output_field=IntegerField())


def group_counts(user, group_ids):
    """{group id: how many of its open records `user` may see} (one query; none for no groups)."""
    if not group_ids:
        return {}
    rows = (Notification.objects.filter(group_id__in=group_ids, resolved_at__isnull=True)
            .filter(_visible_records_q(user)).values("group_id").annotate(n=Count("pk")))
    return {row["group_id"]: row["n"] for row in rows}


def with_texts(rows, user):
    """Give each notification its `text` (what it says, in the active language), `rule_label` and
    `visible`; a group says how many of its open records `user` may see (counted by
    `notifications_for`'s query, else here in one query for the rows' groups)."""
    # The centre's rows carry their count (`group_open`); others are counted here, in one query.
    counts = group_counts(user, [row.pk for row in rows if row.is_group and getattr(row, "group_open", None) is None])
    counts.update({row.pk: row.group_open for row in rows if getattr(row, "group_open", None) is not None})
    for row in rows:
        definition = RULES.get(row.rule)
        row.rule_label = definition.label if definition else row.rule
        row.visible = True
        if definition is None:
            row.text = row.subject
        elif row.is_group:
            row.count = counts.get(row.pk, 0)
            row.visible = bool(row.count)
            row.text = definition.group_message(row, row.count)
        else:
            row.text = definition.message(row)
    return rows


def notification_for(user, pk):
    """(notification, record or None, URL) of one of `user`'s notifications: a single one's record
    and its page, a group's list of its records; 404 if it is not theirs, its rule is gone, or the
    record is no longer one they may see. A group's list applies the access layer itself."""
    notification = Notification.objects.filter(recipient=user, pk=pk).first()
    rule = RULES.get(notification.rule) if notification else None
    if rule is None:
        raise Http404
    if notification.is_group:
        return notification, None, rule.group_url(notification)
    record = get_visible_or_404(user, rule.record_model(), notification.object_id)
    return notification, record, rule.target_url(record)


def group_object_ids(user, group_id):
    """The ids of the records of `user`'s group `group_id` still open (a values queryset, for a
    list's `pk__any_of`; another person's group is empty). The list applies the access layer."""
    return Notification.objects.filter(group_id=group_id, recipient=user, resolved_at__isnull=True).values("object_id")


def open_reminders(user, *, limit=DIGEST_LIMIT):
    """What waits for `user` in the centre (unread, open), a group as one: {"rows": the newest
    `limit` with their texts, "count": all of them}. The digest and My day show it; three queries
    at most."""
    pending = notifications_for(user, unread=True)
    rows = with_texts(list(pending[:limit]), user)
    return {"rows": rows, "count": len(rows) if len(rows) < limit else pending.count()}


def digest_for(user, *, now=None):
    """What the morning digest tells `user`: customers to follow up today and overdue ones, stale
    deals and approvals waiting for them; each list capped at DIGEST_LIMIT with its full count, and
    `empty` when there is nothing at all. Through the access layer; a fixed number of queries."""
    from sales.selectors.quotes import approvals_inbox

    start, end = today_bounds(user, now)
    mine = visible(user, Customer.objects.live()).filter(owner=user).only("pk", "name", "next_followup_at")
    today = mine.filter(next_followup_at__gte=start, next_followup_at__lt=end).order_by("next_followup_at")
    overdue = mine.filter(next_followup_at__lt=start).order_by("next_followup_at")
    stale = _stale_deals(user, now)
    approvals = approvals_inbox(user)
    reminders = open_reminders(user)
    digest = {
        "reminders": reminders["rows"], "reminders_count": reminders["count"],
        "today": list(today[:DIGEST_LIMIT]), "today_count": today.count(),
        "overdue": list(overdue[:DIGEST_LIMIT]), "overdue_count": overdue.count(),
        "stale": list(stale[:DIGEST_LIMIT]), "stale_count": stale.count(),
        "approvals": approvals[:DIGEST_LIMIT], "approvals_count": len(approvals),
    }
    digest["empty"] = not any(digest[k] for k in ("today_count", "overdue_count", "stale_count", "approvals_count",
                                                  "reminders_count"))
    return digest


def _stale_deals(user, now):
    """The user's open deals that are stale in their stage, longest first (a queryset: the digest
    slices and counts it in SQL); the model's own rule (OpportunityQuerySet.stale) decides."""
    from sales.models import Opportunity

    return (visible(user, Opportunity).filter(owner=user).stale(now)
            .select_related("stage").order_by("stage_entered_at", "pk"))


def notification_preferences_for(user):
    """[(key, label, in_app, email)] for every rule and the digest, with the defaults filled in
    (in the app yes, e-mail no; the digest by e-mail)."""
    from django.utils.translation import gettext_lazy as _

    from ..services.notifications import DIGEST

    stored = {p.rule: p for p in NotificationPreference.objects.filter(user=user)}
    rows = []
    for key, rule in RULES.items():
        pref = stored.get(key)
        rows.append((key, rule.label, pref.in_app if pref else True, pref.email if pref else False))
    digest = stored.get(DIGEST)
    rows.append((DIGEST, _("Morning digest"), False, digest.email if digest else True))
    return rows


def notification_rule_labels():
    """{rule key: label} of the registry (what an admin may be shown of someone else's reminder)."""
    return {key: rule.label for key, rule in RULES.items()}


def notification_rules_for_settings():
    """[(rule, settings row or None)] in the registry's order."""
    rows = {row.key: row for row in NotificationRule.objects.all()}
    return [(rule, rows.get(key)) for key, rule in RULES.items()]


def email_failures(*, limit=200):
    """E-mails that failed for good, newest first, with their recipient and notification. Each row has
    `rule_label`: what the admin is shown of the reminder (its rule, never its record's name, which
    the admin may not be allowed to see)."""
    labels = notification_rule_labels()
    rows = list(EmailDelivery.objects.filter(status=EmailDelivery.Status.FAILED)
                .select_related("user", "notification").order_by("-id")[:limit])
    for row in rows:
        row.rule_label = labels.get(row.notification.rule, row.notification.rule) if row.notification else ""
    return rows
