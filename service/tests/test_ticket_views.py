"""The ticket pages: opening a ticket from a customer's page, the queues, replying and moving a ticket
on, the customer page's read-only panel, and the access grid: every URL that names a ticket, walked on
GET and POST by another team's agent (404, nothing changed), by a reader of the customer without the
service module (403 on the desk, the panel read-only) and by the ticket's agent (the control)."""
import datetime
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from conftest import named_routes
from crm.tests.factories import ContactFactory, CustomerFactory
from service import services
from service.models import Survey, Ticket, TicketEntry, TicketStatus, TicketTask
from service.services.surveys import survey_issue

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
SECRET = "绝密华东工单"


@pytest.fixture
def customer(rep_east):
    return CustomerFactory(name="上海精密机械有限公司", owner=rep_east, tier="B")


@pytest.fixture
def ticket(agent_sh, customer, service_desk, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    photo = SimpleUploadedFile("现场照片.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 32)
    return services.ticket_create(by=agent_sh, customer=customer, subject=SECRET, type=service_desk["故障"],
                                  description="主轴异响，已停机", checklist=["上门检修"], files=[photo])


def test_an_agent_opens_a_ticket_from_the_customer_page(client_for, agent_sh, customer, service_desk):
    client = client_for(agent_sh)
    page = client.get(customer.get_absolute_url())
    new = reverse("service:ticket_create") + f"?customer={customer.pk}"
    assert new.replace("&", "&amp;") in page.content.decode()
    assert client.get(new).status_code == 200
    contact = ContactFactory(customer=customer, name="李工")
    response = client.post(reverse("service:ticket_create"), {
        "customer": customer.pk, "subject": "数控机床报警 E-21", "type": service_desk["故障"].pk, "priority": "high",
        "channel": "phone", "contact": contact.pk, "description": "开机即报警"})
    ticket = Ticket.objects.get()
    assert response.status_code == 302 and response["Location"] == ticket.get_absolute_url()
    assert (ticket.assignee, ticket.contact, ticket.priority) == (agent_sh, contact, "high")
    detail = client.get(response["Location"]).content.decode()
    assert "数控机床报警 E-21" in detail and "开机即报警" in detail


def test_a_ticket_names_its_product_from_the_active_catalogue_and_keeps_a_retired_one(client_for, agent_sh, customer,
                                                                                       service_desk):
    from sales.models import Product

    spindle = Product.objects.create(code="SP-01", name="高速电主轴")
    retired = Product.objects.create(code="OLD-1", name="旧款数控系统", is_active=False)
    client = client_for(agent_sh)
    form = client.get(reverse("service:ticket_create") + f"?customer={customer.pk}").content.decode()
    assert "高速电主轴" in form and "旧款数控系统" not in form
    refused = client.post(reverse("service:ticket_create"), {
        "customer": customer.pk, "subject": "主轴异响", "type": service_desk["故障"].pk, "priority": "normal",
        "channel": "phone", "product": retired.pk})
    assert refused.status_code == 422 and not Ticket.objects.exists()
    client.post(reverse("service:ticket_create"), {
        "customer": customer.pk, "subject": "主轴异响", "type": service_desk["故障"].pk, "priority": "normal",
        "channel": "phone", "product": spindle.pk})
    ticket = Ticket.objects.get()
    assert ticket.product == spindle
    assert "高速电主轴" in client.get(ticket.get_absolute_url()).content.decode()
    # Retired since: the ticket keeps it, and its edit form still offers it.
    Product.objects.filter(pk=spindle.pk).update(is_active=False)
    edit = client.get(reverse("service:ticket_edit", args=[ticket.pk])).content.decode()
    assert "高速电主轴" in edit
    # Its follow-up ticket names the same product.
    services.ticket_set_status(ticket=ticket, by=agent_sh, status=TicketStatus.RESOLVED)
    follow = services.ticket_follow_up(ticket=Ticket.objects.get(pk=ticket.pk), by=agent_sh)
    assert follow.product == spindle


def test_a_ticket_without_a_subject_is_refused_with_the_reason(client_for, agent_sh, customer, service_desk):
    response = client_for(agent_sh).post(reverse("service:ticket_create"), {
        "customer": customer.pk, "subject": "", "type": service_desk["故障"].pk, "priority": "normal",
        "channel": "phone"})
    assert response.status_code == 422 and not Ticket.objects.exists()


def test_the_agent_replies_sets_waiting_and_resolves_from_the_page(client_for, agent_sh, ticket):
    client = client_for(agent_sh)
    url = ticket.get_absolute_url()
    response = client.post(reverse("service:ticket_reply", args=[ticket.pk]), {
        "body": "请拍一张报警界面的照片", "status": "waiting", "version": ticket.version})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.WAITING and ticket.first_responded_at
    client.post(reverse("service:ticket_reply", args=[ticket.pk]), {"body": "客户电话确认已恢复", "internal": "on"})
    client.post(reverse("service:ticket_status", args=[ticket.pk]), {"status": "resolved"})
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.RESOLVED
    page = client.get(url).content.decode()
    assert "请拍一张报警界面的照片" in page and "客户电话确认已恢复" in page
    assert 'data-testid="entry-note"' in page and 'data-testid="status-open"' in page  # reopen offered


def test_a_stale_version_is_refused_with_a_message(client_for, agent_sh, ticket):
    client = client_for(agent_sh)
    services.ticket_reply(ticket=ticket, by=agent_sh, body="先回一句")
    response = client.post(reverse("service:ticket_status", args=[ticket.pk]),
                           {"status": "resolved", "version": ticket.version}, follow=True)
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN
    assert "重新加载" in response.content.decode() or "reload" in response.content.decode()


def test_the_queues_hold_what_they_say(client_for, agent_sh, agent_sh2, customer, service_desk):
    mine = services.ticket_create(by=agent_sh, customer=customer, subject="我的工单", type=service_desk["咨询"])
    services.ticket_create(by=agent_sh2, customer=customer, subject="同事的工单", type=service_desk["咨询"])
    services.ticket_create(by=None, customer=customer, subject="网页来的工单", type=service_desk["咨询"])
    waiting = services.ticket_create(by=agent_sh, customer=customer, subject="等客户回复", type=service_desk["咨询"])
    services.ticket_set_status(ticket=waiting, by=agent_sh, status=TicketStatus.WAITING)
    client = client_for(agent_sh)

    def subjects(queue):
        page = client.get(reverse("service:queue"), {"queue": queue}).content.decode()
        return set(re.findall(r'data-testid="ticket-link"><span class="text-body-secondary">#\d+</span> ([^<]+)<', page))

    assert subjects("mine") == {"我的工单", "等客户回复"}
    assert subjects("team") == {"我的工单", "同事的工单", "网页来的工单", "等客户回复"}  # its unassigned too
    assert subjects("unassigned") == {"网页来的工单"}
    assert subjects("waiting") == {"等客户回复"}
    assert subjects("all") == {"我的工单", "同事的工单", "网页来的工单", "等客户回复"}
    assert subjects("breaching") == set()  # 8 working hours ahead, more than the 4 that count as soon
    assert client.get(reverse("service:index")).status_code == 200
    assert mine.pk


def test_breaching_soon_holds_the_tickets_due_within_the_hours_set(client_for, agent_sh, customer, service_desk,
                                                                  settings):
    settings.SERVICE_BREACHING_SOON_HOURS = 4
    with time_machine.travel(datetime.datetime(2026, 9, 21, 10, tzinfo=SHANGHAI), tick=False):
        services.ticket_create(by=agent_sh, customer=customer, subject="紧急故障", type=service_desk["故障"],
                               priority="urgent")  # first response due at 12:00
        services.ticket_create(by=agent_sh, customer=customer, subject="一般咨询", type=service_desk["咨询"])
        page = client_for(agent_sh).get(reverse("service:queue"), {"queue": "breaching"}).content.decode()
    assert "紧急故障" in page and "一般咨询" not in page


def test_bulk_assign_from_a_queue(client_for, agent_sh, agent_sh2, customer, service_desk):
    tickets = [services.ticket_create(by=None, customer=customer, subject=f"网页工单{i}", type=service_desk["咨询"])
               for i in range(2)]
    response = client_for(agent_sh).post(reverse("service:tickets_assign"), {
        "ids": [t.pk for t in tickets], "assignee": agent_sh2.pk, "next_queue": "unassigned"})
    assert response.status_code == 302 and response["Location"].endswith("?queue=unassigned")
    assert Ticket.objects.filter(assignee=agent_sh2).count() == 2
    response = client_for(agent_sh).post(reverse("service:tickets_assign"), {"ids": ["x"], "assignee": agent_sh2.pk})
    assert response.status_code == 302


def test_the_customer_page_shows_its_tickets_read_only_to_whoever_sees_the_customer(client_for, rep_east, agent_sh,
                                                                                    ticket):
    services.ticket_reply(ticket=ticket, by=agent_sh, body="备件已寄出", internal=True)
    page = client_for(rep_east).get(ticket.customer.get_absolute_url()).content.decode()
    assert SECRET in page and "备件已寄出" in page and 'data-testid="customer-ticket"' in page
    assert ticket.get_absolute_url() not in page  # a sales rep reads it here, without the desk
    assert 'data-testid="new-ticket"' not in page
    assert client_for(rep_east).get(ticket.get_absolute_url()).status_code == 403
    agent_page = client_for(agent_sh).get(ticket.customer.get_absolute_url()).content.decode()
    assert ticket.get_absolute_url() in agent_page


def test_pages_take_a_fixed_number_of_queries(client_for, agent_sh, customer, service_desk,
                                              django_assert_max_num_queries):
    client = client_for(agent_sh)
    first = services.ticket_create(by=agent_sh, customer=customer, subject="工单", type=service_desk["咨询"])
    for i in range(3):
        services.ticket_reply(ticket=first, by=agent_sh, body=f"回复{i}")

    def counts():
        found = {}
        for name, url in (("queue", reverse("service:queue") + "?queue=all"), ("detail", first.get_absolute_url()),
                          ("customer", customer.get_absolute_url())):
            from django.db import connection
            from django.test.utils import CaptureQueriesContext

            with CaptureQueriesContext(connection) as captured:
                assert client.get(url).status_code == 200
            found[name] = len(captured)
        return found

    before = counts()
    for i in range(12):
        extra = services.ticket_create(by=agent_sh, customer=customer, subject=f"更多{i}", type=service_desk["咨询"])
        services.ticket_reply(ticket=first, by=agent_sh, body=f"再回复{i}")
        services.ticket_reply(ticket=extra, by=agent_sh, body="收到", internal=True)
    assert counts() == before
    with django_assert_max_num_queries(16):
        client.get(reverse("service:queue") + "?queue=all")
    with django_assert_max_num_queries(20):
        client.get(first.get_absolute_url())


# The access grid ----------------------------------------------------------------------------------

def ticket_routes():
    return sorted((name, route) for name, route in named_routes()
                  if name.startswith("service:") and "tickets/<int:pk>/" in route)


READS = {"service:ticket_detail", "service:ticket_attachment"}


def url_of(name, ticket):
    route = dict(ticket_routes())[name]
    if "<int:item_pk>" in route:
        return reverse(name, args=[ticket.pk, ticket.checklist.get().pk])
    if "<int:attachment_pk>" in route:
        return reverse(name, args=[ticket.pk, ticket.attachments.get().pk])
    if "<slug:step>" in route:
        return reverse(name, args=[ticket.pk, "accept"])
    if "<int:article_pk>" in route:
        from service.services.knowledge import article_save

        article = article_save(by=ticket.assignee, title="主轴异响的处理", body="检查轴承。", status="published")
        return reverse(name, args=[ticket.pk, article.pk])
    return reverse(name, args=[ticket.pk])


def test_every_ticket_url_is_in_the_grid():
    assert {name for name, _route in ticket_routes()} == {
        "service:ticket_detail", "service:ticket_edit", "service:ticket_reply", "service:ticket_status",
        "service:ticket_assign", "service:ticket_follow_up", "service:ticket_check", "service:ticket_attachment",
        "service:ticket_survey", "service:ticket_survey_followed_up", "service:complaint_step",
        "service:ticket_article_link"}


@pytest.mark.parametrize("name", [name for name, _route in ticket_routes()])
@pytest.mark.parametrize("method", ["get", "post"])
def test_another_teams_agent_gets_404_and_changes_nothing(client_for, agent_bj, agent_sh, ticket, name, method):
    services.ticket_set_status(ticket=ticket, by=agent_sh, status=TicketStatus.RESOLVED)
    survey_issue(ticket=ticket, by=agent_sh)
    before = (Ticket.objects.values().get(pk=ticket.pk), TicketEntry.objects.count(), Ticket.objects.count(),
              list(TicketTask.objects.values()), list(Survey.objects.values()))
    client = client_for(agent_bj)
    url = url_of(name, ticket)
    data = {"body": "x", "status": "open", "assignee": agent_bj.pk, "subject": "改", "type": ticket.type_id,
            "priority": "low", "channel": "web", "done": "1"}
    response = client.get(url) if method == "get" else client.post(url, data)
    assert response.status_code == (405 if method == "get" and name not in READS | {"service:ticket_edit"} else 404)
    assert SECRET not in response.content.decode()
    assert (Ticket.objects.values().get(pk=ticket.pk), TicketEntry.objects.count(), Ticket.objects.count(),
            list(TicketTask.objects.values()), list(Survey.objects.values())) == before


@pytest.mark.parametrize("name", [name for name, _route in ticket_routes()])
def test_the_tickets_agent_reaches_every_url(client_for, agent_sh, ticket, name):
    services.ticket_set_status(ticket=ticket, by=agent_sh, status=TicketStatus.RESOLVED)
    survey_issue(ticket=ticket, by=agent_sh)
    url = url_of(name, ticket)
    response = client_for(agent_sh).get(url) if name in READS | {"service:ticket_edit"} else \
        client_for(agent_sh).post(url, {"body": "跟进", "status": "open", "done": "1"})
    assert response.status_code in (200, 302)


@pytest.mark.parametrize("url_name", ["service:index", "service:queue", "service:ticket_create"])
def test_the_desk_is_closed_to_users_without_the_service_module(client_for, rep_east, customer, url_name):
    response = client_for(rep_east).get(reverse(url_name), {"customer": customer.pk})
    assert response.status_code == 403


def test_another_teams_agent_cannot_open_a_ticket_on_a_customer_they_cannot_see(client_for, agent_bj, customer,
                                                                                service_desk):
    response = client_for(agent_bj).post(reverse("service:ticket_create"), {
        "customer": customer.pk, "subject": "越权", "type": service_desk["咨询"].pk, "priority": "normal",
        "channel": "phone"})
    assert response.status_code == 404 and not Ticket.objects.exists()


@pytest.mark.parametrize("queue", ["mine", "team", "unassigned", "breaching", "waiting", "all"])
def test_another_teams_agent_sees_nothing_of_the_ticket_in_any_queue(client_for, agent_bj, ticket, queue):
    services.ticket_assign(ticket=ticket, by=ticket.assignee, assignee=None)  # in 上海's unassigned queue
    page = client_for(agent_bj).get(reverse("service:queue"), {"queue": queue})
    assert page.status_code == 200 and SECRET not in page.content.decode()


@pytest.mark.parametrize("url_name, params", [
    ("service:queue", {"queue": "all", "after": "不是游标"}),
    ("service:queue", {"queue": "mine", "before": "9" * 40}),
    ("service:complaints", {"start": "9999-12-31", "end": "0001-01-01"}),
    ("service:complaints", {"before": "²"}),
    ("service:articles", {"q": "x" * 500, "category": "99999999999999999999"}),
])
def test_bad_input_gets_a_clear_answer_not_a_500(client_for, agent_sh, ticket, url_name, params):
    assert client_for(agent_sh).get(reverse(url_name), params).status_code in (200, 400)
