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


@shared_task(name="service.tasks.tickets_sla_recompute")
def tickets_sla_recompute(calendar_ids=(), default=False, policy_ids=()):
    """Queued on commit when an admin changes a working calendar or an SLA policy: the open tickets on
    those calendars (`default`: on the default one) or of those policies get their deadlines worked
    out again (in chunks, one UPDATE each; safe to run twice). Returns how many changed."""
    from .services.recompute import tickets_sla_recompute as recompute

    return recompute(calendar_ids=calendar_ids, default=default, policy_ids=policy_ids)


@shared_task(name="service.tasks.service_mail")
def service_mail():
    """Beat, every SERVICE_MAIL_POLL_SECONDS: read the service mailbox (new mail opens tickets, replies go to
    theirs; each message once, marked read after its commit), then send the reply mails due again after a
    failure. Returns ({outcome: count}, mails sent)."""
    from .services.mail import mail_fetch, ticket_reply_mails_retry

    sent = ticket_reply_mails_retry()  # first: a mailbox that does not answer must not hold the replies back
    return mail_fetch(), sent


@shared_task(name="service.tasks.ticket_reply_mail")
def ticket_reply_mail(entry_id):
    """Queued on commit by a reply to the customer: mail it (claimed first, so a second run sends nothing).
    Returns its status, or None when it was sent or is being sent already."""
    from .services.mail import ticket_reply_mail_send

    return ticket_reply_mail_send(entry_id=entry_id)
