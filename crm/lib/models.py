"""The platform's own tables (registered with the crm app through crm.models)."""
import uuid

from django.db import models


class QueuedTask(models.Model):
    """A Celery task recorded in the transaction of the rows it works on (a transactional outbox,
    crm.lib.queue): sent to the broker after the commit and then marked sent; one the broker did not
    take waits here until beat's sweep sends it. Its `task_id` is the message's, every time it is sent."""

    name = models.CharField(max_length=200)
    kwargs = models.JSONField(default=dict)
    task_id = models.UUIDField(default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)  # failed sends
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["id"], name="queuedtask_waiting", condition=models.Q(sent_at__isnull=True)),
            models.Index(fields=["sent_at"], name="queuedtask_sent"),
        ]
