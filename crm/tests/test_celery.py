"""Tasks through a real Celery worker process on the real Redis."""
import datetime
import uuid

import pytest
from django.utils import timezone

from accounts import services
from accounts.models import Share
from crm.celery import app
from crm.tasks import ping

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


MAIL_SEPARATOR = "\n" + "-" * 79 + "\n"


def sent_mails(mail_dir):
    """The mails the worker wrote, less the reminders (the same worker sends those for other tests).

    Django's file backend names a file by the second and the connection's id, so two mails sent within a
    second can share a file (ids are reused): the mails are counted inside the files, not as files.
    """
    mails = []
    for path in sorted(mail_dir.glob("*.log")):
        mails += [mail for mail in path.read_text().split(MAIL_SEPARATOR) if mail.strip()]
    return [mail for mail in mails if "X-CRM-Kind: reminder" not in mail]


def test_it_runs_a_task_on_a_real_worker(celery_worker_process):
    result = ping.apply_async(queue=celery_worker_process["queue"])
    assert result.get(timeout=30) == "pong"


def test_it_has_the_reliability_settings():
    conf = app.conf
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_serializer == "json" and conf.accept_content == ["json"]
    assert conf.task_time_limit > conf.task_soft_time_limit > 0
    assert conf.beat_scheduler == "django_celery_beat.schedulers:DatabaseScheduler"


def test_it_expires_shares_on_the_worker_and_is_safe_twice(celery_worker_process, rep_east, rep_west):
    from accounts.tasks import shares_expire
    from crm.tests.factories import CustomerFactory

    customer = CustomerFactory(owner=rep_west)
    share = services.share_create(obj=customer, by=rep_west, user=rep_east,
                                  expires_at=timezone.now() + datetime.timedelta(minutes=5))
    Share.objects.filter(pk=share.pk).update(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    queue = celery_worker_process["queue"]
    assert shares_expire.apply_async(queue=queue).get(timeout=30) == 1
    assert shares_expire.apply_async(queue=queue).get(timeout=30) == 0
    assert not Share.objects.filter(pk=share.pk).exists()


def test_it_mails_a_password_reset_once_after_commit(celery_worker_process, admin, rep_east):
    from accounts.tasks import notify_password_reset

    mail_dir = celery_worker_process["mail_dir"]
    before = len(sent_mails(mail_dir))
    services.user_reset_password(user=rep_east, password="Tmp-pass-2026!", by=admin)
    deadline = timezone.now() + datetime.timedelta(seconds=30)
    while len(sent_mails(mail_dir)) == before and timezone.now() < deadline:
        import time

        time.sleep(0.2)
    mails = sent_mails(mail_dir)
    assert len(mails) == before + 1
    assert rep_east.email in mails[-1]
    # the same event delivered again sends nothing more
    event_id = f"redelivered-{uuid.uuid4()}"
    queue = celery_worker_process["queue"]
    assert notify_password_reset.apply_async(kwargs={"user_id": rep_east.pk, "event_id": event_id}, queue=queue).get(timeout=30)
    assert not notify_password_reset.apply_async(kwargs={"user_id": rep_east.pk, "event_id": event_id}, queue=queue).get(timeout=30)
    assert len(sent_mails(mail_dir)) == before + 2


def test_beat_runs_every_scheduled_task_that_exists():
    """Each beat entry names a registered task (a typo would fail silently at night)."""
    app.loader.import_default_modules()
    schedule = app.conf.beat_schedule
    assert {"pool-apply-rules", "files-expire"} <= set(schedule)
    for entry in schedule.values():
        assert entry["task"] in app.tasks, entry["task"]
