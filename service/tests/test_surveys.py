"""Satisfaction surveys: issued once a few hours after a ticket is resolved (not if it was reopened), NPS
asked once per customer and quarter, the link mailed once to the contact; the page opens without
signing in, GET never records and POST does, the answer can be changed for a day, the link expires
after 30 days (410), a forged one is a 404; a low score reminds the team lead until followed up."""
import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from crm.models import Notification
from crm.services.notifications import notifications_scan
from crm.tests.factories import ContactFactory, CustomerFactory
from service import services
from service.models import Survey, TicketStatus
from service.services.surveys import survey_token, survey_url, surveys_issue, surveys_mail

pytestmark = [pytest.mark.django_db, pytest.mark.dates]
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(text):
    return datetime.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.fixture
def customer(rep_east):
    customer = CustomerFactory(name="上海精密机械有限公司", owner=rep_east, email="info@jingmi.example")
    ContactFactory(customer=customer, name="李工", email="li@jingmi.example", is_primary=True)
    return customer


def resolved(agent, customer, service_desk, moment, subject="主轴异响"):
    with time_machine.travel(at(moment), tick=False):
        ticket = services.ticket_create(by=agent, customer=customer, subject=subject, type=service_desk["故障"],
                                        contact=customer.contacts.first())
        return services.ticket_set_status(ticket=ticket, by=agent, status=TicketStatus.RESOLVED)


def answer_url(ticket):
    return reverse("survey:answer", args=[survey_token(ticket.pk)])


def test_a_survey_is_issued_once_hours_after_resolving_and_mailed_once(agent_sh, customer, service_desk, mailoutbox):
    ticket = resolved(agent_sh, customer, service_desk, "2026-09-21 10:00")
    assert surveys_issue(now=at("2026-09-21 11:59")) == 0  # 2 hours after resolving
    assert surveys_issue(now=at("2026-09-21 12:01")) == 1
    assert surveys_issue(now=at("2026-09-21 12:30")) == 0
    survey = Survey.objects.get(ticket=ticket)
    assert survey.mailed_to == "li@jingmi.example" and survey.asks_nps
    assert surveys_mail(now=at("2026-09-21 12:31")) == 1 and surveys_mail(now=at("2026-09-21 12:32")) == 0
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["li@jingmi.example"]
    assert survey_url(survey) in mailoutbox[0].body and ticket.reference in mailoutbox[0].subject


def test_a_ticket_reopened_meanwhile_is_not_surveyed_until_it_is_resolved_again(agent_sh, customer, service_desk):
    ticket = resolved(agent_sh, customer, service_desk, "2026-09-21 10:00")
    with time_machine.travel(at("2026-09-21 11:00"), tick=False):
        services.ticket_set_status(ticket=ticket, by=agent_sh, status=TicketStatus.OPEN)
    assert surveys_issue(now=at("2026-09-21 13:00")) == 0
    with time_machine.travel(at("2026-09-22 09:00"), tick=False):
        services.ticket_set_status(ticket=ticket, by=agent_sh, status=TicketStatus.RESOLVED)
    assert surveys_issue(now=at("2026-09-22 11:30")) == 1


def test_nps_is_asked_once_per_customer_and_quarter(agent_sh, customer, service_desk):
    first = resolved(agent_sh, customer, service_desk, "2026-09-21 10:00", "一")
    second = resolved(agent_sh, customer, service_desk, "2026-09-21 10:05", "二")
    surveys_issue(now=at("2026-09-21 13:00"))
    third = resolved(agent_sh, customer, service_desk, "2026-09-28 10:00", "三")
    surveys_issue(now=at("2026-09-28 13:00"))
    october = resolved(agent_sh, customer, service_desk, "2026-10-09 10:00", "四")
    surveys_issue(now=at("2026-10-09 13:00"))
    asks = dict(Survey.objects.values_list("ticket_id", "asks_nps"))
    assert asks == {first.pk: True, second.pk: False, third.pk: False, october.pk: True}


def test_get_shows_post_records_and_the_answer_can_be_changed_for_a_day(client, agent_sh, customer, service_desk):
    ticket = resolved(agent_sh, customer, service_desk, "2026-09-21 10:00")
    surveys_issue(now=at("2026-09-21 12:30"))
    url = answer_url(ticket)
    with time_machine.travel(at("2026-09-22 09:00"), tick=False):
        page = client.get(url)
        assert page.status_code == 200 and "主轴异响" in page.content.decode()
        assert Survey.objects.get().answered_at is None  # a mail scanner's GET records nothing
        response = client.post(url, {"csat": "4", "nps": "9", "comment": "工程师很专业"})
        assert response.status_code == 302
    with time_machine.travel(at("2026-09-22 20:00"), tick=False):
        client.post(url, {"csat": "5", "nps": "10", "comment": "后来又好了"})
    survey = Survey.objects.get()
    assert (survey.csat, survey.nps, survey.comment) == (5, 10, "后来又好了")
    assert survey.answered_at == at("2026-09-22 09:00")
    with time_machine.travel(at("2026-09-23 09:01"), tick=False):
        response = client.post(url, {"csat": "1"})
    assert response.status_code == 422 and Survey.objects.get().csat == 5


def test_an_expired_link_is_410_and_a_forged_one_404(client, agent_sh, customer, service_desk):
    ticket = resolved(agent_sh, customer, service_desk, "2026-09-21 10:00")
    surveys_issue(now=at("2026-09-21 12:30"))
    assert client.get(answer_url(ticket) + "x").status_code == 404
    assert client.get(reverse("survey:answer", args=["123"])).status_code == 404
    with time_machine.travel(at("2026-10-21 12:31"), tick=False):
        assert client.get(answer_url(ticket)).status_code == 410
        assert client.post(answer_url(ticket), {"csat": "5"}).status_code == 410
    assert Survey.objects.get().answered_at is None


def test_the_page_says_nothing_of_the_customer_or_other_tickets(client, agent_sh, customer, service_desk):
    ticket = resolved(agent_sh, customer, service_desk, "2026-09-21 10:00")
    resolved(agent_sh, customer, service_desk, "2026-09-21 10:01", "另一张工单")
    surveys_issue(now=at("2026-09-21 12:30"))
    page = client.get(answer_url(ticket)).content.decode()
    assert customer.name not in page and "另一张工单" not in page and "李工" not in page


def test_a_low_score_reminds_the_team_lead_until_followed_up(client, client_for, agent_sh, customer, service_desk,
                                                            teams, manager_east):
    teams["east"].lead = manager_east
    teams["east"].save()
    ticket = resolved(agent_sh, customer, service_desk, "2026-09-21 10:00")
    surveys_issue(now=at("2026-09-21 12:30"))
    with time_machine.travel(at("2026-09-22 09:00"), tick=False):
        client.post(answer_url(ticket), {"csat": "2", "nps": "3", "comment": "等了太久"})
    notifications_scan(keys={"survey_low_score"}, processes=1)
    reminder = Notification.objects.get(rule="survey_low_score")
    assert reminder.recipient == manager_east
    page = client_for(manager_east).get(ticket.get_absolute_url()).content.decode()
    assert "等了太久" in page and 'data-testid="survey-followed-up"' in page
    client_for(manager_east).post(reverse("service:ticket_survey_followed_up", args=[ticket.pk]))
    assert notifications_scan(keys={"survey_low_score"}, processes=1)["survey_low_score"]["resolved"] == 1


def test_the_agent_creates_the_link_at_once_to_send_by_wechat(client_for, agent_sh, agent_bj, customer, service_desk):
    ticket = resolved(agent_sh, customer, service_desk, "2026-09-21 10:00")
    url = reverse("service:ticket_survey", args=[ticket.pk])
    assert client_for(agent_bj).post(url).status_code == 404
    client_for(agent_sh).post(url)
    client_for(agent_sh).post(url)  # twice: still one
    survey = Survey.objects.get()
    page = client_for(agent_sh).get(ticket.get_absolute_url()).content.decode()
    assert survey_url(survey) in page


def test_the_answer_shows_on_the_customer_page(client, client_for, rep_east, agent_sh, customer, service_desk):
    ticket = resolved(agent_sh, customer, service_desk, "2026-09-21 10:00")
    surveys_issue(now=at("2026-09-21 12:30"))
    with time_machine.travel(at("2026-09-22 09:00"), tick=False):
        client.post(answer_url(ticket), {"csat": "4", "nps": "8"})
    page = client_for(rep_east).get(customer.get_absolute_url()).content.decode()
    assert 'data-testid="customer-ticket-csat"' in page and "4/5" in page
