"""E-mail out: an agent's reply to the customer (never an internal note) goes out once through Django's SMTP
backend to a real SMTP server on loopback, which delivers it into the customer's Dovecot mailbox; it
carries the ticket's reference in its subject, its own Message-ID (stored on the entry), In-Reply-To and
References naming the thread, and its attachments. The customer's answer to it comes back onto the same
ticket. The timeline says to whom it was mailed, and a failure shows there too. Only those who may see the
ticket see any of it."""
import datetime
import socket

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from conftest import wait_for
from crm.models import QueuedTask
from crm.tests.factories import ContactFactory, CustomerFactory
from service import services, tasks
from service.models import EntryKind, Ticket, TicketMail
from service.services.mail import mail_fetch, ticket_reply_mail_send, ticket_reply_mails_retry

from .test_mail import PDF, mail

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(rep_east):
    customer = CustomerFactory(name="上海精密机械有限公司", owner=rep_east, email="info@jingmi.example")
    ContactFactory(customer=customer, name="李工", email="li@jingmi.example")
    return customer


def opened_by_mail(support_mailbox):
    first = mail()
    support_mailbox.deliver(first)
    mail_fetch()
    return Ticket.objects.get(), first


def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_reply_is_mailed_once_in_the_thread_with_its_attachments(
        support_mailbox, customer_mailbox, smtp_server, customer, service_desk, agent_sh,
        django_capture_on_commit_callbacks):
    ticket, first = opened_by_mail(support_mailbox)
    upload = SimpleUploadedFile("报价单.pdf", PDF, content_type="application/pdf")
    with django_capture_on_commit_callbacks(execute=False) as queued:
        entry = services.ticket_reply(ticket=ticket, by=agent_sh, body="您好，报价单见附件。", files=[upload])
    assert len(queued) == 1 and QueuedTask.objects.filter(name="service.tasks.ticket_reply_mail",
                                                          kwargs={"entry_id": entry.pk}).exists()
    assert ticket_reply_mail_send(entry_id=entry.pk) == TicketMail.Status.SENT
    assert ticket_reply_mail_send(entry_id=entry.pk) is None  # the task delivered twice sends nothing
    assert tasks.ticket_reply_mail(entry.pk) is None
    entry.refresh_from_db()
    [received] = customer_mailbox.messages()
    assert received["Message-ID"] == entry.message_id and entry.message_id.endswith("@desk.example>")
    assert received["In-Reply-To"] == first["Message-ID"] and received["References"] == first["Message-ID"]
    assert received["Subject"] == f"Re: 主轴异响 [{ticket.reference}]"
    assert (received["From"], received["To"]) == ("support@desk.example", "li@jingmi.example")
    assert "您好，报价单见附件。" in received.get_body(("plain",)).get_content()
    [attachment] = received.iter_attachments()
    assert attachment.get_filename() == "报价单.pdf" and attachment.get_content() == PDF
    assert [e.rcpt_tos for e in smtp_server.handler_ref.envelopes] == [["li@jingmi.example"]]
    sent = entry.mail
    assert (sent.status, sent.to, sent.attempts, sent.last_error) == (TicketMail.Status.SENT, "li@jingmi.example", 1, "")


def test_the_customers_answer_to_the_mailed_reply_comes_back_to_the_ticket(
        support_mailbox, customer_mailbox, smtp_server, customer, service_desk, agent_sh):
    ticket, first = opened_by_mail(support_mailbox)
    entry = services.ticket_reply(ticket=ticket, by=agent_sh, body="请拍一段视频。")
    services.ticket_reply(ticket=ticket, by=agent_sh, body="等客户视频", internal=True)
    ticket_reply_mail_send(entry_id=entry.pk)
    [received] = customer_mailbox.messages()
    # The customer answers in their mail client: Re: the subject (with the reference), threaded.
    answer = mail(subject=f"Re: {received['Subject']}", body="视频已上传网盘。",
                  headers={"In-Reply-To": received["Message-ID"],
                           "References": f"{received['References']} {received['Message-ID']}"})
    support_mailbox.deliver(answer)
    assert mail_fetch() == {"appended": 1}
    assert list(ticket.entries.filter(kind__in=[EntryKind.CREATED, EntryKind.REPLY, EntryKind.MESSAGE])
                .values_list("kind", flat=True)) == ["created", "reply", "message"]
    second = services.ticket_reply(ticket=ticket, by=agent_sh, body="收到，谢谢。")
    ticket_reply_mail_send(entry_id=second.pk)
    latest = customer_mailbox.messages()[-1]
    assert latest["In-Reply-To"] == answer["Message-ID"]
    assert latest["References"].split() == [first["Message-ID"], received["Message-ID"], answer["Message-ID"]]


def test_an_internal_note_is_never_mailed(support_mailbox, customer, service_desk, agent_sh):
    ticket, _first = opened_by_mail(support_mailbox)
    note = services.ticket_reply(ticket=ticket, by=agent_sh, body="客户语气很急", internal=True)
    assert note.message_id == "" and not TicketMail.objects.exists()


def test_a_ticket_without_an_address_is_not_mailed(service_desk, agent_sh, rep_east):
    customer = CustomerFactory(name="无邮箱客户", owner=rep_east)
    ticket = services.ticket_create(by=agent_sh, customer=customer, subject="电话报修", type=service_desk["故障"])
    entry = services.ticket_reply(ticket=ticket, by=agent_sh, body="已安排上门。")
    assert entry.message_id == "" and not TicketMail.objects.exists()


def test_a_ticket_opened_by_an_agent_is_mailed_to_its_contact(customer_mailbox, smtp_server, customer, service_desk,
                                                             agent_sh, settings):
    settings.SERVICE_MAIL_ADDRESS = "support@desk.example"
    ticket = services.ticket_create(by=agent_sh, customer=customer, subject="上门保养", type=service_desk["售后"],
                                    contact=customer.contacts.get())
    entry = services.ticket_reply(ticket=ticket, by=agent_sh, body="周三上午上门。")
    ticket_reply_mail_send(entry_id=entry.pk)
    [received] = customer_mailbox.messages()
    assert received["To"] == "li@jingmi.example" and received["In-Reply-To"] is None
    assert received["Subject"] == f"Re: 上门保养 [{ticket.reference}]"


def test_a_failed_mail_is_retried_then_shown_as_not_sent(support_mailbox, customer_mailbox, smtp_server, customer,
                                                         service_desk, agent_sh, settings, client_for):
    ticket, _first = opened_by_mail(support_mailbox)
    settings.SERVICE_MAIL_SEND_ATTEMPTS, settings.SERVICE_MAIL_SEND_BACKOFF = 2, 60
    settings.EMAIL_PORT = closed_port()  # the mail server is down
    entry = services.ticket_reply(ticket=ticket, by=agent_sh, body="您好。")
    now = timezone.now()
    assert ticket_reply_mail_send(entry_id=entry.pk, now=now) == TicketMail.Status.PENDING
    page = client_for(agent_sh).get(ticket.get_absolute_url()).content.decode()
    assert 'data-testid="entry-mail" data-status="pending"' in page and "li@jingmi.example" in page
    assert ticket_reply_mail_send(entry_id=entry.pk, now=now + datetime.timedelta(seconds=30)) is None  # not due
    assert ticket_reply_mail_send(entry_id=entry.pk, now=now + datetime.timedelta(seconds=61)) == "failed"
    failed = TicketMail.objects.get()
    assert failed.attempts == 2 and failed.last_error
    page = client_for(agent_sh).get(ticket.get_absolute_url()).content.decode()
    assert 'data-testid="entry-mail" data-status="failed"' in page and "text-danger" in page
    assert customer_mailbox.messages() == []


def test_beat_sends_again_the_mails_due(support_mailbox, customer_mailbox, smtp_server, customer, service_desk,
                                        agent_sh, settings):
    ticket, _first = opened_by_mail(support_mailbox)
    port = settings.EMAIL_PORT
    settings.EMAIL_PORT = closed_port()
    entry = services.ticket_reply(ticket=ticket, by=agent_sh, body="您好。")
    now = timezone.now()
    ticket_reply_mail_send(entry_id=entry.pk, now=now)
    settings.EMAIL_PORT = port  # back up
    assert ticket_reply_mails_retry(now=now + datetime.timedelta(seconds=10)) == 0
    assert ticket_reply_mails_retry(now=now + datetime.timedelta(minutes=2)) == 1
    assert ticket_reply_mails_retry(now=now + datetime.timedelta(minutes=5)) == 0
    assert len(customer_mailbox.messages()) == 1 and TicketMail.objects.get().status == TicketMail.Status.SENT


def test_the_timeline_says_to_whom_a_reply_was_mailed(support_mailbox, customer_mailbox, smtp_server, customer,
                                                      service_desk, agent_sh, client_for, django_assert_max_num_queries):
    ticket, _first = opened_by_mail(support_mailbox)
    for number in range(3):
        entry = services.ticket_reply(ticket=ticket, by=agent_sh, body=f"第 {number} 次回复")
        ticket_reply_mail_send(entry_id=entry.pk)
    client = client_for(agent_sh)
    client.get(ticket.get_absolute_url())
    with django_assert_max_num_queries(30):  # the mail of each reply comes with its entry, not a query each
        page = client.get(ticket.get_absolute_url()).content.decode()
    assert page.count('data-testid="entry-mail" data-status="sent"') == 3 and "li@jingmi.example" in page
    assert 'data-testid="entry-by-mail"' in page  # the opening came by e-mail


def test_another_teams_agent_reaches_nothing_of_a_mailed_ticket(support_mailbox, customer, service_desk, agent_sh,
                                                                agent_bj, client_for):
    support_mailbox.deliver(mail(attachments=[("说明书.pdf", PDF, "application/pdf")]))
    mail_fetch()
    ticket = Ticket.objects.get()
    attachment = ticket.attachments.get()
    urls = [ticket.get_absolute_url(), reverse("service:ticket_attachment", args=[ticket.pk, attachment.pk])]
    assert [client_for(agent_bj).get(url).status_code for url in urls] == [404, 404]
    assert [client_for(agent_sh).get(url).status_code for url in urls] == [200, 200]
    response = client_for(agent_bj).post(reverse("service:ticket_reply", args=[ticket.pk]), {"body": "越权回复"})
    assert response.status_code == 404 and not TicketMail.objects.exists()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_mails_the_reply_once_though_the_task_comes_twice(own_queue, customer_mailbox, smtp_server, customer,
                                                                   service_desk, agent_sh, settings):
    from crm.celery import app

    settings.SERVICE_MAIL_ADDRESS = "support@desk.example"
    own_queue(EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend", EMAIL_HOST="127.0.0.1",
              EMAIL_PORT=str(smtp_server.port), SERVICE_MAIL_ADDRESS="support@desk.example")
    ticket = services.ticket_create(by=agent_sh, customer=customer, subject="主轴异响", type=service_desk["故障"],
                                    contact=customer.contacts.get())
    entry = services.ticket_reply(ticket=ticket, by=agent_sh, body="工程师明天到。")  # committed: the task is queued
    assert wait_for(lambda: TicketMail.objects.filter(entry=entry, status=TicketMail.Status.SENT).exists())
    again = app.send_task("service.tasks.ticket_reply_mail", kwargs={"entry_id": entry.pk})
    assert again.get(timeout=60) is None
    [received] = customer_mailbox.messages()
    entry.refresh_from_db()
    assert received["Message-ID"] == entry.message_id and ticket.reference in received["Subject"]
    assert TicketMail.objects.get().attempts == 1
