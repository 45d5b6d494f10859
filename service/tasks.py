"""Celery tasks of the service desk (thin wrappers over services, taking ids)."""
from celery import shared_task


@shared_task(name="service.tasks.tickets_escalate")
def tickets_escalate():
    """Beat, every five minutes: tickets long past their deadline go to their team lead (one statement;
    each ticket once, so safe to run twice). Returns how many."""
    from .services.escalation import tickets_escalate as escalate

    return escalate()


@shared_task(name="service.tasks.surveys_send")
def surveys_send():
    """Beat, every 15 minutes: issue the surveys due (one insert; safe to run twice), then mail their links
    (each claimed before it goes). Returns (issued, mailed)."""
    from .services.surveys import surveys_issue, surveys_mail

    return surveys_issue(), surveys_mail()
