"""Queueing Celery work from services, through a transactional outbox.

`enqueue_on_commit(task, **kwargs)` records the task (its name and keyword arguments, ids and plain
values only) as a `QueuedTask` row in the caller's transaction: it exists exactly when the rows it
works on do, and a rolled-back write queues nothing. After the commit the row is sent to the broker
and marked sent. When the broker does not answer (Redis down), the request still succeeds: the row
waits, the user is told the work starts when the background service is back
(`QueuedTaskNoticeMiddleware`), and beat's sweep (`queued_tasks_send`, every minute) sends it once
the broker is back.

Sent once: a row is locked while it is being sent (the others skip it) and marked sent in the same
transaction, so neither a second sweep nor the commit's own send publishes it again. A process that
dies between publishing and its commit leaves the row waiting and it goes again, with the same task
id: tasks are safe to run twice.
"""
import contextvars
import datetime
import json
import logging

import redis
from django.contrib import messages
from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)

# What a broker that does not answer raises (kombu wraps most of it in OperationalError).
BROKER_DOWN = (OperationalError, OSError, redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
# One quick reconnect, then give up: the row waits for the sweep, the request does not.
RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
SWEEP_BATCH = 500
KEEP_SENT = datetime.timedelta(days=7)

# Ids of the tasks a request could not send, collected by QueuedTaskNoticeMiddleware.
_held_back = contextvars.ContextVar("crm_queue_held_back", default=None)


def enqueue_on_commit(task, **kwargs):
    """Record `task` with keyword arguments in the current transaction; send it after the commit."""
    from .models import QueuedTask

    queued = QueuedTask.objects.create(name=task.name, kwargs=kwargs)
    transaction.on_commit(lambda: queued_task_send(queued.pk))


def _publish(name, kwargs, task_id, producer=None):
    from ..celery import app

    app.send_task(name, kwargs=kwargs, task_id=str(task_id), producer=producer, retry=True,
                  retry_policy=RETRY_POLICY)


def queued_task_send(pk):
    """(after a commit) Send one recorded task and mark it sent, unless it is sent already or a sweep
    is sending it. Returns False when the broker did not take it: it waits for the sweep then."""
    try:
        # Marked sent and sent in one transaction: rolled back, the row waits again.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "UPDATE crm_queuedtask SET sent_at = now() WHERE id = (SELECT id FROM crm_queuedtask "
                "WHERE id = %s AND sent_at IS NULL FOR UPDATE SKIP LOCKED) RETURNING name, kwargs, task_id", [pk])
            row = cursor.fetchone()
            if row is not None:
                name, kwargs, task_id = row
                _publish(name, json.loads(kwargs) if isinstance(kwargs, str) else kwargs, task_id)
    except BROKER_DOWN as exc:
        _waiting([pk], exc)
        held = _held_back.get()
        if held is not None:
            held.append(pk)
        return False
    return True


def _waiting(pks, exc):
    from .models import QueuedTask

    logger.warning("The broker did not answer; %d task(s) wait for the sweep: %s", len(pks), exc)
    QueuedTask.objects.filter(pk__in=pks).update(attempts=F("attempts") + 1, last_error=str(exc)[:300])


def queued_tasks_send(*, now=None):
    """(beat, every minute) Send the recorded tasks still waiting, oldest first, in batches, and
    delete those sent more than a week ago. Safe to run twice and to overlap: a row another process
    is sending is skipped, a sent one is never sent again. Stops at the first send the broker
    refuses (the rest wait for the next sweep). Returns how many it sent."""
    from ..celery import app
    from .models import QueuedTask

    sent = 0
    while True:
        with transaction.atomic():
            rows = list(QueuedTask.objects.select_for_update(skip_locked=True).filter(sent_at__isnull=True)
                        .order_by("id").values_list("pk", "name", "kwargs", "task_id")[:SWEEP_BATCH])
            done = []
            try:
                with app.producer_or_acquire() as producer:
                    for pk, name, kwargs, task_id in rows:
                        _publish(name, kwargs, task_id, producer=producer)
                        done.append(pk)
            except BROKER_DOWN as exc:
                QueuedTask.objects.filter(pk__in=done).update(sent_at=Now())
                _waiting([row[0] for row in rows[len(done):]], exc)
                return sent + len(done)
            QueuedTask.objects.filter(pk__in=done).update(sent_at=Now())
        sent += len(done)
        if len(rows) < SWEEP_BATCH:
            break
    QueuedTask.objects.filter(sent_at__lt=(now or timezone.now()) - KEEP_SENT).delete()
    return sent


class QueuedTaskNoticeMiddleware:
    """When a request's tasks could not be sent (the broker is down), tell the user that the work is
    recorded and starts when the background service is back, instead of failing the request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        held = []
        token = _held_back.set(held)
        try:
            response = self.get_response(request)
        finally:
            _held_back.reset(token)
        if held:
            messages.warning(request, _("Queued: it starts when the background service is back "
                                        "(the service is not answering right now)."), fail_silently=True)
        return response
