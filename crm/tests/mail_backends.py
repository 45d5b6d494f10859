"""Mail backends for the tests, importable by a worker process (EMAIL_BACKEND=...)."""
from smtplib import SMTPServerDisconnected

from django.core.mail.backends.base import BaseEmailBackend


class FailingBackend(BaseEmailBackend):
    """A mail server that is always down."""

    def send_messages(self, email_messages):
        raise SMTPServerDisconnected("Connection unexpectedly closed (test mail server is down)")
