"""The reminder engine on real Celery worker processes and the real Redis: a scan raises each reminder
once, a second scan nothing; a worker killed in the middle of a scan, the task delivered again to a
new worker: no duplicates and no gaps; an e-mail that keeps failing is retried, then shown to admins."""
import os
import signal
import time

import pytest
from django.urls import reverse

from conftest import paused_in_a_transaction, wait_for
from crm import tasks
from crm.models import EmailDelivery, Notification, NotificationPreference
from crm.notifications import RULES
from crm.tests.factories import CustomerFactory
from crm.tests.notification_builders import ago

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def counts():
    """Items (a group's included) per rule."""
    return {rule: Notification.objects.filter(rule=rule, is_group=False).count()
            for rule in ("followup_due", "not_followed_up")}


def groups():
    """{(rule, recipient): [sizes of its groups]}."""
    found = {}
    for rule, recipient, size in Notification.objects.filter(is_group=True).values_list(
            "rule", "recipient__username", "data__count"):
        found.setdefault((rule, recipient), []).append(size)
    return found


def book(rep_east, n=40):
    """n customers due for a follow-up, n (tier A) not followed up for 10 days: 2n reminders for
    rep_east, and n escalations to manager_east."""
    for i in range(n):
        CustomerFactory(owner=rep_east, name=f"到期客户{i}", next_followup_at=ago(hours=1))
        CustomerFactory(owner=rep_east, name=f"久未跟进{i}", tier="A", last_followup_at=ago(days=10))



def test_a_scan_on_the_worker_raises_each_reminder_once(celery_worker_process, rep_east, manager_east):
    book(rep_east, n=5)
    queue = celery_worker_process["queue"]
    tasks.notifications_scan.apply_async(queue=queue).get(timeout=60)
    tasks.notifications_scan.apply_async(queue=queue).get(timeout=60)
    assert counts() == {"followup_due": 5, "not_followed_up": 10}
    assert Notification.objects.filter(recipient=manager_east).count() == 5
    assert groups() == {}  # 5 of a kind each: not more than the threshold, so one by one


def test_a_scan_on_the_worker_groups_what_is_more_than_the_threshold_once(celery_worker_process, rep_east,
                                                                          manager_east):
    book(rep_east, n=6)
    queue = celery_worker_process["queue"]
    tasks.notifications_scan.apply_async(queue=queue).get(timeout=60)
    tasks.notifications_scan.apply_async(queue=queue).get(timeout=60)
    assert counts() == {"followup_due": 6, "not_followed_up": 12}
    assert groups() == {("followup_due", "rep_east"): [6], ("not_followed_up", "rep_east"): [6],
                        ("not_followed_up", "manager_east"): [6]}
    assert not Notification.objects.filter(is_group=False, group=None).exists()  # every item in its group



def test_a_worker_killed_mid_scan_leaves_no_duplicates_and_no_gaps(own_queue, rep_east, manager_east):
    book(rep_east)
    worker = own_queue(NOTIFY_SCAN_PAUSE="60")  # pauses inside the transaction of the second rule
    tasks.notifications_scan.apply_async()
    assert wait_for(lambda: counts()["followup_due"] == 40), counts()
    assert wait_for(paused_in_a_transaction, timeout=30)
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=20)
    # The first rule is done and kept; nothing of the second survives its dead transaction.
    assert wait_for(lambda: not paused_in_a_transaction(), timeout=10)
    assert counts() == {"followup_due": 40, "not_followed_up": 0}
    assert groups() == {("followup_due", "rep_east"): [40]}  # the first rule's group, whole

    own_queue()  # a new worker gets the task again from the broker and finishes the scan
    assert wait_for(lambda: counts()["not_followed_up"] == 80, timeout=90), counts()
    time.sleep(1)
    assert counts() == {"followup_due": 40, "not_followed_up": 80}
    rows = Notification.objects.values_list("rule", "recipient_id", "object_id", "period")
    assert len(set(rows)) == len(rows)
    assert tasks.notifications_scan.apply_async().get(timeout=60)["not_followed_up"]["raised"] == 0
    assert counts() == {"followup_due": 40, "not_followed_up": 80}
    # One group each, once, holding every item: nothing of the dead transaction's group survived.
    assert groups() == {("followup_due", "rep_east"): [40], ("not_followed_up", "rep_east"): [40],
                        ("not_followed_up", "manager_east"): [40]}
    assert not Notification.objects.filter(is_group=False, group=None).exists()


def test_an_email_that_keeps_failing_is_retried_then_shown_to_admins(own_queue, client_for, rep_east, admin):
    NotificationPreference.objects.create(user=rep_east, rule="followup_due", in_app=True, email=True)
    CustomerFactory(owner=rep_east, name="邮件失败客户", next_followup_at=ago(hours=1))
    own_queue(EMAIL_BACKEND="crm.tests.mail_backends.FailingBackend", NOTIFY_EMAIL_BACKOFF="0.5",
              NOTIFY_EMAIL_MAX_ATTEMPTS="3")
    tasks.notifications_scan.apply_async().get(timeout=60)
    delivery = wait_for(lambda: EmailDelivery.objects.filter(attempts__gte=1).first())
    assert delivery.status == "pending" and "SMTPServerDisconnected" in delivery.last_error
    assert delivery.next_attempt_at > delivery.created_at  # the retry waits (0.5 s here, 60 s by default)

    def retried_to_the_end():
        tasks.notification_emails_queue.apply_async().get(timeout=30)  # what beat does every minute
        return EmailDelivery.objects.filter(status="failed").first()

    failed = wait_for(retried_to_the_end, timeout=60, every=0.6)
    assert failed is not None and failed.attempts == 3
    page = client_for(admin).get(reverse("settings:reminders:failures")).content.decode()
    # The failed e-mail is listed by its rule, never by the record it names (admins may not see it).
    assert f'data-pk="{failed.pk}"' in page and "邮件失败客户" not in page
    assert str(RULES["followup_due"].label) in page
