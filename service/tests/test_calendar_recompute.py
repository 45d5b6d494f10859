"""A change of a working calendar or of an SLA policy moves the stored deadlines of the open tickets that
run on it: the settings queue a task on commit, which works them out again as a change of priority does
(the working time already used kept, the clock's stops left out), in chunks of one UPDATE each, a line
on the timeline of each ticket whose deadline moved. Resolved tickets and first responses already given
keep theirs; a second run changes nothing; warnings already sent are not sent again.

Times are Shanghai times in October 2030, a year the seeded calendar 中国大陆标准工作日 holds no
official days for: plain weeks of 09:00–12:00 and 13:30–18:00 (7.5 working hours a day). An A-tier
customer's fault opened Thursday 2030-10-10 10:00 has its first response due at 12:00 (2 working
hours) and its resolution (24 working hours: Thursday 6.5, Friday 7.5, Monday 7.5, Tuesday 2.5) due
Tuesday 10-15 11:30."""
import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm.lib.models import QueuedTask
from crm.tests.factories import CustomerFactory
from service import services, tasks
from service.models import CalendarDay, EntryKind, SlaPolicy, Ticket, TicketEntry, TicketStatus, WorkCalendar
from service.services.recompute import tickets_sla_recompute

pytestmark = [pytest.mark.django_db, pytest.mark.dates]
SHANGHAI = ZoneInfo("Asia/Shanghai")
OFFICE_DAY = [(datetime.time(9), datetime.time(12)), (datetime.time(13, 30), datetime.time(18))]


def at(text):
    return datetime.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def local(moment):
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if moment else None


@pytest.fixture
def calendar(service_desk):
    return WorkCalendar.objects.get(is_default=True)


@pytest.fixture
def a_tier(rep_east):
    return CustomerFactory(name="华东重工集团", owner=rep_east, tier="A")


@pytest.fixture
def open_ticket(agent_sh, a_tier, service_desk):
    def open_(moment="2030-10-10 10:00", subject="主轴异响"):
        with time_machine.travel(at(moment), tick=False):
            return services.ticket_create(by=agent_sh, customer=a_tier, subject=subject, type=service_desk["故障"])

    return open_


def run_queued():
    """Run the recompute tasks the settings queued, in order, here (as the worker would). Returns how
    many tickets they changed."""
    changed = 0
    for queued in QueuedTask.objects.filter(name=tasks.tickets_sla_recompute.name, sent_at=None).order_by("pk"):
        changed += tasks.tickets_sla_recompute(**queued.kwargs)
        QueuedTask.objects.filter(pk=queued.pk).update(sent_at=datetime.datetime.now(datetime.UTC))
    return changed


def deadlines(ticket):
    ticket = Ticket.objects.get(pk=ticket.pk)
    return {name: local(getattr(ticket, name)) for name in (
        "first_response_due", "first_response_warn_at", "resolution_due", "resolution_warn_at", "due_at")}


def days(calendar, admin, *lines):
    return services.calendar_days_save(by=admin, calendar=calendar, days=list(lines))


def test_a_make_up_saturday_brings_the_resolution_deadline_a_day_sooner(open_ticket, calendar, admin):
    ticket = open_ticket()
    assert deadlines(ticket)["resolution_due"] == "2030-10-15 11:30"
    saved, recalculating = days(calendar, admin, (datetime.date(2030, 10, 12), CalendarDay.Kind.WORKDAY, "国庆节"))
    assert (saved, recalculating) == (1, 1)
    assert deadlines(ticket)["resolution_due"] == "2030-10-15 11:30"  # not before the task has run
    assert run_queued() == 1
    # Thursday 6.5, Friday 7.5, the 调休 Saturday 7.5, Monday 2.5.
    assert deadlines(ticket) == {
        "first_response_due": "2030-10-10 12:00", "first_response_warn_at": "2030-10-10 11:30",
        "resolution_due": "2030-10-14 11:30", "resolution_warn_at": "2030-10-12 14:30",
        "due_at": "2030-10-10 12:00"}
    moved = TicketEntry.objects.get(ticket=ticket, kind=EntryKind.CHANGED)
    assert (moved.field, moved.author, moved.old_shown, moved.new_shown) == (
        "resolution_due", None, "2030-10-15 11:30", "2030-10-14 11:30")


def test_a_holiday_puts_the_deadline_later(open_ticket, calendar, admin):
    ticket = open_ticket()
    days(calendar, admin, (datetime.date(2030, 10, 11), CalendarDay.Kind.HOLIDAY, "调休"))
    run_queued()
    # Thursday 6.5, Monday 7.5, Tuesday 7.5, Wednesday 2.5.
    assert deadlines(ticket)["resolution_due"] == "2030-10-16 11:30"

    # Taken off again, the date follows the weekly hours and the deadline comes back.
    assert services.calendar_day_delete(by=admin, day=calendar.days.get(date="2030-10-11")) == 1
    run_queued()
    assert deadlines(ticket)["resolution_due"] == "2030-10-15 11:30"


def test_new_working_hours_move_the_deadlines(open_ticket, calendar, admin):
    ticket = open_ticket()
    _saved, recalculating = services.calendar_save(
        by=admin, calendar=calendar, name=calendar.name, time_zone=calendar.time_zone, is_default=True,
        windows={day: [(datetime.time(9), datetime.time(18))] for day in range(5)})  # no lunch break
    assert recalculating == 1
    run_queued()
    # Thursday 10:00–18:00 (8 h), Friday 9, Monday 7: 16:00. The first response, 2 hours from 10:00.
    assert deadlines(ticket)["resolution_due"] == "2030-10-14 16:00"
    assert deadlines(ticket)["first_response_due"] == "2030-10-10 12:00"


def test_a_save_that_changes_no_hours_queues_nothing(open_ticket, calendar, admin):
    open_ticket()
    _saved, recalculating = services.calendar_save(
        by=admin, calendar=calendar, name="标准工作日", time_zone=calendar.time_zone, is_default=True,
        windows={day: OFFICE_DAY for day in range(5)})
    assert recalculating == 0
    assert not QueuedTask.objects.filter(name=tasks.tickets_sla_recompute.name).exists()
    assert days(calendar, admin, (datetime.date(2030, 10, 12), CalendarDay.Kind.WORKDAY, "国庆节"))[1] == 1
    assert days(calendar, admin, (datetime.date(2030, 10, 12), CalendarDay.Kind.WORKDAY, "国庆"))[1] == 0  # a new name


def test_a_new_default_calendar_takes_over_the_tickets_of_policies_that_name_none(open_ticket, calendar, admin):
    ticket = open_ticket()
    new, recalculating = services.calendar_save(
        by=admin, name="上海客服中心", time_zone="Asia/Shanghai", is_default=True,
        windows={day: [(datetime.time(9), datetime.time(18))] for day in range(6)})  # Saturdays worked too
    assert new.is_default and recalculating == 1
    run_queued()
    # Thursday 8, Friday 9, Saturday 7: 16:00.
    assert deadlines(ticket)["resolution_due"] == "2030-10-12 16:00"


def test_a_policy_with_other_targets_or_a_calendar_of_its_own_moves_its_tickets(open_ticket, calendar, admin):
    ticket = open_ticket()
    policy = SlaPolicy.objects.get(name="A 类客户")
    fields = {"name": policy.name, "is_active": True, "tiers": ["A"], "priorities": [], "channels": [],
              "first_response": policy.first_response, "first_response_unit": policy.first_response_unit,
              "resolution": 16, "resolution_unit": policy.resolution_unit, "warn_remaining_percent": 25,
              "calendar": None}
    saved, recalculating = services.sla_policy_save(by=admin, policy=policy, types=[], **fields)
    assert recalculating == 1
    run_queued()
    # 16 working hours: Thursday 6.5, Friday 7.5, Monday 2.
    assert deadlines(ticket)["resolution_due"] == "2030-10-14 11:00"

    weekend, _n = services.calendar_save(by=admin, name="全年无休", time_zone="Asia/Shanghai", is_default=False,
                                         windows={day: [(datetime.time(9), datetime.time(17))] for day in range(7)})
    services.sla_policy_save(by=admin, policy=saved, types=[], **{**fields, "calendar": weekend})
    run_queued()
    # 8 hours a day, every day: Thursday 7, Friday 8, Saturday 1.
    assert deadlines(ticket)["resolution_due"] == "2030-10-12 10:00"
    # Its conditions or name alone queue nothing.
    assert services.sla_policy_save(by=admin, policy=saved, types=[], **{
        **fields, "calendar": weekend, "name": "重点客户", "channels": ["phone"]})[1] == 0


def test_a_resolved_ticket_keeps_its_deadlines(open_ticket, calendar, admin, agent_sh):
    ticket = open_ticket()
    with time_machine.travel(at("2030-10-10 15:00"), tick=False):
        services.ticket_reply(ticket=ticket, by=agent_sh, body="已远程修复。", status=TicketStatus.RESOLVED)
    before = deadlines(ticket)
    assert days(calendar, admin, (datetime.date(2030, 10, 11), CalendarDay.Kind.HOLIDAY, "调休"))[1] == 0
    assert run_queued() == 0
    assert deadlines(ticket) == before
    assert not TicketEntry.objects.filter(ticket=ticket, kind=EntryKind.CHANGED).exists()


def test_a_first_response_given_keeps_its_deadline(open_ticket, calendar, admin, agent_sh):
    ticket = open_ticket()
    with time_machine.travel(at("2030-10-10 11:00"), tick=False):
        services.ticket_reply(ticket=ticket, by=agent_sh, body="收到，工程师正在排查。")
    # The day it opened becomes a holiday: had it not been answered, its first response would be due
    # Friday 11:00; answered, it keeps 12:00, and only the resolution moves (Friday 7.5, Monday 7.5,
    # Tuesday 7.5, Wednesday 1.5).
    days(calendar, admin, (datetime.date(2030, 10, 10), CalendarDay.Kind.HOLIDAY, "调休"))
    run_queued()
    found = deadlines(ticket)
    assert (found["first_response_due"], found["first_response_warn_at"]) == ("2030-10-10 12:00", "2030-10-10 11:30")
    assert found["resolution_due"] == found["due_at"] == "2030-10-16 10:30"
    assert list(TicketEntry.objects.filter(ticket=ticket, kind=EntryKind.CHANGED).values_list("field", flat=True)) == [
        "resolution_due"]


def test_a_waiting_ticket_is_worked_out_without_the_stop_under_way(open_ticket, calendar, admin, agent_sh):
    """So that the result is the same whenever the task runs; going back to work adds the stop."""
    ticket = open_ticket()
    with time_machine.travel(at("2030-10-10 11:00"), tick=False):
        services.ticket_reply(ticket=ticket, by=agent_sh, body="请提供设备序列号。", status=TicketStatus.WAITING)
    days(calendar, admin, (datetime.date(2030, 10, 12), CalendarDay.Kind.WORKDAY, "国庆节"))
    with time_machine.travel(at("2030-10-11 17:00"), tick=False):
        run_queued()
    assert deadlines(ticket)["resolution_due"] == "2030-10-14 11:30"
    assert deadlines(ticket)["due_at"] is None
    with time_machine.travel(at("2030-10-11 10:00"), tick=False):
        assert tickets_sla_recompute(calendar_ids=[calendar.pk]) == 0
    # Back to work Friday 10:00: one hour used on Thursday, then Friday 6.5, Saturday 7.5, Monday 7.5,
    # Tuesday 1.5.
    with time_machine.travel(at("2030-10-11 10:00"), tick=False):
        services.ticket_set_status(ticket=ticket, by=agent_sh, status=TicketStatus.OPEN)
    assert deadlines(ticket)["resolution_due"] == "2030-10-15 10:30"


def test_running_the_task_twice_gives_the_same_result(open_ticket, calendar, admin):
    tickets = [open_ticket(subject=f"故障{n}") for n in range(3)]
    days(calendar, admin, (datetime.date(2030, 10, 12), CalendarDay.Kind.WORKDAY, "国庆节"))
    kwargs = QueuedTask.objects.get(name=tasks.tickets_sla_recompute.name).kwargs
    assert tasks.tickets_sla_recompute(**kwargs) == 3
    first = [deadlines(t) for t in tickets]
    entries = TicketEntry.objects.filter(kind=EntryKind.CHANGED).count()
    assert tasks.tickets_sla_recompute(**kwargs) == 0
    assert [deadlines(t) for t in tickets] == first and entries == 3
    assert TicketEntry.objects.filter(kind=EntryKind.CHANGED).count() == entries


def test_the_queries_do_not_grow_with_the_tickets(open_ticket, calendar, admin, service_desk, agent_sh, rep_east):
    def run(count):
        Ticket.objects.all().delete()
        calendar.days.filter(date="2030-10-12").delete()
        for n in range(count):
            open_ticket(subject=f"故障{n}")
        with time_machine.travel(at("2030-10-10 09:00"), tick=False):  # the other policy's tickets too
            services.ticket_create(by=agent_sh, customer=CustomerFactory(owner=rep_east, tier="C"), subject="咨询",
                                   type=service_desk["咨询"])
        days(calendar, admin, (datetime.date(2030, 10, 12), CalendarDay.Kind.WORKDAY, "国庆节"))
        with CaptureQueriesContext(connection) as queries:
            changed = tickets_sla_recompute(calendar_ids=[calendar.pk], chunk=50)
        assert changed == count + 1
        return len(queries)

    assert run(2) == run(20)
    # In chunks: each chunk costs the same handful of queries (its tickets, the policies, the calendar).
    with CaptureQueriesContext(connection) as queries:
        calendar.days.filter(date="2030-10-12").delete()
        assert tickets_sla_recompute(calendar_ids=[calendar.pk], chunk=7) == 21
    assert sum("UPDATE service_ticket t SET" in q["sql"] for q in queries.captured_queries) == 3


def test_a_warning_already_sent_is_not_sent_again_when_the_deadline_moves_later(open_ticket, calendar, admin):
    from crm.models import Notification
    from crm.services.notifications import notifications_scan

    def scan(moment):
        return notifications_scan(now=at(moment), keys={"ticket_sla_warning"}, processes=1)["ticket_sla_warning"]

    ticket = open_ticket()
    assert scan("2030-10-10 11:40")["raised"] == 1  # the first response: warned at 11:30
    # Thursday becomes a holiday: the first response is due Friday 11:00, warned at 10:30.
    days(calendar, admin, (datetime.date(2030, 10, 10), CalendarDay.Kind.HOLIDAY, "调休"))
    run_queued()
    assert deadlines(ticket)["first_response_warn_at"] == "2030-10-11 10:30"
    assert scan("2030-10-10 11:50")["resolved"] == 1  # no longer close to its deadline
    assert scan("2030-10-11 10:40")["raised"] == 0  # told once for this target
    assert Notification.objects.filter(rule="ticket_sla_warning").count() == 1


def test_the_settings_say_how_many_open_tickets_get_new_deadlines(open_ticket, calendar, admin, english_client_for):
    open_ticket()
    open_ticket(subject="第二张")
    client = english_client_for(admin)
    response = client.post(reverse("settings:service:days_add", args=[calendar.pk]),
                           {"lines": "2030-10-12 上班 国庆节"}, follow=True)
    assert "The deadlines of 2 open tickets will be recalculated." in response.content.decode()
    response = client.post(reverse("settings:service:days_add", args=[calendar.pk]),
                           {"lines": "2030-10-12 上班 国庆节"}, follow=True)
    assert "recalculated" not in response.content.decode()  # nothing changed


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_worker_moves_the_deadlines_after_each_change(celery_worker_process, open_ticket, calendar, admin):
    """Through a real worker process: the task goes on commit, and a second change reaches the same
    worker (it reads the calendar again for each task: nothing of the first stays in its memory)."""
    from conftest import wait_for

    ticket = open_ticket()

    def due():
        return deadlines(ticket)["resolution_due"]

    days(calendar, admin, (datetime.date(2030, 10, 12), CalendarDay.Kind.WORKDAY, "国庆节"))
    assert wait_for(lambda: due() == "2030-10-14 11:30", timeout=60), due()
    services.calendar_day_delete(by=admin, day=calendar.days.get(date="2030-10-12"))
    assert wait_for(lambda: due() == "2030-10-15 11:30", timeout=60), due()
    days(calendar, admin, (datetime.date(2030, 10, 11), CalendarDay.Kind.HOLIDAY, "调休"))
    assert wait_for(lambda: due() == "2030-10-16 11:30", timeout=60), due()
    assert TicketEntry.objects.filter(ticket=ticket, kind=EntryKind.CHANGED).count() == 3
