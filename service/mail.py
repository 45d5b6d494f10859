"""E-mail as the service desk reads it: a raw message parsed into what a ticket needs (the sender, the subject
and text decoded whatever the charset, the attachments, the Message-IDs of its thread, whether a machine sent
it), and the IMAP mailbox it comes from. Reads and parses only; service.services.mail writes.

Chinese mail comes in many forms: RFC 2047 encoded words (=?GB2312?B?...?=), raw 8-bit GBK headers,
bodies labelled GB2312 that use GBK's wider set, HTML-only mail. GB2312 and GBK are read as GB18030, their
superset, and text whose declared charset does not fit is tried as UTF-8, then GB18030."""
import dataclasses
import email
import email.policy
import email.utils
import hashlib
import imaplib
import mimetypes
import re
import ssl
from email.header import Header, decode_header

import lxml.etree
import lxml.html

# Charsets read as a superset: mailers label GBK text GB2312, and GB18030 holds both.
CHARSET_SUPERSETS = {
    "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "cp936": "gb18030", "euc-cn": "gb18030",
    "x-euc-cn": "gb18030", "gb_2312-80": "gb18030", "chinese": "gb18030", "csgb2312": "gb18030",
    "big5": "big5hkscs", "ks_c_5601-1987": "cp949", "iso-8859-1": "cp1252", "us-ascii": "utf-8", "ascii": "utf-8",
}
FALLBACK_CHARSETS = ("utf-8", "gb18030")
# A ticket's reference in a subject, as replies carry it: "[#123]" (full-width brackets too).
REFERENCE = re.compile(r"[\[【［]\s*#(\d{1,10})\s*[\]】］]")
# Senders whose mail is a machine's report, never a person's request.
ROBOT_SENDERS = ("mailer-daemon", "postmaster")
BULK_PRECEDENCE = ("bulk", "junk", "list", "auto_reply")
MAX_ID = 255
# Where the quoted earlier message of a reply starts (the mail clients' own lines).
QUOTE_STARTS = (
    re.compile(r"^\s*-{2,}\s*(original message|原始邮件|原邮件|forwarded message|转发邮件)\s*-{2,}", re.IGNORECASE),
    re.compile(r"^\s*on .{4,300} wrote:\s*$", re.IGNORECASE),
    re.compile(r"^\s*在\s*.{4,300}写道\s*[:：]\s*$"),
    re.compile(r"^\s*_{10,}\s*$"),
)
QUOTE_HEADER = re.compile(r"^\s*(发件人|from)\s*[:：]", re.IGNORECASE)
QUOTE_HEADER_NEXT = re.compile(r"^\s*(发送时间|时间|日期|sent|date)\s*[:：]", re.IGNORECASE)
BLOCKS = ("p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "ul", "ol")


@dataclasses.dataclass
class Attachment:
    name: str
    content_type: str
    data: bytes


@dataclasses.dataclass
class ParsedMail:
    message_id: str
    sender: str  # the address, lower case
    sender_name: str
    subject: str
    body: str
    in_reply_to: list
    references: list
    attachments: list
    automatic: str  # why a machine sent it (an auto-reply, a bounce …), or ""

    @property
    def thread_ids(self):
        """The Message-IDs this mail answers, the one it names as answered first."""
        return list(dict.fromkeys([*self.in_reply_to, *reversed(self.references)]))

    @property
    def author(self):
        """The sender as the timeline names them: "张三 <zhang@example.com>"."""
        return f"{self.sender_name} <{self.sender}>" if self.sender_name else self.sender


# Decoding --------------------------------------------------------------------------------------------

def decode_bytes(data, charset=None):
    """Text of `data` in its declared charset (or its superset), else UTF-8, else GB18030; what none of
    them reads is replaced rather than lost with the rest. NUL characters are dropped: PostgreSQL text
    cannot hold them, and a message that could never be stored would be read again every run."""
    return _decoded(data, charset).replace("\x00", "")


def _decoded(data, charset):
    declared = (charset or "").strip().strip('"').lower()
    declared = "" if declared == "unknown-8bit" else declared  # raw 8-bit bytes in a header
    candidates = [CHARSET_SUPERSETS.get(declared, declared)] if declared else []
    candidates += [c for c in FALLBACK_CHARSETS if c not in candidates]
    for candidate in candidates:
        try:
            return data.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("utf-8", errors="replace")


def header_text(value):
    """A header as text: RFC 2047 encoded words decoded (adjacent ones of a charset together, so a
    character split between two is whole), raw 8-bit bytes read as UTF-8 or GB18030, lines unfolded."""
    if value is None:
        return ""
    if not isinstance(value, Header):
        value = str(value)
    try:
        chunks = decode_header(value)
    except Exception:  # noqa: BLE001 - a malformed encoded word: the raw text is better than nothing
        chunks = [(value, None)]
    parts = []
    for chunk, charset in chunks:
        if isinstance(chunk, str):
            chunk = chunk.encode("utf-8", "surrogateescape")
        parts.append(decode_bytes(chunk, charset))
    return re.sub(r"\s*[\r\n]+\s*", " ", "".join(parts)).strip()


def html_to_text(html):
    """The text of an HTML body as a person reads it: lines where the blocks and line breaks were, no
    scripts or styles, runs of blank lines made one."""
    html = re.sub(r"^\s*<\?xml[^>]*\?>", "", html)
    try:
        root = lxml.html.document_fromstring(html)
    except (ValueError, lxml.etree.ParserError):
        return html
    for unwanted in root.xpath("//script|//style|//head"):
        unwanted.drop_tree()
    for br in root.iter("br"):
        br.tail = "\n" + (br.tail or "")
    for block in root.iter(*BLOCKS):
        block.tail = "\n" + (block.tail or "")
    return tidy(root.text_content())


def tidy(text):
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\xa0", " ")
    lines = [line.rstrip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def strip_quoted(text):
    """The new part of a reply: the text above the quoted earlier message (a client's "On … wrote:",
    "-----原始邮件-----", Outlook's "发件人:/发送时间:" block) and without trailing "> " lines. The whole
    text when nothing else is left."""
    lines = text.split("\n")
    cut = len(lines)
    for index, line in enumerate(lines):
        next_line = lines[index + 1] if index + 1 < len(lines) else ""
        if any(p.match(line) for p in QUOTE_STARTS) or (QUOTE_HEADER.match(line) and QUOTE_HEADER_NEXT.match(next_line)):
            cut = index
            break
    kept = lines[:cut]
    while kept and (not kept[-1].strip() or kept[-1].lstrip().startswith(">")):
        kept.pop()
    new = "\n".join(kept).strip()
    return new or text


# Parsing ---------------------------------------------------------------------------------------------

def _raw(message, name):
    """A header's first value as the message has it (raw 8-bit bytes kept as surrogates, which
    header_text reads), or None."""
    name = name.lower()
    return next((value for key, value in message.raw_items() if key.lower() == name), None)


def _ids(value):
    """The Message-IDs in a header, each as <…> and at most MAX_ID characters long."""
    return [normal_id(found) for found in re.findall(r"<[^<>\s]+>", header_text(value))]


def normal_id(message_id):
    """A Message-ID as stored: <…>, a longer one replaced by a digest of it."""
    message_id = message_id.strip()
    if not message_id.startswith("<"):
        message_id = f"<{message_id}>"
    if len(message_id) > MAX_ID:
        message_id = f"<{hashlib.sha256(message_id.encode()).hexdigest()}@long-id.invalid>"
    return message_id


def _message_id(message, raw):
    found = _ids(_raw(message, "Message-ID"))
    if found:
        return found[0]
    # No Message-ID: one from the bytes, so the same message read twice is still one.
    return f"<{hashlib.sha256(raw).hexdigest()}@no-message-id.invalid>"


def _filename(part, index):
    name = part.get_filename()
    name = header_text(name) if name else ""
    name = re.sub(r'[\\/:*?"<>|\x00-\x1f]', "_", name).strip(" .")
    if not name:
        extension = mimetypes.guess_extension(part.get_content_type()) or ".bin"
        name = f"attachment-{index}{extension}"
    return name[:200]


def _parts(message, found):
    """Walk the MIME tree: (kind, part) for body candidates and attachments; a forwarded message
    (message/rfc822) stays one attachment."""
    if message.get_content_type() == "message/rfc822":
        found.append(("attachment", message))
        return found
    if message.is_multipart():
        for part in message.get_payload():
            _parts(part, found)
        return found
    content_type = message.get_content_type()
    inline = message.get_content_disposition() != "attachment" and not message.get_filename()
    if inline and content_type in ("text/plain", "text/html"):
        found.append((content_type, message))
    else:
        found.append(("attachment", message))
    return found


def _text(part):
    payload = part.get_payload(decode=True) or b""
    return decode_bytes(payload, part.get_content_charset())


def _body_and_attachments(message):
    plain, html, attachments = [], [], []
    for kind, part in _parts(message, []):
        if kind == "text/plain":
            plain.append(tidy(_text(part)))
        elif kind == "text/html":
            html.append(html_to_text(_text(part)))
        else:
            if part.get_content_type() == "message/rfc822":
                payload = part.get_payload()
                data = payload[0].as_bytes() if payload else b""
                name = _filename(part, len(attachments) + 1)
                if name.startswith("attachment-"):
                    name = (header_text(_raw(payload[0], "Subject")) if payload else "") or name
                    name = re.sub(r'[\\/:*?"<>|]', "_", name)[:190] + ".eml"
            else:
                data = part.get_payload(decode=True) or b""
                name = _filename(part, len(attachments) + 1)
            attachments.append(Attachment(name=name, content_type=part.get_content_type(), data=data))
    body = "\n\n".join(text for text in plain if text) if plain else (html[0] if html else "")
    return body, attachments


def automatic_reason(message, sender):
    """Why the message was sent by a machine and must open no ticket (RFC 3834's Auto-Submitted, a
    Precedence of bulk mail, the headers of common auto-responders, a delivery report or a sender of
    bounces), or ""."""
    submitted = header_text(_raw(message, "Auto-Submitted")).lower()
    if submitted and submitted != "no":
        return f"Auto-Submitted: {submitted}"[:200]
    precedence = header_text(_raw(message, "Precedence")).lower()
    if precedence in BULK_PRECEDENCE:
        return f"Precedence: {precedence}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Auto-Response"):
        if _raw(message, name) is not None:
            return name
    if message.get_content_type() == "multipart/report":
        return "multipart/report"
    if header_text(_raw(message, "Return-Path")) == "<>":
        return "Return-Path: <>"
    if not sender:
        return "no sender"
    if sender.split("@")[0] in ROBOT_SENDERS:
        return f"From: {sender}"
    return ""


def parse(raw):
    """A ParsedMail of the message's bytes; never raises on what a mailer may send (bad charsets,
    broken MIME, missing headers)."""
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    name, address = email.utils.parseaddr(_raw(message, "From") or "")
    sender = header_text(address).lower()
    body, attachments = _body_and_attachments(message)
    return ParsedMail(
        message_id=_message_id(message, raw), sender=sender, sender_name=header_text(name).strip('"'),
        subject=header_text(_raw(message, "Subject")), body=body, in_reply_to=_ids(_raw(message, "In-Reply-To")),
        references=_ids(_raw(message, "References")), attachments=attachments,
        automatic=automatic_reason(message, sender))


def ticket_reference(subject):
    """The ticket id a subject names by its reference ("Re: 打印机卡纸 [#123]"), or None."""
    found = REFERENCE.findall(subject or "")
    return int(found[-1]) if found else None


def subject_with_reference(subject, reference):
    """A reply's subject: "Re: " once, then the subject without any earlier reference, then "[#123]"."""
    subject = REFERENCE.sub("", subject or "").strip()
    subject = re.sub(r"^((re|回复|答复|fw|fwd|转发)\s*[:：]\s*)+", "", subject, flags=re.IGNORECASE)
    return f"Re: {subject} [{reference}]".replace("  ", " ")


# The mailbox -----------------------------------------------------------------------------------------

class Mailbox:
    """An IMAP folder, opened with `with`: its UIDVALIDITY, the UIDs of its unread messages, a message's
    bytes (read without marking it read), and marking one processed (read, or moved to `done_folder`)."""

    def __init__(self, *, host, port, security, user, password, folder="INBOX", done_folder="", timeout=30):
        self.host, self.port, self.security = host, port, security
        self.user, self.password, self.folder, self.done_folder = user, password, folder, done_folder
        self.timeout = timeout
        self.connection = None
        self.uidvalidity = None

    @property
    def name(self):
        """How the processed-mail records name the folder: user@host/folder."""
        return f"{self.user}@{self.host}/{self.folder}"[:200]

    def __enter__(self):
        if self.security == "ssl":
            self.connection = imaplib.IMAP4_SSL(self.host, self.port, ssl_context=ssl.create_default_context(),
                                                timeout=self.timeout)
        else:
            self.connection = imaplib.IMAP4(self.host, self.port, timeout=self.timeout)
            if self.security == "starttls":
                self.connection.starttls(ssl.create_default_context())
        try:
            self.connection.login(self.user, self.password)
            self._ok(self.connection.select(_quoted(self.folder)))
            self.uidvalidity = int(self.connection.response("UIDVALIDITY")[1][0])
        except BaseException:
            self._close()
            raise
        return self

    def __exit__(self, *exc):
        self._close()

    def _close(self):
        try:
            self.connection.logout()
        except Exception:  # noqa: BLE001 - the server went away: nothing left to close
            pass

    @staticmethod
    def _ok(answer):
        status, data = answer
        if status != "OK":
            raise imaplib.IMAP4.error(f"{status} {data!r}")
        return data

    def unread(self, limit):
        """The UIDs of the folder's unread messages, oldest first, at most `limit`."""
        data = self._ok(self.connection.uid("SEARCH", None, "UNSEEN"))
        uids = sorted(int(uid) for uid in (data[0] or b"").split())
        return uids[:limit]

    def fetch(self, uid):
        """The message's bytes (BODY.PEEK: it stays unread until `done`), or None if it is gone."""
        data = self._ok(self.connection.uid("FETCH", str(uid), "(BODY.PEEK[])"))
        for item in data:
            if isinstance(item, tuple):
                return item[1]
        return None

    def done(self, uid):
        """Mark the message processed: moved to `done_folder` if there is one, else read."""
        if self.done_folder:
            if "MOVE" in self.connection.capabilities:
                self._ok(self.connection.uid("MOVE", str(uid), _quoted(self.done_folder)))
                return
            self._ok(self.connection.uid("COPY", str(uid), _quoted(self.done_folder)))
            self._ok(self.connection.uid("STORE", str(uid), "+FLAGS", "(\\Deleted \\Seen)"))
            self._ok(self.connection.expunge())
            return
        self._ok(self.connection.uid("STORE", str(uid), "+FLAGS", "(\\Seen)"))


def _quoted(folder):
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'
