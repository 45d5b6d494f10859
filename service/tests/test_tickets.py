"""Tickets through their services: the deadlines stored when a ticket opens, the clock stopping while it
waits on the customer and after it is resolved, a new priority keeping the working time used, replies
and notes, reopening within the window, and handing tickets on only within one's own scope.

Times are Shanghai times on the seeded calendar 中国大陆标准工作日 (09:00–12:00 and 13:30–18:00, the
official holidays and 调休 days: 2026-09-20 is a working Sunday, 09-25..27 the Mid-autumn holiday)."""
import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from crm.tests.factories import CustomerFactory
from service import services
from service.models import EntryKind, Ticket, TicketEntry, TicketStatus

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(text):
    return datetime.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def local(moment):
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


@pytest.fixture
def customer(rep_east):
    return CustomerFactory(name="上海精密机械有限公司", owner=rep_east, tier="B")


def open_ticket(agent, customer, types, moment, **fields):
    with time_machine.travel(at(moment), tick=False):
        return services.ticket_create(by=agent, customer=customer, subject=fields.pop("subject", "设备无法开机"),
                                      type=fields.pop("type", types["故障"]), **fields)


def test_an_agents_ticket_is_theirs_with_the_deadlines_of_the_first_policy_that_holds(agent_sh, service_desk, rep_east):
    a_tier = CustomerFactory(name="华东重工集团", owner=rep_east, tier="A")
    ticket = open_ticket(agent_sh, a_tier, service_desk, "2026-09-21 10:00")
    assert (ticket.assignee, ticket.team, ticket.status) == (agent_sh, agent_sh.team, TicketStatus.NEW)
    assert ticket.sla_policy.name == "A 类客户"
    # 2 working hours from 10:00 end exactly at the lunch break: that moment, not 13:30.
    assert local(ticket.first_response_due) == "2026-09-21 12:00"
    # 24 working hours: Monday 6.5 h, Tuesday 7.5 h, Wednesday 7.5 h, Thursday 2.5 h.
    assert local(ticket.resolution_due) == "2026-09-24 11:30"
    assert ticket.due_at == ticket.first_response_due
    created = TicketEntry.objects.get(ticket=ticket)
    assert (created.kind, created.author) == (EntryKind.CREATED, agent_sh)


def test_a_new_priority_chooses_the_policy_again_keeping_the_working_time_used(agent_sh, customer, service_desk):
    ticket = open_ticket(agent_sh, customer, service_desk, "2026-09-21 10:00", priority="normal")
    assert ticket.sla_policy.name == "标准服务"
    assert local(ticket.first_response_due) == "2026-09-22 10:30"  # 8 working hours
    with time_machine.travel(at("2026-09-21 14:30"), tick=False):
        ticket = services.ticket_update(ticket=ticket, by=agent_sh, priority="urgent")
    assert ticket.sla_policy.name == "紧急工单"
    # Counted from the opening, not from the change: 2 working hours were gone by 12:00.
    assert local(ticket.first_response_due) == "2026-09-21 12:00"
    assert local(ticket.resolution_due) == "2026-09-23 11:00"  # 16 working hours: 6.5 + 7.5 + 2
    change = TicketEntry.objects.get(ticket=ticket, kind=EntryKind.CHANGED)
    assert (change.field, change.old_value, change.new_value) == ("priority", "normal", "urgent")


def test_waiting_on_the_customer_over_a_weekend_costs_only_the_working_time_it_stood_still(
        agent_sh, customer, service_desk):
    ticket = open_ticket(agent_sh, customer, service_desk, "2026-09-11 17:00", type=service_desk["咨询"])
    # 5 working days from Friday the 11th: the end of Friday the 18th.
    assert local(ticket.resolution_due) == "2026-09-18 18:00"
    with time_machine.travel(at("2026-09-11 17:30"), tick=False):
        services.ticket_reply(ticket=ticket, by=agent_sh, body="请提供设备序列号。", status=TicketStatus.WAITING)
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.WAITING and ticket.due_at is None and ticket.first_responded_at
    with time_machine.travel(at("2026-09-14 09:00"), tick=False):
        ticket = services.ticket_set_status(ticket=ticket, by=agent_sh, status=TicketStatus.OPEN)
    # The stop took half an hour of working time (Friday 17:30–18:00), the weekend none: the deadline
    # moves half a working hour, onto the 调休 working Sunday after the 18th.
    assert local(ticket.resolution_due) == "2026-09-20 09:30"
    assert ticket.due_at == ticket.resolution_due
    assert [(local(p.lower), local(p.upper)) for p in ticket.pauses] == [("2026-09-11 17:30", "2026-09-14 09:00")]


def test_a_reply_is_the_first_response_and_a_note_is_not(agent_sh, customer, service_desk):
    ticket = open_ticket(agent_sh, customer, service_desk, "2026-09-21 10:00")
    with time_machine.travel(at("2026-09-21 10:20"), tick=False):
        services.ticket_reply(ticket=ticket, by=agent_sh, body="已转交二线工程师", internal=True)
    ticket.refresh_from_db()
    assert ticket.first_responded_at is None and ticket.status == TicketStatus.NEW
    with time_machine.travel(at("2026-09-21 10:40"), tick=False):
        services.ticket_reply(ticket=ticket, by=agent_sh, body="您好，工程师下午上门。")
    ticket.refresh_from_db()
    assert local(ticket.first_responded_at) == "2026-09-21 10:40"
    assert ticket.status == TicketStatus.OPEN and ticket.due_at == ticket.resolution_due
    assert list(ticket.entries.values_list("kind", flat=True)) == ["created", "note", "reply", "status"]
    with pytest.raises(ValidationError):
        services.ticket_reply(ticket=ticket, by=agent_sh, body="   ")


def test_a_resolved_ticket_reopens_within_the_window_and_after_it_takes_a_follow_up(
        agent_sh, customer, service_desk, settings):
    settings.SERVICE_REOPEN_DAYS = 7
    ticket = open_ticket(agent_sh, customer, service_desk, "2026-09-21 10:00")
    with time_machine.travel(at("2026-09-21 15:00"), tick=False):
        ticket = services.ticket_set_status(ticket=ticket, by=agent_sh, status=TicketStatus.RESOLVED)
    assert ticket.due_at is None and local(ticket.resolved_at) == "2026-09-21 15:00"
    with time_machine.travel(at("2026-09-22 09:00"), tick=False):
        ticket = services.ticket_set_status(ticket=ticket, by=agent_sh, status=TicketStatus.OPEN)
    assert (ticket.reopened, ticket.resolved_at, ticket.status) == (1, None, TicketStatus.OPEN)
    with time_machine.travel(at("2026-09-22 10:00"), tick=False):
        ticket = services.ticket_set_status(ticket=ticket, by=agent_sh, status=TicketStatus.RESOLVED)
    with time_machine.travel(at("2026-09-29 10:01"), tick=False), pytest.raises(ValidationError, match="7"):
        services.ticket_set_status(ticket=ticket, by=agent_sh, status=TicketStatus.OPEN)
    with time_machine.travel(at("2026-09-29 10:02"), tick=False):
        closed = services.ticket_set_status(ticket=ticket, by=agent_sh, status=TicketStatus.CLOSED)
        follow_up = services.ticket_follow_up(ticket=closed, by=agent_sh)
    assert follow_up.follows == closed and follow_up.subject == closed.subject
    assert follow_up.status == TicketStatus.NEW and follow_up.assignee == agent_sh
    with pytest.raises(ValidationError):  # a closed ticket goes nowhere
        services.ticket_set_status(ticket=closed, by=agent_sh, status=TicketStatus.OPEN)
    with pytest.raises(ValidationError):
        services.ticket_reply(ticket=closed, by=agent_sh, body="补充")


def test_tickets_are_handed_on_only_within_ones_own_scope(agent_sh, agent_sh2, agent_bj, customer, service_desk,
                                                         manager_east):
    ticket = open_ticket(agent_sh, customer, service_desk, "2026-09-21 10:00")
    with pytest.raises(Ticket.DoesNotExist):  # another team's agent does not know it exists
        services.ticket_reply(ticket=ticket, by=agent_bj, body="试探")
    with pytest.raises(PermissionDenied):
        services.ticket_assign(ticket=ticket, by=agent_sh, assignee=agent_bj)
    with pytest.raises(PermissionDenied):
        services.ticket_create(by=agent_sh, customer=customer, subject="转北京", type=service_desk["咨询"],
                               assignee=agent_bj)
    ticket = services.ticket_assign(ticket=ticket, by=agent_sh, assignee=agent_sh2)
    assert (ticket.assignee, ticket.team) == (agent_sh2, agent_sh2.team)
    entry = TicketEntry.objects.get(ticket=ticket, kind=EntryKind.ASSIGNED)
    assert (entry.old_value, entry.new_value) == ("客服小王 · 上海分公司", "客服小李 · 上海分公司")
    assert agent_bj not in services.agents_for(agent_sh)
    assert {agent_sh, agent_sh2, agent_bj} <= set(services.agents_for(manager_east)) | {agent_bj}


def test_bulk_assignment_takes_only_the_tickets_the_user_may_change(agent_sh, agent_sh2, agent_bj, service_desk,
                                                                    rep_east, rep_west):
    east = CustomerFactory(name="上海客户", owner=rep_east)
    west = CustomerFactory(name="北京客户", owner=rep_west)
    mine = [open_ticket(agent_sh, east, service_desk, "2026-09-21 10:00", subject=f"问题{i}") for i in range(3)]
    theirs = open_ticket(agent_bj, west, service_desk, "2026-09-21 10:00")
    count = services.tickets_assign(by=agent_sh, ids=[t.pk for t in mine] + [theirs.pk], assignee=agent_sh2)
    assert count == 3
    assert set(Ticket.objects.filter(assignee=agent_sh2).values_list("pk", flat=True)) == {t.pk for t in mine}
    theirs.refresh_from_db()
    assert theirs.assignee == agent_bj
    assert TicketEntry.objects.filter(kind=EntryKind.ASSIGNED).count() == 3
    assert services.tickets_assign(by=agent_sh, ids=[t.pk for t in mine], assignee=agent_sh2) == 0  # again: nothing


def test_a_ticket_the_system_opens_waits_in_the_customers_teams_queue(agent_sh, agent_bj, customer, service_desk):
    with time_machine.travel(at("2026-09-21 10:00"), tick=False):
        ticket = services.ticket_create(by=None, customer=customer, subject="网页报修", type=service_desk["故障"],
                                        channel="web", author_name="王先生")
    assert ticket.assignee is None and ticket.team == customer.team
    from accounts.access import visible

    assert visible(agent_sh, Ticket).filter(pk=ticket.pk).exists()
    assert not visible(agent_bj, Ticket).filter(pk=ticket.pk).exists()


def test_a_ticket_names_only_the_customers_own_records(agent_sh, customer, service_desk, rep_west):
    from crm.tests.factories import ContactFactory

    other = ContactFactory(customer=CustomerFactory(name="别家公司", owner=rep_west))
    with pytest.raises(ValidationError):
        services.ticket_create(by=agent_sh, customer=customer, subject="x", type=service_desk["咨询"], contact=other)
