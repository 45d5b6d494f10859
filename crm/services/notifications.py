"""Writes of the reminders: the scan that raises and resolves notifications, the e-mails (queued in
batches, retried with growing pauses up to a cap), the morning digests, reading, preferences and the
admins' rule settings.

Guarantees:
- The scan runs each active rule as ONE statement over the whole table (insert what is due, queue
  its e-mails, resolve what no longer holds), in its own transaction under an advisory lock. The
  unique key (rule, recipient, record, period) makes a second, overlapping or redelivered scan
  insert nothing; a scan killed mid-way leaves whole rules done or not done, and the next run fills in.
- An e-mail is sent by one worker at a time (its row is locked while sending), retried by
  `next_attempt_at` (no countdowns on the broker), and marked failed after NOTIFY_EMAIL_MAX_ATTEMPTS.
- A digest is recorded once per person and local day (unique), so it goes once.
"""
import datetime
import logging
import time
from functools import partial

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage, get_connection
from django.db import connection, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.access import visible
from accounts.capabilities import Capability
from accounts.permissions import check
from accounts.services import audited

from ..lib.forked import can_fork, run_forked
from ..lib.queue import enqueue_on_commit
from ..lib.timezones import user_zone
from ..models import EmailDelivery, Notification, NotificationPreference, NotificationRule
from ..notifications import RULES

__all__ = [
    "DIGEST", "notification_email_retry", "notification_emails_queue", "notification_emails_send",
    "notification_mark_read", "notification_preferences_save", "notification_rule_save",
    "notification_rules_ensure", "notifications_digests_queue", "notifications_expire", "notifications_mark_all_read",
    "notifications_scan",
]

log = logging.getLogger(__name__)

DIGEST = "digest"  # the preference key of the morning digest
SCAN_LOCK = 0x4E4F54  # advisory lock class of the scan ("NOT"); the second key is the rule's hash
ANALYZE_AFTER = 10_000  # rows changed since the last ANALYZE, after which a scan refreshes the statistics

# One statement per rule. `fresh` is what is due and not raised yet (the rule's advisory lock makes the
# scans of one rule take turns, so what `fresh` finds missing is inserted by this statement alone; the
# unique key stays the guarantee). A person's fresh items beyond the rule's `group_over` become one
# group row (its data: the rule's `group_data` over them) and point at it; e-mails go for single
# items and groups, never for a group's items; resolving an item counts its group down, and
# resolves it with its last item.
_SCAN_SQL = """
WITH due AS MATERIALIZED ({due}),
fresh AS MATERIALIZED (
    SELECT due.* FROM due
    WHERE NOT EXISTS (SELECT 1 FROM crm_notification n
                      WHERE n.rule = %(rule_key)s AND n.recipient_id = due.recipient_id
                        AND n.object_id = due.object_id AND n.period = due.period)
),
grouped AS (
    INSERT INTO crm_notification (recipient_id, rule, object_id, period, due_at, subject, data, created_at, is_group)
    SELECT recipient_id, %(rule_key)s, 0, 'group@' || %(now_key)s, min(due_at), '',
           {group_data} || jsonb_build_object('count', count(*), 'open', count(*)), %(now)s, true
    FROM fresh GROUP BY recipient_id HAVING count(*) > %(group_over)s
    ON CONFLICT DO NOTHING
    RETURNING id, recipient_id
),
raised AS (
    INSERT INTO crm_notification (recipient_id, rule, object_id, period, due_at, subject, data, created_at, group_id)
    SELECT f.recipient_id, %(rule_key)s, f.object_id, f.period, f.due_at, left(f.subject, 200), f.data, %(now)s, g.id
    FROM fresh f LEFT JOIN grouped g ON g.recipient_id = f.recipient_id
    ON CONFLICT DO NOTHING
    RETURNING id, recipient_id, group_id
),
told AS (
    SELECT id, recipient_id FROM raised WHERE group_id IS NULL
    UNION ALL SELECT id, recipient_id FROM grouped
),
mailed AS (
    INSERT INTO crm_emaildelivery (kind, user_id, notification_id, status, attempts, next_attempt_at, last_error,
                                   created_at)
    SELECT 'notification', told.recipient_id, told.id, 'pending', 0, %(now)s, '', %(now)s
    FROM told
    JOIN crm_notificationpreference p ON p.user_id = told.recipient_id AND p.rule = %(rule_key)s AND p.email
    JOIN accounts_user u ON u.id = told.recipient_id AND u.email <> ''
    RETURNING 1
),
resolved AS (
    UPDATE crm_notification n SET resolved_at = %(now)s
    WHERE n.rule = %(rule_key)s AND n.resolved_at IS NULL AND NOT n.is_group
      AND NOT EXISTS (SELECT 1 FROM due WHERE due.object_id = n.object_id AND due.recipient_id = n.recipient_id
                                          AND due.period = n.period)
    RETURNING n.group_id
),
shrunk AS (
    UPDATE crm_notification g
    SET data = jsonb_set(g.data, '{{open}}', to_jsonb(GREATEST((g.data->>'open')::int - r.n, 0))),
        resolved_at = CASE WHEN (g.data->>'open')::int <= r.n THEN %(now)s END
    FROM (SELECT group_id, count(*) AS n FROM resolved WHERE group_id IS NOT NULL GROUP BY group_id) r
    WHERE g.id = r.group_id AND g.resolved_at IS NULL
    RETURNING g.resolved_at
)
SELECT (SELECT count(*) FROM raised), (SELECT count(*) FROM grouped), (SELECT count(*) FROM mailed),
       (SELECT count(*) FROM resolved), (SELECT count(*) FROM shrunk WHERE resolved_at IS NOT NULL)
"""


def notification_rules_ensure():
    """A settings row for every rule of the registry (a rule added in code starts with its defaults)."""
    NotificationRule.objects.bulk_create(
        [NotificationRule(key=key, params=rule.all_defaults()) for key, rule in RULES.items()], ignore_conflicts=True)


def _run_rule(rule, row, now, pause):
    """One rule in one transaction: (items raised, groups raised, e-mails queued, items resolved,
    groups resolved)."""
    with transaction.atomic(), connection.cursor() as cursor:
        # Overlapping scans take turns per rule (the unique key alone would be enough for correctness;
        # the lock spares the second one the work and any lock-order deadlock between the two).
        cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [SCAN_LOCK, rule.key])
        # The statement hashes and holds whole due sets (a million rows at scale): give it the memory.
        cursor.execute("SET LOCAL work_mem = %s", [settings.NOTIFY_SCAN_WORK_MEM])
        # Its anti-joins hashed, whatever the statistics say: a plan made while crm_notification looked
        # empty (a first scan, with the other scan process filling it meanwhile) ran as a nested loop
        # that read the table again for every due row (1.58M × a growing table: 20 minutes, measured).
        cursor.execute("SET LOCAL enable_nestloop = off")
        if row.is_active:
            due, params = rule.due(rule.params(row.params), now)
            params = {**params, "now": now, "now_key": now.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f"),
                      "rule_key": rule.key}
            cursor.execute(_SCAN_SQL.format(due=due, group_data=rule.group_data), params)
            counts = cursor.fetchone()
        else:  # switched off: its open reminders stop
            cursor.execute("UPDATE crm_notification SET resolved_at = %s WHERE rule = %s AND resolved_at IS NULL "
                           "RETURNING is_group", [now, rule.key])
            groups = sum(1 for (is_group,) in cursor.fetchall() if is_group)
            counts = (0, 0, 0, cursor.rowcount - groups, groups)
        if pause:  # only the crash test sets it: the worker is killed here, inside the transaction
            time.sleep(pause)
    return counts


def notifications_scan(*, now=None, keys=None, processes=None):
    """Run every rule (or those of `keys`) once. Returns {rule key: {"raised" (items, grouped ones
    too), "groups", "emails", "resolved" (items), "groups_resolved", "seconds"}}. Safe to run twice, to overlap, and to be killed and run again (see the module).

    The rules are spread over NOTIFY_SCAN_PROCESSES processes (the heaviest first, each to the least
    loaded), each running its rules in transactions of their own on its own connection: a first scan
    of a large book raises millions of rows, and the cores share that work. Inside a transaction (a
    test's) forked processes could not see its rows, so the rules run here, one after another."""
    now = now or timezone.now()
    notification_rules_ensure()
    rows = {row.key: row for row in NotificationRule.objects.all()}
    order = [key for key in RULES if keys is None or key in keys]
    wanted = processes or settings.NOTIFY_SCAN_PROCESSES
    if wanted <= 1 or len(order) <= 1 or not can_fork():
        log.info("reminder scan: %d rules in one process", len(order))
        results = _scan_rules(order, rows, now)
    else:
        shares = _spread(order, wanted)
        log.info("reminder scan: %d rules in %d processes", len(order), len(shares))
        parts = run_forked(*(partial(_scan_rules, share, rows, now) for share in shares))
        results = {key: part[key] for part in parts for key in part}
    return {key: results[key] for key in order}


def _spread(keys, processes):
    """The rules in `processes` lists of about equal weight (heaviest first, each to the lightest list)."""
    shares = [[] for _ in range(min(processes, len(keys)))]
    loads = [0] * len(shares)
    for key in sorted(keys, key=lambda key: -RULES[key].weight):
        lightest = loads.index(min(loads))
        shares[lightest].append(key)
        loads[lightest] += RULES[key].weight
    return shares


def _statistics_refreshed():
    """ANALYZE crm_notification before a rule's statement when the table changed by more than
    ANALYZE_AFTER rows (and a fifth) since its statistics were taken. A first scan of a large book grows
    it from nothing to millions, in this process or in the scan's other one; a rule's anti-joins planned
    on the old statistics take it for empty (a nested loop over 1,580,000 × 730,000 rows: 20 minutes,
    measured) until autovacuum comes round. The check reads two counters; nothing is analysed otherwise."""
    with connection.cursor() as cursor:
        cursor.execute("""SELECT s.n_mod_since_analyze, c.reltuples FROM pg_stat_user_tables s
                          JOIN pg_class c ON c.oid = s.relid WHERE s.relname = 'crm_notification'""")
        row = cursor.fetchone()
        if row and row[0] >= max(ANALYZE_AFTER, 0.2 * max(row[1], 0)):
            cursor.execute("ANALYZE crm_notification")


def _scan_rules(keys, rows, now):
    results = {}
    for key in keys:
        started = time.perf_counter()
        # Only the crash test sets the pause: inside the transaction of the registry's second rule.
        pause = settings.NOTIFY_SCAN_PAUSE if list(RULES).index(key) == 1 else 0
        _statistics_refreshed()
        raised, groups, emails, resolved, groups_resolved = _run_rule(RULES[key], rows[key], now, pause)
        if raised + resolved >= ANALYZE_AFTER:  # this process's own change, before its next rule
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE crm_notification")
        results[key] = {"raised": raised, "groups": groups, "emails": emails, "resolved": resolved,
                        "groups_resolved": groups_resolved, "seconds": round(time.perf_counter() - started, 3)}
    return results


def notifications_expire(*, now=None, keep_days=None):
    """(beat, daily) Delete notifications read or resolved more than NOTIFY_KEEP_DAYS days ago (with
    their e-mail records); open ones stay however old. One DELETE each. Returns how many."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=keep_days or settings.NOTIFY_KEEP_DAYS)
    with transaction.atomic(), connection.cursor() as cursor:
        done = "(n.resolved_at < %(cutoff)s OR n.read_at < %(cutoff)s)"
        cursor.execute(f"DELETE FROM crm_emaildelivery d USING crm_notification n "
                       f"WHERE d.notification_id = n.id AND {done}", {"cutoff": cutoff})
        cursor.execute(f"DELETE FROM crm_notification n WHERE {done}", {"cutoff": cutoff})
        return cursor.rowcount


# E-mail ----------------------------------------------------------------------------------------

def notification_emails_queue(*, now=None):
    """Queue the due e-mails (new ones and retries whose time has come) in batches of
    NOTIFY_EMAIL_BATCH. A queued row is not queued again for NOTIFY_EMAIL_LEASE seconds, so a backlog
    is not sent twice by two tasks. Returns how many were queued."""
    from ..tasks import notification_emails_send as send_task

    now = now or timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("""
            UPDATE crm_emaildelivery SET queued_until = %(until)s
            WHERE id IN (SELECT id FROM crm_emaildelivery
                         WHERE status = 'pending' AND next_attempt_at <= %(now)s
                           AND (queued_until IS NULL OR queued_until < %(now)s)
                         ORDER BY next_attempt_at LIMIT %(limit)s FOR UPDATE SKIP LOCKED)
            RETURNING id""", {"now": now, "until": now + datetime.timedelta(seconds=settings.NOTIFY_EMAIL_LEASE),
                              "limit": settings.NOTIFY_EMAIL_QUEUE_LIMIT})
        ids = sorted(pk for (pk,) in cursor.fetchall())
        size = settings.NOTIFY_EMAIL_BATCH
        for start in range(0, len(ids), size):
            enqueue_on_commit(send_task, ids=ids[start:start + size])
    return len(ids)


def _site_url(path):
    return settings.NOTIFY_SITE_URL.rstrip("/") + path


def _compose(delivery, now):
    """The message of a delivery in its recipient's language and time zone, or None when there is
    nothing to send any more (the reminder was read or resolved, its record is out of the recipient's
    sight now, the digest is empty)."""
    from ..selectors.notifications import digest_for

    user = delivery.user
    with translation.override(user.preferred_language), timezone.override(user_zone(user)):
        if delivery.kind == EmailDelivery.Kind.DIGEST:
            digest = digest_for(user, now=now)
            if digest["empty"]:
                return None
            subject = _("Your day: %(date)s") % {"date": delivery.digest_day}
            body = render_to_string("crm/notifications/email_digest.txt", {
                "user": user, "digest": digest, "site": _site_url(""),
                "centre": _site_url(reverse("notifications:list"))})
        else:
            notification = delivery.notification
            text = _text_if_visible(user, notification) if notification.is_open else None
            if text is None:
                return None
            subject = text[:150]
            body = render_to_string("crm/notifications/email_notification.txt", {
                "user": user, "text": text,
                "link": _site_url(reverse("notifications:open", args=[notification.pk]))})
    # A header people's mail filters (and our tests) can sort reminders by.
    return EmailMessage(subject=subject, body=body, to=[user.email], headers={"X-CRM-Kind": "reminder"})


def _text_if_visible(user, notification):
    """What the notification says, or None when `user` may no longer see its record (a group: none
    of its open records) — the scan resolves it later; the mail must not tell them about it meanwhile.
    A group says how many of its records `user` may open."""
    from ..selectors.notifications import with_texts

    rule = RULES.get(notification.rule)
    if rule is None:
        return None
    if not notification.is_group and not visible(user, rule.record_model()).filter(pk=notification.object_id).exists():
        return None
    row = with_texts([notification], user)[0]
    return row.text if row.visible else None


def _record_failure(delivery, error, now):
    delivery.attempts += 1
    delivery.last_error = f"{type(error).__name__}: {error}"[:2000]
    delivery.queued_until = None
    if delivery.attempts >= settings.NOTIFY_EMAIL_MAX_ATTEMPTS:
        delivery.status = EmailDelivery.Status.FAILED
    else:  # 1, 2, 4, 8 … times the base, never more than the cap
        pause = min(settings.NOTIFY_EMAIL_BACKOFF * 2 ** (delivery.attempts - 1), settings.NOTIFY_EMAIL_BACKOFF_CAP)
        delivery.next_attempt_at = now + datetime.timedelta(seconds=pause)


def notification_emails_send(*, ids, now=None):
    """Send the pending deliveries of `ids`, each in its own transaction with its row locked (a
    second task holding the same ids skips it, and finds it sent afterwards). A failure counts an
    attempt and sets the next one; the last one marks it failed. Returns {status: count}."""
    mail = get_connection()
    counts = {}
    for delivery_id in ids:
        now_ = now or timezone.now()
        with transaction.atomic():
            delivery = (EmailDelivery.objects.select_for_update(skip_locked=True, of=("self",))
                        .select_related("user", "notification").filter(pk=delivery_id, status="pending").first())
            if delivery is None:
                continue
            try:
                message = _compose(delivery, now_)
                if message is None:
                    delivery.status = EmailDelivery.Status.SKIPPED
                else:
                    message.connection = mail
                    message.send()
                    delivery.status, delivery.sent_at = EmailDelivery.Status.SENT, now_
                    delivery.attempts += 1
            except Exception as error:  # noqa: BLE001 - any failure of the mail server is retried
                log.warning("e-mail %s failed: %s", delivery.pk, error)
                _record_failure(delivery, error, now_)
            delivery.save(update_fields=["status", "sent_at", "attempts", "last_error", "next_attempt_at",
                                         "queued_until"])
        counts[delivery.status] = counts.get(delivery.status, 0) + 1
    return counts


def notifications_digests_queue(*, now=None):
    """Record today's digest for everyone whose local time has passed NOTIFY_DIGEST_TIME (within
    NOTIFY_DIGEST_WINDOW hours, so a late beat catches up but a new user does not get one at night)
    and who has not had it yet; one INSERT, unique per person and local day. Returns how many."""
    now = now or timezone.now()
    start = datetime.datetime.strptime(settings.NOTIFY_DIGEST_TIME, "%H:%M")
    until = start + datetime.timedelta(hours=settings.NOTIFY_DIGEST_WINDOW)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("""
            INSERT INTO crm_emaildelivery (kind, user_id, digest_day, status, attempts, next_attempt_at, last_error,
                                           created_at)
            SELECT 'digest', u.id, (%(now)s AT TIME ZONE u.time_zone)::date, 'pending', 0, %(now)s, '', %(now)s
            FROM accounts_user u
            WHERE u.is_active AND u.email <> '' AND u.time_zone IN (SELECT name FROM pg_timezone_names)
              AND (%(now)s AT TIME ZONE u.time_zone)::time >= %(start)s
              AND (%(now)s AT TIME ZONE u.time_zone)::time < %(until)s
              AND NOT EXISTS (SELECT 1 FROM crm_notificationpreference p
                              WHERE p.user_id = u.id AND p.rule = %(digest)s AND NOT p.email)
            ON CONFLICT DO NOTHING
            RETURNING id""", {"now": now, "start": start.time(), "digest": DIGEST,
                              "until": min(until, start.replace(hour=23, minute=59)).time()})
        return len(cursor.fetchall())


def notification_email_retry(*, delivery, by):
    """An admin sends a failed e-mail again: it waits for the next delivery round, attempts reset."""
    check(by, permission=Capability.MANAGE_USERS)
    if delivery.status != EmailDelivery.Status.FAILED:
        raise ValidationError(_("Only a failed e-mail can be sent again."), code="not_failed")
    with audited(by, "notification_email_retry"):
        EmailDelivery.objects.filter(pk=delivery.pk).update(
            status=EmailDelivery.Status.PENDING, attempts=0, next_attempt_at=timezone.now(), queued_until=None)


# Reading ---------------------------------------------------------------------------------------

def notification_mark_read(*, notification, by):
    """`by` has read one of their notifications (someone else's: refused)."""
    if notification.recipient_id != by.pk:
        raise PermissionDenied
    # A group read is its items read (they were told as one; the nightly clean-up then takes them together).
    Notification.objects.filter(Q(pk=notification.pk) | Q(group_id=notification.pk), recipient=by,
                                read_at__isnull=True).update(read_at=timezone.now())


def notifications_mark_all_read(*, by, rule=None):
    """Every unread notification of `by` (of one rule, if given) is read; one UPDATE. Returns how many."""
    qs = Notification.objects.filter(recipient=by, read_at__isnull=True)
    if rule:
        qs = qs.filter(rule=rule)
    return qs.update(read_at=timezone.now())


# Preferences and settings ----------------------------------------------------------------------

def notification_preferences_save(*, user, choices):
    """`choices` is {rule key or DIGEST: (in_app, email)}; one upsert. Unknown keys are refused."""
    unknown = set(choices) - set(RULES) - {DIGEST}
    if unknown:
        raise ValidationError(_("Unknown reminder."), code="unknown")
    rows = [NotificationPreference(user=user, rule=key, in_app=bool(in_app), email=bool(email))
            for key, (in_app, email) in choices.items()]
    with audited(user, "notification_preferences_save"):
        NotificationPreference.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["user", "rule"], update_fields=["in_app", "email"])


def notification_rule_save(*, by, key, is_active, params):
    """An admin switches a rule on or off and sets its parameters (checked against the rule's
    fields: no unknown one, whole numbers within the fields' bounds; one not given keeps its value)."""
    check(by, permission=Capability.MANAGE_USERS)
    rule = RULES.get(key)
    if rule is None:
        raise ValidationError(_("Unknown reminder."), code="unknown")
    fields = rule.param_fields()
    if set(params) - set(fields):
        raise ValidationError(_("This reminder has no such setting."), code="params")
    notification_rules_ensure()
    with audited(by, "notification_rule_save"):
        row = NotificationRule.objects.select_for_update().get(key=key)
        # A parameter not given keeps its value (e.g. the grouping threshold, added to every rule later).
        current = rule.params(row.params)
        clean = {name: field.clean(params.get(name, current[name])) for name, field in fields.items()}
        row.is_active, row.params, row.updated_by = is_active, clean, by
        row.save()
    return row
