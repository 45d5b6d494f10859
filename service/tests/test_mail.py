"""E-mail in: the mailbox job reads a real IMAP server (the loopback Dovecot) and opens a ticket per new
request for the customer the sender's address matches (else the placeholder, for triage), adds replies to
their ticket (by In-Reply-To/References, or by "[#123]" from someone the ticket corresponds with), keeps
attachments through the upload checks (a refused one is noted), reads Chinese mail in any of its charsets,
ignores auto-replies and bounces, and processes each message once, however often it runs or wherever it
stopped."""
import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from crm.tests.factories import ContactFactory, CustomerFactory
from service import services
from service.mail import strip_quoted, subject_with_reference, ticket_reference
from service.models import Channel, EntryKind, InboundMail, Ticket, TicketEntry, TicketStatus, TicketType
from service.public import PLACEHOLDER_NAME
from service.services.mail import mail_fetch, reply_address

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def customer(rep_east):
    customer = CustomerFactory(name="上海精密机械有限公司", owner=rep_east, email="info@jingmi.example")
    ContactFactory(customer=customer, name="李工", email="li@jingmi.example")
    return customer


def mail(*, sender="李工 <li@jingmi.example>", subject="主轴异响", body="主轴转速到 3000 转时有异响。", headers=None,
         attachments=()):
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "support@desk.example"
    message["Subject"] = subject
    message["Date"] = format_datetime(timezone.now())
    message["Message-ID"] = make_msgid(domain="jingmi.example")
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    for name, data, content_type in attachments:
        maintype, subtype = content_type.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return message


def received(message_id):
    return InboundMail.objects.get(message_id=message_id)


def test_new_mail_opens_a_ticket_for_the_contact_who_wrote(support_mailbox, customer, service_desk):
    message = mail()
    uid = support_mailbox.deliver(message)
    assert mail_fetch() == {"created": 1}
    ticket = Ticket.objects.get()
    assert (ticket.customer, ticket.contact.name, ticket.channel) == (customer, "李工", Channel.EMAIL)
    assert ticket.subject == "主轴异响" and "3000 转" in ticket.description
    assert ticket.assignee is None and ticket.team == customer.team and ticket.status == TicketStatus.NEW
    opening = ticket.entries.get(kind=EntryKind.CREATED)
    assert opening.message_id == message["Message-ID"] and opening.author_name == "李工 <li@jingmi.example>"
    assert received(message["Message-ID"]).outcome == InboundMail.Outcome.CREATED
    assert support_mailbox.unread() == [] and support_mailbox.all() == [uid]  # read, and left where it was
    assert reply_address(ticket) == "li@jingmi.example"


def test_a_customers_own_address_finds_the_customer(support_mailbox, customer, service_desk):
    support_mailbox.deliver(mail(sender="info@jingmi.example"))
    mail_fetch()
    ticket = Ticket.objects.get()
    assert ticket.customer == customer and ticket.contact is None


def test_an_unknown_sender_opens_a_ticket_on_the_placeholder_for_triage(support_mailbox, customer, service_desk):
    support_mailbox.deliver(mail(sender="Stranger <someone@elsewhere.example>", subject="询价"))
    assert mail_fetch() == {"created": 1}
    ticket = Ticket.objects.get()
    assert ticket.customer.name == PLACEHOLDER_NAME and ticket.assignee is None and ticket.team is None
    assert reply_address(ticket) == "someone@elsewhere.example"  # the reply goes back to the sender


def test_a_catch_all_customer_may_take_unknown_senders(support_mailbox, customer, service_desk, settings, rep_west):
    catch_all = CustomerFactory(name="邮件待分拣", owner=rep_west)
    settings.SERVICE_MAIL_UNKNOWN_SENDER_CUSTOMER = catch_all.pk
    support_mailbox.deliver(mail(sender="someone@elsewhere.example"))
    mail_fetch()
    assert Ticket.objects.get().customer == catch_all


def test_the_ticket_type_of_mail_is_configurable(support_mailbox, customer, service_desk, settings):
    settings.SERVICE_MAIL_TICKET_TYPE = "故障"
    support_mailbox.deliver(mail())
    mail_fetch()
    assert Ticket.objects.get().type == service_desk["故障"]
    assert not TicketType.objects.filter(is_active=True).order_by("is_complaint", "order").first().is_complaint


def test_a_reply_with_the_reference_in_its_subject_is_added_to_its_ticket(support_mailbox, customer, service_desk,
                                                                       agent_sh):
    ticket = services.ticket_create(by=agent_sh, customer=customer, subject="主轴异响", type=service_desk["故障"],
                                    contact=customer.contacts.get())
    services.ticket_reply(ticket=ticket, by=agent_sh, body="请发一段视频。", status=TicketStatus.WAITING)
    reply = mail(subject=f"回复：Re: 主轴异响 [{ticket.reference}]",
                 body="视频见附件。\n\n在 2026年9月21日 10:00，客服小王 写道：\n> 请发一段视频。\n")
    support_mailbox.deliver(reply)
    assert mail_fetch() == {"appended": 1}
    ticket.refresh_from_db()
    message = ticket.entries.get(kind=EntryKind.MESSAGE)
    assert message.body == "视频见附件。"  # the quoted earlier message is cut off
    assert message.message_id == reply["Message-ID"] and message.author is None
    assert ticket.status == TicketStatus.OPEN  # it waited on the customer, who answered
    assert received(reply["Message-ID"]).ticket == ticket
    assert Ticket.objects.count() == 1


def test_a_stranger_naming_a_ticket_opens_a_ticket_of_their_own(support_mailbox, customer, service_desk, agent_sh):
    ticket = services.ticket_create(by=agent_sh, customer=customer, subject="主轴异响", type=service_desk["故障"])
    support_mailbox.deliver(mail(sender="someone@elsewhere.example", subject=f"Re: [{ticket.reference}]"))
    assert mail_fetch() == {"created": 1}
    assert not ticket.entries.filter(kind=EntryKind.MESSAGE).exists()
    assert Ticket.objects.exclude(pk=ticket.pk).get().customer.name == PLACEHOLDER_NAME


def test_a_reply_with_only_in_reply_to_is_added_to_its_ticket(support_mailbox, customer, service_desk):
    first = mail()
    support_mailbox.deliver(first)
    mail_fetch()
    ticket = Ticket.objects.get()
    # A colleague of the customer, no reference in the subject: the header alone finds the ticket.
    answer = mail(sender="王经理 <wang@jingmi-group.example>", subject="Re: 主轴异响",
                  body="补充：上周刚换过轴承。", headers={"In-Reply-To": first["Message-ID"]})
    support_mailbox.deliver(answer)
    assert mail_fetch() == {"appended": 1}
    entry = ticket.entries.get(kind=EntryKind.MESSAGE)
    assert entry.body == "补充：上周刚换过轴承。" and entry.author_name == "王经理 <wang@jingmi-group.example>"
    assert Ticket.objects.count() == 1


def test_references_find_the_ticket_when_in_reply_to_names_another_mail(support_mailbox, customer, service_desk):
    first = mail()
    support_mailbox.deliver(first)
    mail_fetch()
    answer = mail(subject="Re: 主轴异响", headers={"In-Reply-To": "<unknown@elsewhere.example>",
                                                "References": f"{first['Message-ID']} <unknown@elsewhere.example>"})
    support_mailbox.deliver(answer)
    assert mail_fetch() == {"appended": 1}


def test_a_reply_to_a_closed_ticket_opens_a_follow_up(support_mailbox, customer, service_desk, agent_sh):
    first = mail()
    support_mailbox.deliver(first)
    mail_fetch()
    ticket = Ticket.objects.get()
    services.ticket_set_status(ticket=ticket, by=agent_sh, status=TicketStatus.RESOLVED)
    services.ticket_set_status(ticket=ticket, by=agent_sh, status=TicketStatus.CLOSED)
    support_mailbox.deliver(mail(subject=f"Re: 主轴异响 [{ticket.reference}]", body="又响了。"))
    assert mail_fetch() == {"created": 1}
    follow_up = Ticket.objects.get(follows=ticket)
    assert follow_up.customer == customer and follow_up.contact == ticket.contact
    assert follow_up.description == "又响了。"


def test_a_reply_to_a_resolved_ticket_reopens_it(support_mailbox, customer, service_desk, agent_sh):
    first = mail()
    support_mailbox.deliver(first)
    mail_fetch()
    ticket = Ticket.objects.get()
    services.ticket_set_status(ticket=ticket, by=agent_sh, status=TicketStatus.RESOLVED)
    support_mailbox.deliver(mail(subject="Re: 主轴异响", headers={"In-Reply-To": first["Message-ID"]}))
    mail_fetch()
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN and ticket.reopened == 1


def test_attachments_arrive_and_a_refused_one_is_noted(support_mailbox, customer, service_desk, settings):
    settings.SERVICE_ATTACHMENT_MAX_BYTES = 2000
    support_mailbox.deliver(mail(attachments=[
        ("报警截图.png", PNG, "image/png"), ("说明书.pdf", PDF, "application/pdf"),
        ("setup.exe", b"MZ\x90\x00", "application/octet-stream"), ("日志.txt", b"x" * 3000, "text/plain"),
        ("假图片.jpg", b"not a jpeg", "image/jpeg")]))
    assert mail_fetch() == {"created": 1}
    ticket = Ticket.objects.get()
    opening = ticket.entries.get(kind=EntryKind.CREATED)
    assert [a.name for a in opening.attachments.all()] == ["报警截图.png", "说明书.pdf"]
    assert {a.content_type for a in opening.attachments.all()} == {"application/pdf", "image/png"}
    stored = opening.attachments.get(name="说明书.pdf")
    with stored.file.open("rb") as file:
        assert file.read() == PDF
    note = ticket.entries.get(kind=EntryKind.NOTE)
    assert "setup.exe" in note.body and "日志.txt" in note.body and "假图片.jpg" in note.body
    assert note.author is None and note.is_internal


def test_more_attachments_than_a_message_may_bring_are_noted(support_mailbox, customer, service_desk, settings):
    settings.SERVICE_ATTACHMENTS_PER_MESSAGE = 2
    support_mailbox.deliver(mail(attachments=[(f"图{n}.png", PNG, "image/png") for n in range(1, 4)]))
    mail_fetch()
    ticket = Ticket.objects.get()
    assert ticket.attachments.count() == 2
    assert "图3.png" in ticket.entries.get(kind=EntryKind.NOTE).body


def test_a_reply_keeps_its_attachments_on_its_entry(support_mailbox, customer, service_desk):
    first = mail()
    support_mailbox.deliver(first)
    mail_fetch()
    support_mailbox.deliver(mail(subject="Re: 主轴异响", headers={"In-Reply-To": first["Message-ID"]},
                                 attachments=[("振动.pdf", PDF, "application/pdf")]))
    mail_fetch()
    entry = TicketEntry.objects.get(kind=EntryKind.MESSAGE)
    assert [a.name for a in entry.attachments.all()] == ["振动.pdf"]


def gbk_mail(subject_header, body, charset="gb2312", transfer="base64"):
    """A message as a Chinese mailer writes it: the headers given raw, the body in `charset`."""
    import base64

    encoded = body.encode("gbk")
    payload = base64.encodebytes(encoded) if transfer == "base64" else encoded
    head = (b"From: =?GB2312?B?" + base64.b64encode("李工".encode("gbk")) + b"?= <li@jingmi.example>\r\n"
            b"To: support@desk.example\r\n" + b"Subject: " + subject_header + b"\r\n"
            b"Message-ID: " + make_msgid(domain="jingmi.example").encode() + b"\r\n"
            b"MIME-Version: 1.0\r\n"
            b"Content-Type: text/plain; charset=\"" + charset.encode() + b"\"\r\n"
            b"Content-Transfer-Encoding: " + transfer.encode() + b"\r\n\r\n")
    return head + payload


def test_chinese_subjects_and_bodies_are_decoded_in_every_charset(support_mailbox, customer, service_desk):
    import base64

    # 镕 and 堃 are GBK, not GB2312: mailers label such text GB2312 all the same.
    subject = "设备报修：朱镕基路 堃 号厂房"
    encoded_words = b"=?GB2312?B?" + base64.b64encode(subject.encode("gbk")) + b"?="
    support_mailbox.deliver(gbk_mail(encoded_words, "机床编号 堃-01 报警。", charset="gb2312"))
    support_mailbox.deliver(gbk_mail(subject.encode("gbk") + b" (raw)", "八位 GBK 正文。", charset="gbk",
                                     transfer="8bit"))
    utf8_q = "=?UTF-8?Q?" + "".join(f"={b:02X}" for b in "发票问题".encode()) + "?="
    support_mailbox.deliver(gbk_mail(utf8_q.encode(), "GB18030 正文", charset="gb18030"))
    assert mail_fetch() == {"created": 3}
    tickets = list(Ticket.objects.order_by("pk"))
    assert [t.subject for t in tickets] == [subject, f"{subject} (raw)", "发票问题"]
    assert [t.description for t in tickets] == ["机床编号 堃-01 报警。", "八位 GBK 正文。", "GB18030 正文"]
    assert {t.customer for t in tickets} == {customer}
    assert tickets[0].entries.get(kind=EntryKind.CREATED).author_name == "李工 <li@jingmi.example>"


def test_nul_characters_are_dropped_so_the_mail_is_stored_once_not_retried_forever(support_mailbox, customer,
                                                                                    service_desk):
    import base64

    subject = b"=?UTF-8?B?" + base64.b64encode("设备\x00报修".encode()) + b"?="
    support_mailbox.deliver(gbk_mail(subject, "机床\x00报警。", charset="gbk"))
    assert mail_fetch() == {"created": 1}
    ticket = Ticket.objects.get()
    assert (ticket.subject, ticket.description) == ("设备报修", "机床报警。")
    assert mail_fetch() == {}  # read: nothing left for the next run


def test_an_html_only_mail_becomes_text(support_mailbox, customer, service_desk):
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "li@jingmi.example", "support@desk.example", "网页邮件"
    message["Message-ID"] = make_msgid(domain="jingmi.example")
    message.set_content("<html><head><style>p{color:red}</style></head><body><p>您好，</p><div>打印机<b>卡纸</b>"
                        "<br>型号 P-200&nbsp;。</div><script>alert(1)</script></body></html>", subtype="html")
    support_mailbox.deliver(message)
    mail_fetch()
    assert Ticket.objects.get().description == "您好，\n打印机卡纸\n型号 P-200 。"


def test_running_twice_or_after_a_stop_processes_each_message_once(support_mailbox, customer, service_desk):
    message = mail()
    uid = support_mailbox.deliver(message)
    assert mail_fetch() == {"created": 1}
    assert mail_fetch() == {}
    # As if a run had stopped after its commit, before marking the message read:
    support_mailbox.mark_unread(uid)
    assert mail_fetch() == {"done_before": 1}
    assert support_mailbox.unread() == []
    # The same message delivered a second time (another UID):
    support_mailbox.deliver(message)
    assert mail_fetch() == {"done_before": 1}
    assert Ticket.objects.count() == 1 and InboundMail.objects.count() == 1
    assert TicketEntry.objects.filter(kind__in=[EntryKind.CREATED, EntryKind.MESSAGE]).count() == 1


def test_a_message_that_fails_stays_unread_and_is_taken_by_the_next_run(support_mailbox, customer, service_desk):
    TicketType.objects.update(is_active=False)  # nothing to open a ticket as: this message fails
    uid = support_mailbox.deliver(mail())
    assert mail_fetch() == {"failed": 1}
    assert support_mailbox.unread() == [uid] and not InboundMail.objects.exists() and not Ticket.objects.exists()
    TicketType.objects.update(is_active=True)
    assert mail_fetch() == {"created": 1}
    assert support_mailbox.unread() == []


def test_a_message_without_message_id_is_still_processed_once(support_mailbox, customer, service_desk):
    message = mail()
    del message["Message-ID"]
    uid = support_mailbox.deliver(message)
    mail_fetch()
    support_mailbox.mark_unread(uid)
    support_mailbox.deliver(message)
    mail_fetch()
    assert Ticket.objects.count() == 1 and InboundMail.objects.get().message_id.endswith("@no-message-id.invalid>")


@pytest.mark.parametrize("sender, headers, reason", [
    ("li@jingmi.example", {"Auto-Submitted": "auto-replied"}, "Auto-Submitted: auto-replied"),
    ("li@jingmi.example", {"Precedence": "bulk"}, "Precedence: bulk"),
    ("li@jingmi.example", {"Precedence": "auto_reply"}, "Precedence: auto_reply"),
    ("li@jingmi.example", {"X-Autoreply": "yes"}, "X-Autoreply"),
    ("li@jingmi.example", {"Return-Path": "<>"}, "Return-Path: <>"),
    ("MAILER-DAEMON@mx.jingmi.example", {}, "From: mailer-daemon@mx.jingmi.example"),
    ("客服中心 <support@desk.example>", {}, "From: the service address"),
])
def test_auto_replies_bounces_and_our_own_mail_open_nothing(support_mailbox, customer, service_desk, sender, headers,
                                                             reason):
    first = mail()
    support_mailbox.deliver(first)
    mail_fetch()
    # Even as an answer to the thread (an out-of-office reply to our reply, say), nothing is added.
    auto = mail(sender=sender, subject="自动回复：主轴异响", headers={"In-Reply-To": first["Message-ID"], **headers})
    support_mailbox.deliver(auto)
    assert mail_fetch() == {"ignored": 1}
    assert Ticket.objects.count() == 1 and not TicketEntry.objects.filter(kind=EntryKind.MESSAGE).exists()
    assert received(auto["Message-ID"]).reason == reason
    assert support_mailbox.unread() == []


def test_a_delivery_report_opens_nothing(support_mailbox, customer, service_desk):
    report = (b"From: postmaster@mx.example\r\nTo: support@desk.example\r\nSubject: Undelivered Mail\r\n"
              b"Message-ID: <report-1@mx.example>\r\nMIME-Version: 1.0\r\n"
              b'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
              b"--B\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n"
              b"--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example\r\n"
              b"--B--\r\n")
    support_mailbox.deliver(report)
    assert mail_fetch() == {"ignored": 1}
    assert received("<report-1@mx.example>").reason == "multipart/report"


def test_a_processed_folder_takes_the_mail_away(support_mailbox, customer, service_desk, settings, imap_server):
    from .mailservers import ImapFolder

    done = ImapFolder(imap_server, "support", name=f"{support_mailbox.name}-done").create()
    settings.SERVICE_MAIL_IMAP_DONE_FOLDER = done.name
    try:
        support_mailbox.deliver(mail())
        assert mail_fetch() == {"created": 1}
        assert support_mailbox.all() == [] and len(done.all()) == 1
    finally:
        done.delete()


def test_the_batch_limits_a_run(support_mailbox, customer, service_desk, settings):
    settings.SERVICE_MAIL_BATCH = 2
    for number in range(3):
        support_mailbox.deliver(mail(subject=f"问题 {number}"))
    assert mail_fetch() == {"created": 2}
    assert mail_fetch() == {"created": 1}


def test_without_a_host_nothing_is_read(settings):
    settings.SERVICE_MAIL_IMAP_HOST = ""
    assert mail_fetch() == {}


def test_beat_reads_the_mailbox_every_poll_interval():
    entry = django_settings.CELERY_BEAT_SCHEDULE["service-mail"]
    assert entry == {"task": "service.tasks.service_mail", "schedule": django_settings.SERVICE_MAIL_POLL_SECONDS}


def test_a_stale_resolved_ticket_gets_a_follow_up(support_mailbox, customer, service_desk, agent_sh):
    first = mail()
    support_mailbox.deliver(first)
    mail_fetch()
    ticket = Ticket.objects.get()
    services.ticket_set_status(ticket=ticket, by=agent_sh, status=TicketStatus.RESOLVED)
    Ticket.objects.filter(pk=ticket.pk).update(resolved_at=timezone.now() - datetime.timedelta(days=30))
    support_mailbox.deliver(mail(subject="Re: 主轴异响", headers={"In-Reply-To": first["Message-ID"]}))
    assert mail_fetch() == {"created": 1}
    assert Ticket.objects.get(follows=ticket).channel == Channel.EMAIL


@pytest.mark.parametrize("text, new", [
    ("好的。\n\n-----原始邮件-----\n发件人: 客服\n请发视频。", "好的。"),
    ("好的。\n\n------------------ 原始邮件 ------------------\n请发视频。", "好的。"),
    ("OK.\n\nOn Mon, 21 Sep 2026 at 10:00, Support <support@desk.example> wrote:\n> Send a video.", "OK."),
    ("好的。\n\n发件人: 客服中心 <support@desk.example>\n发送时间: 2026年9月21日 10:00\n主题: 主轴异响", "好的。"),
    ("好的。\nFrom: Support\nSent: Monday\n", "好的。"),
    ("好的。\n> 请发视频。\n> 谢谢", "好的。"),
    ("> 只有引用", "> 只有引用"),  # nothing else left: the whole text
    ("发件人地址写在正文里：From: 张三", "发件人地址写在正文里：From: 张三"),
])
def test_the_quoted_earlier_message_is_cut_off(text, new):
    assert strip_quoted(text) == new


@pytest.mark.parametrize("subject, reference, expected", [
    ("主轴异响", "#12", "Re: 主轴异响 [#12]"),
    ("回复：Re: 主轴异响 [#12]", "#12", "Re: 主轴异响 [#12]"),
    ("RE: 答复: 主轴异响【#12】", "#12", "Re: 主轴异响 [#12]"),
])
def test_a_reply_subject_carries_the_reference_once(subject, reference, expected):
    assert subject_with_reference(subject, reference) == expected
    assert ticket_reference(expected) == 12


def test_only_a_bracketed_reference_names_a_ticket():
    assert ticket_reference("订单 #2024001 的发票") is None and ticket_reference("Re: 发票 [#7]") == 7
