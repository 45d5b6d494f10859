"""Celery tasks of the service desk (thin wrappers over services, taking ids)."""
from celery import shared_task


@shared_task(name="service.tasks.tickets_escalate")
def tickets_escalate():
    """Beat, every five minutes: tickets long past their deadline go to their team lead (one statement;
    each ticket once, so safe to run twice). Returns how many."""
    from .services.escalation import tickets_escalate as escalate

    return escalate()
