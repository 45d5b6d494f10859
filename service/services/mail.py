"""The service desk's e-mail: the mailbox job that turns new mail into tickets and customers' replies into
their tickets' timelines, and the agents' replies mailed to the customers.

In (`mail_fetch`, beat every SERVICE_MAIL_POLL_SECONDS; nothing without SERVICE_MAIL_IMAP_HOST): each
unread message of the folder is parsed (service.mail) and acted on in one transaction that also records it
(`InboundMail`, unique by its folder's UID and by its Message-ID); only after the commit is it marked read
(or moved). A run that dies before the commit leaves it unread and unrecorded: the next run takes it. One
that dies after leaves it recorded: the next run only marks it read. The same message delivered twice is
one. A message that fails is left unread and tried again next run (the log says why).

- A reply finds its ticket by the Message-IDs it answers (In-Reply-To, References) among those stored on
  timeline entries (every mailed reply and every mail read has its own), else by the reference in its
  subject ("[#123]") when the sender is one the ticket corresponds with (its contact, its customer's or
  a contact's address, or a sender of earlier mail on it): anyone else naming a ticket opens a new one,
  so a stranger cannot write into another customer's ticket. The quoted earlier message is cut off.
  A customer's reply on a ticket waiting on them, or resolved within SERVICE_REOPEN_DAYS, puts it back to
  work; on a closed one (or resolved longer ago) it opens a follow-up ticket.
- New mail opens a ticket (channel e-mail, SERVICE_MAIL_TICKET_TYPE) for the customer the sender's address
  matches as on the web form (a contact's e-mail, else a customer's own). A sender no customer matches
  is not refused, since a good service desk loses no request: the ticket goes to
  SERVICE_MAIL_UNKNOWN_SENDER_CUSTOMER, by default the web form's placeholder customer, whose tickets wait
  in the unassigned queue for a service manager to move to the right customer.
- Attachments pass the same checks as uploads; one refused (kind, size, count) is named in an internal
  note on the ticket, never dropped unseen.
- Auto-replies, bounces and bulk mail (Auto-Submitted, Precedence, mailer-daemon, a null Return-Path,
  delivery reports) and mail from the desk's own address are recorded as ignored and open nothing. The
  desk never answers mail by itself, so no loop can start here.

Out (`reply_mail_queue` in the reply's transaction, then the task): a reply to the customer (not a note)
on a ticket with an address (reply_address) gets a `TicketMail` and a Message-ID on its entry; the task
claims it, sends it through Django's mail with the ticket's reference in the subject, In-Reply-To and
References naming the thread, and its attachments, and marks it sent. A task run twice finds it claimed or
sent and sends nothing. A failure is retried by beat's run with growing pauses, then shown as not sent.
A worker that dies after the server took the mail but before marking it sent has it sent again when the
claim expires: the same Message-ID lets mail clients show it once."""
import datetime
import logging
from email.utils import make_msgid, parseaddr

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.mail import EmailMessage
from django.db import IntegrityError, connection
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm.lib.audit import audited
from crm.lib.queue import enqueue_on_commit

from ..mail import Mailbox, parse, strip_quoted, subject_with_reference, ticket_reference
from ..models import Channel, EntryKind, InboundMail, Ticket, TicketEntry, TicketMail, TicketStatus, TicketType
from .attachments import attachments_check, attachments_store
from .tickets import _locked, _move, _save, next_due, reopen_days, ticket_create

log = logging.getLogger(__name__)
S = TicketStatus
_FETCH_LOCK = "service.mail_fetch"
# Message-IDs of a thread read at most (a long References header names every earlier mail).
THREAD_IDS = 50
# How long a reply's mail stays claimed by the attempt sending it.
SEND_LEASE = datetime.timedelta(minutes=15)
RETRY_BATCH = 50


def service_address():
    """The desk's own address (replies come from it; mail from it is a loop)."""
    return parseaddr(settings.SERVICE_MAIL_ADDRESS or settings.DEFAULT_FROM_EMAIL)[1].lower()


def _own_addresses():
    """The addresses whose mail is the desk's own: the service address and the mailbox's login, if it
    is an address."""
    user = settings.SERVICE_MAIL_IMAP_USER.lower()
    return {service_address(), *([user] if "@" in user else [])}


# In ----------------------------------------------------------------------------------------------

def mailbox():
    """The configured folder (service.mail.Mailbox), or None when no host is set."""
    if not settings.SERVICE_MAIL_IMAP_HOST:
        return None
    return Mailbox(host=settings.SERVICE_MAIL_IMAP_HOST, port=settings.SERVICE_MAIL_IMAP_PORT,
                   security=settings.SERVICE_MAIL_IMAP_SECURITY, user=settings.SERVICE_MAIL_IMAP_USER,
                   password=settings.SERVICE_MAIL_IMAP_PASSWORD, folder=settings.SERVICE_MAIL_IMAP_FOLDER,
                   done_folder=settings.SERVICE_MAIL_IMAP_DONE_FOLDER, timeout=settings.SERVICE_MAIL_IMAP_TIMEOUT)


def mail_fetch(*, limit=None):
    """Read the mailbox's unread messages (SERVICE_MAIL_BATCH at most), each acted on and recorded once,
    then marked read. One run at a time (a second returns at once). Returns {outcome: count}, with
    "failed" for messages left for the next run; {} without a mailbox."""
    box = mailbox()
    if box is None:
        return {}
    counts = {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(hashtext(%s))", [_FETCH_LOCK])
        if not cursor.fetchone()[0]:
            return {"busy": 1}
    try:
        with box:
            for uid in box.unread(limit or settings.SERVICE_MAIL_BATCH):
                outcome = _take(box, uid)
                counts[outcome] = counts.get(outcome, 0) + 1
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(hashtext(%s))", [_FETCH_LOCK])
    return counts


def _take(box, uid):
    """Act on one message unless it is recorded already, then mark it read. Returns the outcome."""
    if InboundMail.objects.filter(mailbox=box.name, uidvalidity=box.uidvalidity, uid=uid).exists():
        box.done(uid)
        return "done_before"
    raw = box.fetch(uid)
    if raw is None:
        return "gone"
    try:
        parsed = parse(raw)
        record = mail_receive(parsed, mailbox=box.name, uidvalidity=box.uidvalidity, uid=uid)
    except IntegrityError:  # recorded meanwhile, or the same message under another UID
        log.info("mail uid %s of %s was processed before", uid, box.name)
        box.done(uid)
        return "done_before"
    except Exception:  # noqa: BLE001 - left unread for the next run; the others go on
        log.exception("mail uid %s of %s not processed; it stays unread for the next run", uid, box.name)
        return "failed"
    box.done(uid)
    return record.outcome if record is not None else "done_before"


def mail_receive(parsed, *, mailbox, uidvalidity, uid, now=None):
    """Act on one parsed message (service.mail.ParsedMail) and record it, in one transaction: ignored
    (sent by a machine or by the desk itself), added to its ticket, or a new ticket. Returns the
    InboundMail, or None for a Message-ID recorded before (nothing done)."""
    if InboundMail.objects.filter(message_id=parsed.message_id).exists():
        return None
    now = now or timezone.now()
    record = InboundMail(mailbox=mailbox, uidvalidity=uidvalidity, uid=uid, message_id=parsed.message_id,
                         sender=parsed.sender[:254], subject=parsed.subject[:200], received_at=now)
    reason = parsed.automatic or ("From: the service address" if parsed.sender in _own_addresses() else "")
    with audited(None, "mail_receive"):
        if reason:
            record.outcome, record.reason = InboundMail.Outcome.IGNORED, reason[:200]
            log.info("mail %s from %s ignored: %s", parsed.message_id, parsed.sender, reason)
        else:
            ticket = _thread_ticket(parsed)
            appended = ticket is not None and _append(ticket, parsed, now)
            if appended:
                record.outcome, record.ticket = InboundMail.Outcome.APPENDED, ticket
            else:
                record.outcome = InboundMail.Outcome.CREATED
                record.ticket = _open(parsed, follows=ticket)
        record.save()
    return record


def _thread_ticket(parsed):
    """The ticket the mail answers: by the Message-IDs it names, else by the reference in its subject
    from a sender the ticket corresponds with. None for a new request."""
    ids = parsed.thread_ids[:THREAD_IDS]
    if ids:
        entry = (TicketEntry.objects.filter(message_id__in=ids).exclude(message_id="")
                 .select_related("ticket").order_by("-created_at", "-id").first())
        if entry is not None:
            return entry.ticket
    reference = ticket_reference(parsed.subject)
    if reference is not None:
        ticket = Ticket.objects.select_related("customer", "contact").filter(pk=reference).first()
        if ticket is not None and _corresponds_with(ticket, parsed.sender):
            return ticket
    return None


def _corresponds_with(ticket, sender):
    """Whether `sender` is one of the ticket's: its contact, its customer (own address or a contact's),
    or the sender of earlier mail on it."""
    from ..public import web_request_match

    if sender in {(ticket.contact.email if ticket.contact_id else "").lower(), ticket.customer.email.lower()} - {""}:
        return True
    if InboundMail.objects.filter(ticket=ticket, sender=sender).exists():
        return True
    customer, _contact = web_request_match(email=sender)
    return customer is not None and customer.pk == ticket.customer_id


def _checked(attachments):
    """(uploads that pass the attachment checks, messages naming each one refused)."""
    checked, refused = [], []
    for number, attachment in enumerate(attachments, start=1):
        upload = ContentFile(attachment.data, name=attachment.name)
        if number > settings.SERVICE_ATTACHMENTS_PER_MESSAGE:
            refused.append(_("%(name)s: more files than %(n)d came with one message.") % {
                "name": attachment.name, "n": settings.SERVICE_ATTACHMENTS_PER_MESSAGE})
            continue
        try:
            checked.extend(attachments_check([upload]))
        except ValidationError as error:
            refused.extend(error.messages)
    return checked, refused


def _note_refused(ticket, refused, now):
    """An internal note naming the attachments of a mail that were not stored, and why."""
    if not refused:
        return
    with translation.override(settings.LANGUAGE_CODE):
        body = "\n".join([_("Attachments of this e-mail that were not stored:"), *refused])
    TicketEntry.objects.create(ticket=ticket, kind=EntryKind.NOTE, body=body, created_at=now)


def _open(parsed, *, follows=None):
    """A new ticket of the mail: for the matched customer (or, following a closed ticket, that one's),
    its opening entry carrying the Message-ID and its attachments."""
    from ..public import web_request_match

    if follows is not None:
        customer, contact = follows.customer, follows.contact
    else:
        customer, contact = web_request_match(email=parsed.sender)
        customer = customer or _unknown_sender_customer()
    checked, refused = _checked(parsed.attachments)
    with translation.override(settings.LANGUAGE_CODE):
        subject = parsed.subject.strip() or _("(no subject)")
    ticket = ticket_create(by=None, customer=customer, contact=contact, subject=subject, type=_ticket_type(),
                           channel=Channel.EMAIL, description=parsed.body, author_name=parsed.author,
                           follows=follows, files=[upload for upload, _kind in checked])
    TicketEntry.objects.filter(ticket=ticket, kind=EntryKind.CREATED).update(message_id=parsed.message_id)
    _note_refused(ticket, refused, ticket.created_at)
    return ticket


def _append(ticket, parsed, now):
    """Add the mail to its ticket as the customer's message, putting a ticket that waits on them or was
    resolved lately back to work. False (nothing written) for a ticket closed or resolved too long ago:
    the mail opens a follow-up ticket then."""
    locked = _locked(ticket)
    reopen = locked.status == S.WAITING
    if locked.status == S.CLOSED:
        return False
    if locked.status == S.RESOLVED and not locked.type.is_complaint:
        if locked.resolved_at < now - datetime.timedelta(days=reopen_days()):
            return False
        reopen = True
    checked, refused = _checked(parsed.attachments)
    entry = TicketEntry.objects.create(ticket=locked, kind=EntryKind.MESSAGE, body=strip_quoted(parsed.body),
                                       author_name=parsed.author[:120], message_id=parsed.message_id,
                                       created_at=now)
    attachments_store(ticket=locked, entry=entry, checked=checked, by=None)
    _note_refused(locked, refused, now)
    if reopen:
        _move(locked, S.OPEN, None, now)
    locked.due_at = next_due(locked)
    _save(locked)
    return True


def _unknown_sender_customer():
    from crm.models import Customer

    from ..public import _placeholder_customer

    if settings.SERVICE_MAIL_UNKNOWN_SENDER_CUSTOMER:
        found = Customer.objects.live().filter(pk=settings.SERVICE_MAIL_UNKNOWN_SENDER_CUSTOMER).first()
        if found is not None:
            return found
        log.warning("SERVICE_MAIL_UNKNOWN_SENDER_CUSTOMER=%s names no live customer; using the placeholder",
                    settings.SERVICE_MAIL_UNKNOWN_SENDER_CUSTOMER)
    return _placeholder_customer()


def _ticket_type():
    """SERVICE_MAIL_TICKET_TYPE (by name or English name), else the first active type that is not a
    complaint."""
    active = TicketType.objects.filter(is_active=True).order_by("is_complaint", "order", "id")
    name = settings.SERVICE_MAIL_TICKET_TYPE
    found = active.filter(Q(name=name) | Q(name_en__iexact=name)).first() if name else None
    found = found or active.first()
    if found is None:
        raise TicketType.DoesNotExist("No active ticket type for tickets opened by e-mail.")
    return found


# Out ---------------------------------------------------------------------------------------------

def reply_address(ticket):
    """Where replies on the ticket are mailed: the sender of the mail that opened it, else its contact's
    address, else its customer's; "" for none."""
    opened = (InboundMail.objects.filter(ticket=ticket, outcome=InboundMail.Outcome.CREATED)
              .order_by("pk").values_list("sender", flat=True).first())
    return opened or (ticket.contact.email if ticket.contact_id else "") or ticket.customer.email or ""


def reply_mail_queue(*, entry, ticket):
    """(inside the reply's transaction) Give a reply to the customer its Message-ID and its mail to the
    ticket's address, and queue the sending on commit. Returns the TicketMail, or None when the ticket has
    no address."""
    from .. import tasks

    to = reply_address(ticket)
    if not to or to.lower() in _own_addresses():  # never mail the desk itself
        return None
    domain = service_address().rpartition("@")[2] or "localhost"
    entry.message_id = make_msgid(idstring=f"ticket{ticket.pk}", domain=domain)
    entry.save(update_fields=["message_id"])
    mail = TicketMail.objects.create(entry=entry, to=to[:254], next_attempt_at=entry.created_at)
    enqueue_on_commit(tasks.ticket_reply_mail, entry_id=entry.pk)
    return mail


def ticket_reply_mail_send(*, entry_id, now=None):
    """Send the mail of one reply if it is due and nobody else is sending it: claimed by one UPDATE, sent,
    marked sent; a failure waits for its next attempt (SERVICE_MAIL_SEND_BACKOFF, doubling) and the last
    one marks it failed. Returns the mail's status after, or None when it was not this call's to send."""
    now = now or timezone.now()
    claimed = (TicketMail.objects.filter(entry_id=entry_id, status=TicketMail.Status.PENDING, next_attempt_at__lte=now)
               .filter(Q(claimed_until=None) | Q(claimed_until__lt=now))
               .update(claimed_until=now + SEND_LEASE, attempts=F("attempts") + 1))
    if not claimed:
        return None
    mail = TicketMail.objects.select_related("entry__ticket").get(entry_id=entry_id)
    try:
        _send(mail)
    except Exception as error:  # noqa: BLE001 - any failure of the mail server: tried again, then shown
        return _failed(mail, error, now)
    TicketMail.objects.filter(pk=mail.pk).update(status=TicketMail.Status.SENT, sent_at=timezone.now(),
                                                 claimed_until=None, last_error="")
    return TicketMail.Status.SENT


def _failed(mail, error, now):
    log.warning("reply %s not mailed to %s (attempt %d): %s", mail.entry_id, mail.to, mail.attempts, error)
    fields = {"claimed_until": None, "last_error": (str(error) or error.__class__.__name__)[:300]}
    if mail.attempts >= settings.SERVICE_MAIL_SEND_ATTEMPTS:
        fields["status"] = TicketMail.Status.FAILED
    else:
        pause = settings.SERVICE_MAIL_SEND_BACKOFF * 2 ** (mail.attempts - 1)
        fields["next_attempt_at"] = now + datetime.timedelta(seconds=pause)
    TicketMail.objects.filter(pk=mail.pk).update(**fields)
    return fields.get("status", TicketMail.Status.PENDING)


def _thread_ids(entry):
    """The Message-IDs of the ticket's mail before `entry`, oldest first."""
    return list(TicketEntry.objects.filter(ticket_id=entry.ticket_id).exclude(message_id="").exclude(pk=entry.pk)
                .filter(Q(created_at__lt=entry.created_at) | Q(created_at=entry.created_at, pk__lt=entry.pk))
                .order_by("created_at", "id").values_list("message_id", flat=True))


def _send(mail):
    entry, ticket = mail.entry, mail.entry.ticket
    with translation.override(settings.LANGUAGE_CODE):
        footer = _("Reply to this e-mail to add to ticket %(reference)s.") % {"reference": ticket.reference}
    headers = {"Message-ID": entry.message_id}
    thread = _thread_ids(entry)
    if thread:
        headers["In-Reply-To"] = thread[-1]
        headers["References"] = " ".join(dict.fromkeys(thread[:1] + thread[-(THREAD_IDS - 1):]))
    message = EmailMessage(subject=subject_with_reference(ticket.subject, ticket.reference),
                           body=f"{entry.body}\n\n-- \n{footer}\n",
                           from_email=settings.SERVICE_MAIL_ADDRESS or settings.DEFAULT_FROM_EMAIL, to=[mail.to],
                           headers=headers)
    for attachment in entry.attachments.all():
        with attachment.file.open("rb") as file:
            message.attach(attachment.name, file.read(), attachment.content_type)
    message.send()


def ticket_reply_mails_retry(*, now=None):
    """(beat) Send the reply mails whose next attempt is due (after a failure, or whose task was lost).
    Returns how many went out."""
    now = now or timezone.now()
    due = list(TicketMail.objects.filter(status=TicketMail.Status.PENDING, next_attempt_at__lte=now)
               .filter(Q(claimed_until=None) | Q(claimed_until__lt=now))
               .order_by("next_attempt_at").values_list("entry_id", flat=True)[:RETRY_BATCH])
    return sum(ticket_reply_mail_send(entry_id=entry_id, now=now) == TicketMail.Status.SENT for entry_id in due)
