"""Satisfaction surveys of resolved tickets. SERVICE_SURVEY_AFTER_HOURS after a ticket is resolved (and
still resolved or closed: a reopened one waits for its next resolution) beat issues its survey, set-based,
and mails the link to the contact; the agent may issue it at once to copy the link into WeChat or an SMS.

The link's token is the ticket's id signed with the site's key (salt below): it cannot be guessed, the
agent's page can show it again, and only its hash is stored, so a copy of the database answers nothing.
GET shows the page, POST records (mail scanners open links): see service/survey_views.py."""
import datetime
import hashlib
import logging

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q, Value
from django.db.models.functions import Coalesce, NullIf
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm.lib import inputs
from crm.lib.audit import audited

from ..models import Survey, Ticket, TicketStatus
from .tickets import _require_edit

log = logging.getLogger(__name__)
SALT = "service.survey"
# Tickets resolved longer ago than this get no survey (when surveys are first switched on, say).
ISSUE_WITHIN = datetime.timedelta(days=7)


def survey_token(ticket_id):
    """The link's token: the ticket's id, signed (the same every time, so the agent's page can show it)."""
    return signing.Signer(salt=SALT).sign(str(ticket_id))


def token_hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


def survey_url(survey):
    return settings.NOTIFY_SITE_URL.rstrip("/") + reverse("survey:answer", args=[survey_token(survey.ticket_id)])


def survey_by_token(token):
    """The survey a link names, or None (a token we did not sign, or no such survey)."""
    try:
        ticket_id = inputs.parse_id(signing.Signer(salt=SALT).unsign(token))
    except signing.BadSignature:
        return None
    if ticket_id is None:
        return None
    return Survey.objects.select_related("ticket__customer", "ticket__type").filter(
        ticket_id=ticket_id, token_hash=token_hash(token)).first()


def _quarter_start(now):
    today = timezone.localdate(now)
    first = datetime.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    return timezone.make_aware(datetime.datetime.combine(first, datetime.time()))


def _new_surveys(rows, now):
    """Survey rows for (ticket id, customer id, e-mail) tuples: NPS asked of each customer's first survey of
    the quarter (one query for the customers already asked)."""
    asked = set(Survey.objects.filter(customer_id__in={r[1] for r in rows}, asks_nps=True,
                                      created_at__gte=_quarter_start(now)).values_list("customer_id", flat=True))
    surveys = []
    for ticket_id, customer_id, email in sorted(rows):
        asks = customer_id not in asked
        asked.add(customer_id)
        surveys.append(Survey(ticket_id=ticket_id, customer_id=customer_id, asks_nps=asks, created_at=now,
                              expires_at=now + datetime.timedelta(days=settings.SERVICE_SURVEY_DAYS),
                              token_hash=token_hash(survey_token(ticket_id)), mailed_to=email or ""))
    return surveys


def _due_rows(tickets):
    """(ticket id, customer id, the contact's e-mail or else the customer's) of those without a survey."""
    return list(tickets.filter(survey=None).values_list(
        "pk", "customer_id", Coalesce(NullIf("contact__email", Value("")), NullIf("customer__email", Value("")))))


def surveys_issue(*, now=None):
    """Issue the surveys due: tickets resolved SERVICE_SURVEY_AFTER_HOURS ago (within a week), still resolved
    or closed, without one. One read and one insert; a second run adds nothing. Returns how many."""
    now = now or timezone.now()
    after = datetime.timedelta(hours=settings.SERVICE_SURVEY_AFTER_HOURS)
    due = Ticket.objects.filter(status__in=[TicketStatus.RESOLVED, TicketStatus.CLOSED],
                                resolved_at__lte=now - after, resolved_at__gt=now - after - ISSUE_WITHIN)
    with audited(None, "surveys_issue"):
        created = Survey.objects.bulk_create(_new_surveys(_due_rows(due), now), ignore_conflicts=True)
    return len(created)


def survey_issue(*, ticket, by):
    """The ticket's survey now (an agent copying the link): for a resolved or closed ticket, once."""
    _require_edit(ticket, by)
    status = Ticket.objects.values_list("status", flat=True).get(pk=ticket.pk)
    if status not in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
        raise ValidationError(_("A survey is sent once the ticket is resolved."))
    now = timezone.now()
    with audited(by, "survey_issue"):
        Survey.objects.bulk_create(_new_surveys(_due_rows(Ticket.objects.filter(pk=ticket.pk)), now),
                                   ignore_conflicts=True)
    return Survey.objects.get(ticket=ticket)


def surveys_mail(*, now=None, limit=200):
    """Mail the link of each issued survey not mailed yet that has an address: each claimed by one UPDATE
    before its mail goes (two runs never mail it twice), given back for the next run if the mail fails.
    Returns how many were mailed."""
    now = now or timezone.now()
    with transaction.atomic():
        ids = list(Survey.objects.select_for_update(skip_locked=True).filter(
            mailed_at=None, expires_at__gt=now).exclude(mailed_to="").values_list("pk", flat=True)[:limit])
        Survey.objects.filter(pk__in=ids).update(mailed_at=now)
    sent = 0
    for survey in Survey.objects.filter(pk__in=ids).select_related("ticket"):
        try:
            _mail(survey)
        except Exception as error:  # noqa: BLE001 - any failure of the mail server: try again next run
            log.warning("survey %s not mailed: %s", survey.pk, error)
            Survey.objects.filter(pk=survey.pk).update(mailed_at=None)
        else:
            sent += 1
    return sent


def _mail(survey):
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("How did we do? Ticket %(reference)s") % {"reference": survey.ticket.reference}
        body = _("Your request “%(subject)s” (%(reference)s) has been resolved. Please tell us in one "
                 "minute how satisfied you are; the link is valid for %(days)d days:\n\n%(url)s\n") % {
            "subject": survey.ticket.subject, "reference": survey.ticket.reference,
            "days": settings.SERVICE_SURVEY_DAYS, "url": survey_url(survey)}
    send_mail(subject, body, None, [survey.mailed_to])


def survey_answer(*, survey, csat, comment="", nps=None, now=None):
    """Record (or, within SERVICE_SURVEY_CHANGE_HOURS of the first answer, change) the answer of a survey not
    expired. Returns the survey."""
    now = now or timezone.now()
    if survey.expires_at <= now:
        raise ValidationError(_("This survey has expired."), code="expired")
    if survey.answered_at and now > survey.answered_at + datetime.timedelta(hours=settings.SERVICE_SURVEY_CHANGE_HOURS):
        raise ValidationError(_("Your answer was recorded and can no longer be changed."), code="final")
    with audited(None, "survey_answer"):
        updated = Survey.objects.filter(pk=survey.pk).filter(
            Q(answered_at=None) | Q(answered_at__gte=now - datetime.timedelta(hours=settings.SERVICE_SURVEY_CHANGE_HOURS))
        ).update(csat=csat, comment=comment.strip()[:2000], nps=nps if survey.asks_nps else None,
                 answered_at=survey.answered_at or now)
    if not updated:
        raise ValidationError(_("Your answer was recorded and can no longer be changed."), code="final")
    survey.refresh_from_db()
    return survey


def survey_followed_up(*, survey, by):
    """Record that someone followed up a low score (its reminder to the team lead stops)."""
    _require_edit(survey.ticket, by)
    with audited(by, "survey_followed_up"):
        Survey.objects.filter(pk=survey.pk, followed_up_at=None).update(followed_up_at=timezone.now(),
                                                                        followed_up_by=by)
