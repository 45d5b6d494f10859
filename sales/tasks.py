"""Celery tasks of the sales app (thin wrappers over services, taking ids)."""
import datetime

from celery import shared_task


@shared_task(name="sales.tasks.instalments_mark_overdue")
def instalments_mark_overdue(today=None):
    """Beat, hourly: unpaid instalments past due become overdue (one UPDATE; safe to run twice).
    `today` (an ISO date) replaces the local date, for catching up or testing. Returns how many changed."""
    from .services.contracts import instalments_mark_overdue as mark_overdue

    return mark_overdue(today=datetime.date.fromisoformat(today) if today else None)
