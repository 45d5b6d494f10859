"""Files on tickets: pictures, PDFs and documents come with the opening, a reply or a note; a file that
is not what its name says, too large, of a kind that may not be attached, or one too many is refused
with its name and nothing is written; the download answers only through the ticket's access rule."""
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from crm.tests.factories import CustomerFactory
from service import services
from service.models import TicketAttachment, TicketEntry

pytestmark = pytest.mark.django_db
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def ticket(agent_sh, rep_east, service_desk):
    customer = CustomerFactory(name="上海精密机械有限公司", owner=rep_east)
    return services.ticket_create(by=agent_sh, customer=customer, subject="报警截图", type=service_desk["故障"])


def upload(name, content):
    return SimpleUploadedFile(name, content)


def test_an_agent_attaches_files_to_a_reply_and_downloads_them(client_for, agent_sh, ticket):
    client = client_for(agent_sh)
    response = client.post(reverse("service:ticket_reply", args=[ticket.pk]), {
        "body": "报警界面截图和维修报告见附件", "files": [upload("报警截图.png", PNG), upload("维修报告.pdf", PDF)]})
    assert response.status_code == 302
    files = {a.name: a for a in TicketAttachment.objects.all()}
    assert set(files) == {"报警截图.png", "维修报告.pdf"}
    assert files["维修报告.pdf"].entry.kind == "reply" and files["维修报告.pdf"].content_type == "application/pdf"
    page = client.get(ticket.get_absolute_url()).content.decode()
    url = reverse("service:ticket_attachment", args=[ticket.pk, files["维修报告.pdf"].pk])
    assert url in page
    download = client.get(url)
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF
    assert download["Content-Disposition"].startswith("attachment;")


def test_the_download_follows_the_tickets_access_rule(client_for, agent_sh, agent_bj, rep_east, ticket, service_desk):
    services.ticket_reply(ticket=ticket, by=agent_sh, body="附件", files=[upload("a.png", PNG)])
    attachment = TicketAttachment.objects.get()
    url = reverse("service:ticket_attachment", args=[ticket.pk, attachment.pk])
    assert client_for(agent_bj).get(url).status_code == 404
    assert client_for(rep_east).get(url).status_code == 403  # no service module at all
    other = services.ticket_create(by=agent_sh, customer=ticket.customer, subject="另一单", type=service_desk["咨询"])
    assert client_for(agent_sh).get(reverse("service:ticket_attachment", args=[other.pk, attachment.pk])).status_code == 404


@pytest.mark.parametrize("name, content, says", [
    ("setup.exe", b"MZ\x90\x00", "setup.exe"),
    ("photo.png", PDF, "photo.png"),  # the name says picture, the bytes say PDF
    ("notes.txt", b"\x00\x01binary", "notes.txt"),
])
def test_a_file_that_may_not_be_attached_is_refused_by_name_and_nothing_is_written(client_for, agent_sh, ticket,
                                                                                   name, content, says):
    before = TicketEntry.objects.count()
    response = client_for(agent_sh).post(reverse("service:ticket_reply", args=[ticket.pk]), {
        "body": "附件", "files": [upload(name, content), upload("ok.png", PNG)]}, follow=True)
    assert says in response.content.decode()
    assert TicketEntry.objects.count() == before and not TicketAttachment.objects.exists()


def test_size_and_count_limits(agent_sh, ticket, settings):
    from django.core.exceptions import ValidationError

    settings.SERVICE_ATTACHMENT_MAX_BYTES = 32
    with pytest.raises(ValidationError, match="big.png"):
        services.ticket_reply(ticket=ticket, by=agent_sh, body="x", files=[upload("big.png", PNG)])
    settings.SERVICE_ATTACHMENT_MAX_BYTES = 2**20
    settings.SERVICE_ATTACHMENTS_PER_MESSAGE = 2
    with pytest.raises(ValidationError):
        services.ticket_reply(ticket=ticket, by=agent_sh, body="x", files=[upload(f"{i}.png", PNG) for i in range(3)])
    assert not TicketAttachment.objects.exists()


def test_a_ticket_opened_with_a_file(client_for, agent_sh, rep_east, service_desk):
    customer = CustomerFactory(owner=rep_east)
    client_for(agent_sh).post(reverse("service:ticket_create"), {
        "customer": customer.pk, "subject": "打印机卡纸", "type": service_desk["故障"].pk, "priority": "normal",
        "channel": "phone", "files": [upload("卡纸.png", PNG)]})
    attachment = TicketAttachment.objects.get()
    assert attachment.entry.kind == "created" and attachment.uploaded_by == agent_sh
