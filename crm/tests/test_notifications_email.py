"""Reminder e-mails and the morning digest, sent through Django's mail backend (locmem here)."""
import datetime
import zoneinfo

import pytest
from django.core import mail
from django.utils import timezone

from crm import services
from crm.models import EmailDelivery, NotificationPreference
from crm.tests.factories import CustomerFactory
from crm.tests.notification_builders import ago, scan

pytestmark = [pytest.mark.django_db, pytest.mark.dates]


def send_due():
    services.notification_emails_queue()  # queued on commit; here: send what it picked
    ids = list(EmailDelivery.objects.filter(status="pending").values_list("pk", flat=True))
    return services.notification_emails_send(ids=ids)


@pytest.fixture
def wants_mail(rep_east):
    rep_east.email = "rep_east@example.com"
    rep_east.save()
    NotificationPreference.objects.create(user=rep_east, rule="followup_due", in_app=True, email=True)
    return rep_east


def test_a_reminder_is_mailed_once_in_the_recipients_language(wants_mail, django_capture_on_commit_callbacks):
    CustomerFactory(owner=wants_mail, name="邮件客户", next_followup_at=ago(hours=1))
    wants_mail.preferred_language = "en"
    wants_mail.save()
    scan()
    assert send_due() == {"sent": 1}
    assert send_due() == {}
    (message,) = mail.outbox
    assert message.to == ["rep_east@example.com"]
    assert "邮件客户" in message.subject and "Follow-up due" in message.subject
    assert "/notifications/" in message.body


def test_a_reminder_resolved_before_sending_is_not_mailed(wants_mail):
    customer = CustomerFactory(owner=wants_mail, next_followup_at=ago(hours=1))
    scan()
    customer.next_followup_at = None
    customer.save()
    scan()
    assert send_due() == {"skipped": 1}
    assert mail.outbox == []


def test_failures_back_off_and_stop_at_the_cap(wants_mail, settings):
    settings.EMAIL_BACKEND = "crm.tests.mail_backends.FailingBackend"
    settings.NOTIFY_EMAIL_MAX_ATTEMPTS, settings.NOTIFY_EMAIL_BACKOFF, settings.NOTIFY_EMAIL_BACKOFF_CAP = 4, 60, 100
    CustomerFactory(owner=wants_mail, next_followup_at=ago(hours=1))
    scan()
    delivery = EmailDelivery.objects.get()
    pauses = []
    for _ in range(4):
        now = timezone.now()
        services.notification_emails_send(ids=[delivery.pk], now=now)
        delivery.refresh_from_db()
        pauses.append(round((delivery.next_attempt_at - now).total_seconds()))
    assert pauses[:3] == [60, 100, 100]  # 60, 120 capped at 100
    assert (delivery.status, delivery.attempts) == ("failed", 4)
    assert services.notification_emails_queue() == 0  # never picked up again


def test_the_digest_goes_once_per_person_and_local_day(rep_east, rep_west):
    rep_east.email, rep_west.email = "e@example.com", "w@example.com"
    rep_east.time_zone, rep_west.time_zone = "Asia/Shanghai", "Europe/Berlin"
    rep_east.save()
    rep_west.save()
    CustomerFactory(owner=rep_east, name="今天跟进", next_followup_at=ago(minutes=1))
    only_they_have_mail(rep_east, rep_west)
    shanghai_0845 = datetime.datetime(2026, 3, 2, 8, 45, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))

    assert services.notifications_digests_queue(now=shanghai_0845) == 1  # Berlin is at 01:45
    assert services.notifications_digests_queue(now=shanghai_0845 + datetime.timedelta(minutes=15)) == 0
    digest = EmailDelivery.objects.get(kind="digest")
    assert (digest.user, digest.digest_day) == (rep_east, datetime.date(2026, 3, 2))
    assert services.notifications_digests_queue(now=shanghai_0845 - datetime.timedelta(minutes=30)) == 0  # 08:15


def test_the_digest_lists_the_day(rep_east):
    rep_east.email = "e@example.com"
    rep_east.save()
    only_they_have_mail(rep_east)
    morning = _local_0845(rep_east)  # today's 08:45, when the digest goes out, whatever the time is now
    CustomerFactory(owner=rep_east, name="今天跟进", next_followup_at=morning + datetime.timedelta(hours=9))
    CustomerFactory(owner=rep_east, name="逾期客户", next_followup_at=morning - datetime.timedelta(days=2))
    services.notifications_digests_queue(now=morning)
    assert send_due() == {"sent": 1}
    body = mail.outbox[0].body
    assert "今天跟进" in body and "逾期客户" in body


def only_they_have_mail(*users):
    """The fixtures' other people (managers, director) have addresses too; keep the tests to these."""
    from accounts.models import User

    User.objects.exclude(pk__in=[u.pk for u in users]).update(email="")


def _local_0845(user):
    zone = zoneinfo.ZoneInfo(user.time_zone)
    today = timezone.localtime(timezone.now(), zone).date()
    return datetime.datetime.combine(today, datetime.time(8, 45), tzinfo=zone)


def test_an_empty_digest_is_not_sent(rep_east):
    rep_east.email = "e@example.com"
    rep_east.save()
    only_they_have_mail(rep_east)
    services.notifications_digests_queue(now=_local_0845(rep_east))
    assert send_due() == {"skipped": 1}
    assert mail.outbox == []


def test_no_digest_for_those_who_turned_it_off(rep_east):
    rep_east.email = "e@example.com"
    rep_east.save()
    only_they_have_mail(rep_east)
    services.notification_preferences_save(user=rep_east, choices={"digest": (False, False)})
    assert services.notifications_digests_queue(now=_local_0845(rep_east)) == 0


def test_a_reminder_whose_record_is_out_of_sight_is_not_mailed(wants_mail, rep_west, teams):
    """The customer moved to another team before the e-mail went: rep_east is not told about it."""
    from crm.models import Customer

    customer = CustomerFactory(owner=wants_mail, name="转走的客户", next_followup_at=ago(hours=1))
    scan()
    Customer.objects.filter(pk=customer.pk).update(owner=rep_west, team=teams["beijing"])
    assert send_due() == {"skipped": 1}
    assert mail.outbox == []


def test_the_digest_shows_how_long_a_stale_deal_has_waited(rep_east):
    from crm.tests.notification_builders import deal, stage

    rep_east.email, rep_east.preferred_language = "e@example.com", "en"
    rep_east.save()
    only_they_have_mail(rep_east)
    customer = CustomerFactory(owner=rep_east, name="停滞客户")
    deal(customer, rep_east, stage_=stage(stale_after_days=10), entered=ago(days=14, hours=1), name="停滞商机")
    deal(customer, rep_east, stage_=stage(name="新阶段", stale_after_days=10), entered=ago(days=3), name="新商机")
    services.notifications_digests_queue(now=_local_0845(rep_east))
    assert send_due() == {"sent": 1}
    body = mail.outbox[0].body
    assert "停滞商机" in body and "14" in body.split("停滞商机", 1)[1].splitlines()[0]
    assert "新商机" not in body
