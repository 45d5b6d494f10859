"""Real mail servers on loopback for the mail tests, no stand-ins: the Dovecot of scripts/mailserver.py (IMAP,
started once for the whole run) and an aiosmtpd SMTP server that delivers what it receives into a Dovecot
folder, so a reply goes the whole way: Django's SMTP backend → SMTP → a customer's mailbox → read by IMAP.
Each test works in folders of its own (the xdist workers share one Dovecot)."""
import email
import email.policy
import imaplib
import importlib.util
import os
import re
import socket
import uuid
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parents[2]


def dovecot():
    """{"host", "port", "users"} of the running Dovecot, started if need be; skips the test when Dovecot is
    not installed (`make mailserver` installs it; in CI, where `make test` installs it, that fails)."""
    spec = importlib.util.spec_from_file_location("crm_mailserver", ROOT / "scripts" / "mailserver.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    try:
        return module.up()
    except RuntimeError as error:
        if os.environ.get("CI"):
            pytest.fail(str(error))
        pytest.skip(str(error))


class ImapFolder:
    """A folder of its own in one Dovecot user's mailbox: deliver into it, read what is there."""

    def __init__(self, server, user, name=None):
        self.host, self.port = server["host"], server["port"]
        self.user, self.password = user, server["users"][user]
        self.name = name or f"test-{uuid.uuid4().hex[:10]}"

    def connect(self):
        connection = imaplib.IMAP4(self.host, self.port, timeout=10)
        connection.login(self.user, self.password)
        return connection

    def create(self):
        with self._session(select=False) as connection:
            connection.create(self.name)
        return self

    def delete(self):
        with self._session(select=False) as connection:
            connection.delete(self.name)

    def _session(self, select=True):
        folder = self

        class Session:
            def __enter__(self):
                self.connection = folder.connect()
                if select:
                    folder._ok(self.connection.select(folder.name))
                return self.connection

            def __exit__(self, *exc):
                self.connection.logout()

        return Session()

    @staticmethod
    def _ok(answer):
        assert answer[0] == "OK", answer
        return answer[1]

    def deliver(self, message):
        """Put a message (bytes, or an email.message.Message) into the folder, unread; returns its UID."""
        raw = message if isinstance(message, bytes) else message.as_bytes(policy=email.policy.SMTP)
        with self._session(select=False) as connection:
            data = self._ok(connection.append(self.name, None, None, raw))
        return int(re.search(rb"APPENDUID \d+ (\d+)", data[0]).group(1))

    def unread(self):
        with self._session() as connection:
            return [int(uid) for uid in self._ok(connection.uid("SEARCH", None, "UNSEEN"))[0].split()]

    def all(self):
        with self._session() as connection:
            return [int(uid) for uid in self._ok(connection.uid("SEARCH", None, "ALL"))[0].split()]

    def mark_unread(self, uid):
        with self._session() as connection:
            self._ok(connection.uid("STORE", str(uid), "-FLAGS", "(\\Seen)"))

    def messages(self):
        """The folder's messages as email.message.EmailMessage, oldest first."""
        found = []
        with self._session() as connection:
            for uid in self._ok(connection.uid("SEARCH", None, "ALL"))[0].split():
                data = self._ok(connection.uid("FETCH", uid, "(BODY.PEEK[])"))
                found.append(email.message_from_bytes(data[0][1], policy=email.policy.default))
        return found


class DeliverToFolder:
    """aiosmtpd handler: each message received is delivered into `folder` and its envelope kept."""

    def __init__(self, folder):
        self.folder = folder
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        self.folder.deliver(envelope.original_content or envelope.content)
        return "250 OK delivered"


def smtp_server(folder):
    """A started aiosmtpd Controller on 127.0.0.1 (a free port) delivering into `folder`; stop() it."""
    handler = DeliverToFolder(folder)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    controller.handler_ref = handler
    return controller
