"""The service desk's people: an agent in 上海 and one in 北京 (客服专员: customers of their own team,
tickets of their team and its sub-teams), and the seeded calendar, ticket types and policies."""
import pytest

from accounts.tests.factories import UserFactory
from service.models import CalendarDay, SlaPolicy, TicketType, WorkCalendar, WorkWindow
from service.seed import seed_default_calendar, seed_service_desk


@pytest.fixture
def service_desk(db):
    """The migrations seed them; a test that empties the database (another module's) takes them away."""
    seed_default_calendar(WorkCalendar, WorkWindow, CalendarDay)
    seed_service_desk(TicketType, SlaPolicy)
    return {t.name: t for t in TicketType.objects.all()}


@pytest.fixture
def agent_sh(teams, roles, manager_east):
    return UserFactory(username="agent_sh", display_name="客服小王", team=teams["shanghai"], manager=manager_east,
                       roles=[roles["客服专员"]])


@pytest.fixture
def agent_sh2(teams, roles, manager_east):
    return UserFactory(username="agent_sh2", display_name="客服小李", team=teams["shanghai"], manager=manager_east,
                       roles=[roles["客服专员"]])


@pytest.fixture
def agent_bj(teams, roles, manager_west):
    return UserFactory(username="agent_bj", display_name="客服小赵", team=teams["beijing"], manager=manager_west,
                       roles=[roles["客服专员"]])


# Mail: the real servers of service/tests/mailservers.py -------------------------------------------

@pytest.fixture(scope="session")
def imap_server():
    """The loopback Dovecot (scripts/mailserver.py), started once if it is not running."""
    from .mailservers import dovecot

    return dovecot()


@pytest.fixture
def support_mailbox(imap_server, settings):
    """A folder of the desk's Dovecot mailbox for this test, and the settings that make the mailbox job
    read it (plain IMAP: loopback only)."""
    from .mailservers import ImapFolder

    folder = ImapFolder(imap_server, "support").create()
    settings.SERVICE_MAIL_IMAP_HOST = imap_server["host"]
    settings.SERVICE_MAIL_IMAP_PORT = imap_server["port"]
    settings.SERVICE_MAIL_IMAP_SECURITY = "none"
    settings.SERVICE_MAIL_IMAP_USER = folder.user
    settings.SERVICE_MAIL_IMAP_PASSWORD = folder.password
    settings.SERVICE_MAIL_IMAP_FOLDER = folder.name
    settings.SERVICE_MAIL_ADDRESS = "support@desk.example"
    yield folder
    folder.delete()


@pytest.fixture
def customer_mailbox(imap_server):
    """A folder of the customer's Dovecot mailbox for this test, where the SMTP server delivers."""
    from .mailservers import ImapFolder

    folder = ImapFolder(imap_server, "customer").create()
    yield folder
    folder.delete()


@pytest.fixture
def smtp_server(customer_mailbox, settings):
    """A real SMTP server on loopback delivering into `customer_mailbox`, and Django's SMTP backend
    pointed at it. `.handler_ref.envelopes` holds what it received."""
    from .mailservers import smtp_server as start

    controller = start(customer_mailbox)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield controller
    controller.stop()
