"""The working time to a ticket's first response and to its resolution, stored when each happens (the
service report aggregates them): counted as the SLA clock counts, on the seeded calendar (09:00–12:00 and
13:30–18:00 on working days), the clock's stops left out; a reopened ticket is counted again when it is
resolved again; tickets answered before the columns existed are filled by the migration alike."""
import datetime
import importlib
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps
from django.db import connection

from crm.tests.factories import CustomerFactory
from service import services
from service.models import Ticket

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(text):
    return datetime.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def step(moment, action, **kwargs):
    with time_machine.travel(at(moment), tick=False):
        return action(**kwargs)


@pytest.fixture
def customer(rep_east):
    return CustomerFactory(name="上海精密机械有限公司", owner=rep_east, tier="B")


def opened(agent, customer, types, moment):
    return step(moment, services.ticket_create, by=agent, customer=customer, subject="设备无法开机", type=types["故障"])


def test_friday_evening_to_monday_morning_is_an_hour_and_a_half(agent_sh, customer, service_desk):
    ticket = opened(agent_sh, customer, service_desk, "2026-09-11 17:00")  # a Friday
    step("2026-09-14 09:30", services.ticket_reply, ticket=ticket, by=agent_sh, body="已收到")
    ticket.refresh_from_db()
    assert (ticket.first_response_work_seconds, ticket.resolution_work_seconds) == (5400, None)


def test_a_note_is_no_response_and_waiting_before_it_does_not_count(agent_sh, customer, service_desk):
    ticket = opened(agent_sh, customer, service_desk, "2026-09-21 10:00")
    step("2026-09-21 10:05", services.ticket_reply, ticket=ticket, by=agent_sh, body="内部备注", internal=True)
    step("2026-09-21 10:15", services.ticket_set_status, ticket=ticket, by=agent_sh, status="waiting")
    step("2026-09-21 14:00", services.ticket_reply, ticket=ticket, by=agent_sh, body="请提供序列号")
    ticket.refresh_from_db()
    assert ticket.first_response_work_seconds == 900  # 10:00–10:15; the wait is the clock's stop


def test_a_reopened_ticket_is_counted_again_without_the_time_it_stood_resolved(agent_sh, customer, service_desk):
    ticket = opened(agent_sh, customer, service_desk, "2026-09-21 10:00")
    step("2026-09-21 10:30", services.ticket_reply, ticket=ticket, by=agent_sh, body="已收到")
    step("2026-09-21 11:00", services.ticket_set_status, ticket=ticket, by=agent_sh, status="resolved")
    ticket.refresh_from_db()
    assert (ticket.first_response_work_seconds, ticket.resolution_work_seconds) == (1800, 3600)
    step("2026-09-21 14:00", services.ticket_set_status, ticket=ticket, by=agent_sh, status="open")
    ticket.refresh_from_db()
    assert (ticket.resolved_at, ticket.resolution_work_seconds) == (None, None)
    step("2026-09-21 15:00", services.ticket_set_status, ticket=ticket, by=agent_sh, status="resolved")
    ticket.refresh_from_db()
    # 10:00–15:00 is 3.5 working hours; resolved 11:00–14:00 took 1.5 of them off the clock.
    assert (ticket.first_response_work_seconds, ticket.resolution_work_seconds) == (1800, 7200)


def test_the_migration_fills_earlier_tickets_as_the_services_do(agent_sh, customer, service_desk):
    first = opened(agent_sh, customer, service_desk, "2026-09-11 17:00")
    step("2026-09-14 09:30", services.ticket_reply, ticket=first, by=agent_sh, body="已收到")
    step("2026-09-14 10:00", services.ticket_set_status, ticket=first, by=agent_sh, status="waiting")
    step("2026-09-15 10:00", services.ticket_set_status, ticket=first, by=agent_sh, status="open")
    step("2026-09-15 11:00", services.ticket_set_status, ticket=first, by=agent_sh, status="resolved")
    unanswered = opened(agent_sh, customer, service_desk, "2026-09-21 10:00")
    # Friday 1 h, Monday 7.5 h, Tuesday 2 h, less the wait from Monday 10:00 to Tuesday 10:00 (7.5 h).
    assert Ticket.objects.get(pk=first.pk).resolution_work_seconds == 10800
    Ticket.objects.update(first_response_work_seconds=None, resolution_work_seconds=None)

    migration = importlib.import_module("service.migrations.0013_ticket_working_durations")
    migration.fill_working_durations(apps, SimpleNamespace(connection=connection))

    first.refresh_from_db()
    unanswered.refresh_from_db()
    assert (first.first_response_work_seconds, first.resolution_work_seconds) == (5400, 10800)
    assert (unanswered.first_response_work_seconds, unanswered.resolution_work_seconds) == (None, None)
