"""SLA warnings and escalation: the warning when a quarter of the target's time is left, level 1 (the
agent and the team lead) at the deadline, level 2 (the manager above the lead) hours later, level 3
(the ticket handed to the lead) later still; each once per ticket and target, and none for a clock that
stands still. Times are Shanghai times on the seeded calendar (09:00–12:00, 13:30–18:00)."""
import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from crm.models import Notification
from crm.services.notifications import notifications_scan
from crm.tests.factories import CustomerFactory
from service import services
from service.models import EntryKind, Ticket, TicketEntry, TicketStatus
from service.services.escalation import tickets_escalate

pytestmark = [pytest.mark.django_db, pytest.mark.dates]
SHANGHAI = ZoneInfo("Asia/Shanghai")
RULES = {"ticket_sla_warning", "ticket_sla_breached", "ticket_sla_escalated"}


def at(text):
    return datetime.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def scan(moment):
    return notifications_scan(now=at(moment), keys=RULES, processes=1)


def raised(rule):
    return set(Notification.objects.filter(rule=rule).values_list("recipient__username", "period"))


@pytest.fixture
def ticket(agent_sh, teams, manager_east, director, service_desk, rep_east):
    """An A-tier customer's fault opened Monday 10:00: first response due 12:00 (2 working hours),
    warned at 11:30; the 上海 team has no lead, so the lead is 华东区's (manager_east, under director)."""
    teams["east"].lead = manager_east
    teams["east"].save()
    customer = CustomerFactory(name="华东重工集团", owner=rep_east, tier="A")
    with time_machine.travel(at("2026-09-21 10:00"), tick=False):
        return services.ticket_create(by=agent_sh, customer=customer, subject="主轴异响", type=service_desk["故障"])


def test_the_warning_and_deadline_times_are_stored_with_the_deadlines(ticket):
    local = {name: getattr(ticket, name).astimezone(SHANGHAI).strftime("%m-%d %H:%M") for name in (
        "first_response_warn_at", "first_response_due", "resolution_warn_at", "resolution_due")}
    # 25 % of 2 working hours left at 11:30; of 24 working hours (Mon 6.5, Tue 7.5, Wed 4) on Wednesday 14:30.
    assert local == {"first_response_warn_at": "09-21 11:30", "first_response_due": "09-21 12:00",
                     "resolution_warn_at": "09-23 14:30", "resolution_due": "09-24 11:30"}


def test_warning_then_level_1_and_level_2_each_once(ticket):
    assert scan("2026-09-21 11:20")["ticket_sla_warning"]["raised"] == 0
    assert scan("2026-09-21 11:40")["ticket_sla_warning"]["raised"] == 1
    assert scan("2026-09-21 11:45")["ticket_sla_warning"]["raised"] == 0
    assert raised("ticket_sla_warning") == {("agent_sh", "first_response")}

    result = scan("2026-09-21 12:05")
    assert result["ticket_sla_warning"]["resolved"] == 1  # the deadline has passed: a breach now
    assert raised("ticket_sla_breached") == {("agent_sh", "first_response"), ("manager_east", "first_response")}
    assert raised("ticket_sla_escalated") == set()
    scan("2026-09-21 15:59")
    assert raised("ticket_sla_escalated") == set()  # 4 hours after 12:00 is 16:00
    scan("2026-09-21 16:01")
    assert raised("ticket_sla_escalated") == {("director", "first_response")}
    assert all(r["raised"] == 0 for r in scan("2026-09-21 16:30").values())

    with time_machine.travel(at("2026-09-21 16:40"), tick=False):
        services.ticket_reply(ticket=ticket, by=ticket.assignee, body="已安排工程师")
    result = scan("2026-09-21 16:45")
    assert result["ticket_sla_breached"]["resolved"] == 2 and result["ticket_sla_escalated"]["resolved"] == 1
    assert not Notification.objects.filter(rule__in=RULES, resolved_at=None).exists()


def test_a_ticket_waiting_on_the_customer_raises_nothing(ticket):
    with time_machine.travel(at("2026-09-21 11:00"), tick=False):
        services.ticket_reply(ticket=ticket, by=ticket.assignee, body="请提供照片", status=TicketStatus.WAITING)
    assert all(r["raised"] == 0 for r in scan("2026-09-23 17:00").values())


def test_level_3_hands_the_ticket_to_the_team_lead_once(ticket, manager_east, agent_sh, settings):
    settings.SERVICE_REASSIGN_AFTER_HOURS = 8
    assert tickets_escalate(now=at("2026-09-21 19:59")) == 0
    assert tickets_escalate(now=at("2026-09-21 20:01")) == 1
    assert tickets_escalate(now=at("2026-09-21 20:30")) == 0
    ticket.refresh_from_db()
    assert (ticket.assignee, ticket.team, ticket.escalation) == (manager_east, ticket.team, 3)
    entry = TicketEntry.objects.get(ticket=ticket, kind=EntryKind.ESCALATED)
    assert (entry.old_value, entry.new_value, entry.author) == ("客服小王 · 上海分公司", f"{manager_east.name} · 上海分公司", None)
    # Given back to the agent, it is not taken away again: each level once per ticket.
    services.ticket_assign(ticket=ticket, by=manager_east, assignee=agent_sh)
    assert tickets_escalate(now=at("2026-09-22 20:01")) == 0


def test_nothing_goes_to_a_lead_who_does_not_work_on_tickets(agent_sh, teams, rep_east2, service_desk, rep_east):
    teams["shanghai"].lead = rep_east2  # a sales rep leads the team: no service scope
    teams["shanghai"].save()
    customer = CustomerFactory(owner=rep_east, tier="A")
    with time_machine.travel(at("2026-09-21 10:00"), tick=False):
        services.ticket_create(by=agent_sh, customer=customer, subject="x", type=service_desk["故障"])
    scan("2026-09-21 12:05")
    assert raised("ticket_sla_breached") == {("agent_sh", "first_response")}
    assert tickets_escalate(now=at("2026-09-22 12:00")) == 0
    assert Ticket.objects.get().assignee == agent_sh


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_escalation_hands_each_ticket_on_once(own_queue, agent_sh, teams, manager_east,
                                                                   service_desk, rep_east):
    """Level 3 through real workers: the first is killed inside its transaction, the task is delivered
    again to a second, and each ticket is handed to the lead once, with one line on its timeline."""
    import os
    import signal

    from conftest import paused_in_a_transaction, wait_for
    from service import tasks

    teams["east"].lead = manager_east
    teams["east"].save()
    customer = CustomerFactory(owner=rep_east, tier="A")
    for i in range(3):
        services.ticket_create(by=agent_sh, customer=customer, subject=f"超时{i}", type=service_desk["故障"])
    Ticket.objects.update(due_at=datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=9))
    worker = own_queue(SERVICE_ESCALATE_PAUSE="60")
    tasks.tickets_escalate.apply_async()
    assert wait_for(paused_in_a_transaction, timeout=60)
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=20)
    assert wait_for(lambda: not paused_in_a_transaction(), timeout=10)
    assert not Ticket.objects.filter(escalation=3).exists()  # nothing of the dead transaction

    own_queue()  # the task comes back from the broker to the new worker
    assert wait_for(lambda: Ticket.objects.filter(escalation=3).count() == 3, timeout=90)
    assert tasks.tickets_escalate.apply_async().get(timeout=60) == 0
    assert set(Ticket.objects.values_list("assignee", flat=True)) == {manager_east.pk}
    assert TicketEntry.objects.filter(kind=EntryKind.ESCALATED).count() == 3
