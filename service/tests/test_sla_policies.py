"""SLA policies: the seeded ones (the seed documents' A-tier 2 working hours / 24 working hours),
the first active policy whose conditions all hold, and its deadlines on its calendar."""
import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from service.models import CalendarDay, SlaPolicy, TicketType, WorkCalendar, WorkWindow
from service.seed import seed_default_calendar, seed_service_desk
from service.selectors import active_sla_policies, sla_deadline, sla_policy_for

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def seeded():
    """The migrations seed them; a test that empties the database (another module's) takes them away."""
    seed_default_calendar(WorkCalendar, WorkWindow, CalendarDay)
    seed_service_desk(TicketType, SlaPolicy)


def types():
    return {t.name: t.pk for t in TicketType.objects.all()}


def at(text):
    return datetime.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def test_it_seeds_the_ticket_types_and_the_policies_of_the_seed_documents():
    assert list(TicketType.objects.values_list("name", flat=True)) == ["咨询", "故障", "售后", "投诉", "需求"]
    assert list(TicketType.objects.filter(is_complaint=True).values_list("name", flat=True)) == ["投诉"]
    a_tier = SlaPolicy.objects.get(tiers=["A"])
    assert (a_tier.first_response, a_tier.first_response_unit, a_tier.resolution, a_tier.resolution_unit) == (
        Decimal(2), "working_hours", Decimal(24), "working_hours")
    assert [p.name for p in active_sla_policies()][-1] == "标准服务"  # the policy without conditions comes last


@pytest.mark.parametrize("tier, priority, kind, channel, expected", [
    ("A", "normal", "投诉", "phone", "A 类客户"),  # the first that holds wins, even over a complaint
    ("B", "urgent", "投诉", "email", "投诉"),
    ("B", "urgent", "故障", "wechat", "紧急工单"),
    ("C", "low", "咨询", "web", "标准服务"),
])
def test_the_first_policy_whose_conditions_hold_wins(tier, priority, kind, channel, expected):
    policy = sla_policy_for(tier=tier, priority=priority, type_id=types()[kind], channel=channel)
    assert policy.name == expected


def test_every_condition_of_a_policy_must_hold_and_an_inactive_one_is_skipped():
    vip = SlaPolicy.objects.create(name="A 类微信故障", order=1, tiers=["A"], channels=["wechat"], first_response=1,
                                   resolution=8)
    vip.types.set([types()["故障"]])
    fault = types()["故障"]
    assert sla_policy_for(tier="A", priority="normal", type_id=fault, channel="wechat") == vip
    assert sla_policy_for(tier="A", priority="normal", type_id=fault, channel="phone").name == "A 类客户"
    assert sla_policy_for(tier="A", priority="normal", type_id=types()["咨询"], channel="wechat").name == "A 类客户"
    SlaPolicy.objects.filter(pk=vip.pk).update(is_active=False)
    assert sla_policy_for(tier="A", priority="normal", type_id=fault, channel="wechat").name == "A 类客户"
    SlaPolicy.objects.all().update(is_active=False)
    assert sla_policy_for(tier="A", priority="normal", type_id=fault, channel="wechat") is None


def test_it_reads_the_policies_once_for_many_tickets(django_assert_num_queries):
    with django_assert_num_queries(2):  # the policies with their calendars (joined), then their types
        policies = active_sla_policies()
    with django_assert_num_queries(0):
        for tier in "ABC":
            sla_policy_for(tier=tier, priority="normal", type_id=None, channel="phone", policies=policies)


def test_an_a_tier_ticket_falls_due_in_working_hours_on_the_default_calendar():
    policy = SlaPolicy.objects.get(name="A 类客户")
    start = at("2026-09-18T10:00")  # a Friday; Sunday 09-20 is a 调休 working day
    assert sla_deadline(policy, start, target="first_response") == at("2026-09-18T12:00")
    # Friday 6.5 h, the 调休 Sunday 7.5 h, Monday 7.5 h: 2.5 h are left for Tuesday.
    assert sla_deadline(policy, start, target="resolution") == at("2026-09-22T11:30")


def test_a_complaint_falls_due_in_working_days_across_national_day():
    policy = SlaPolicy.objects.get(name="投诉")
    # After Monday 09-28: 29, 30, (10-01…07 holiday), 10-08, 09, the 调休 Saturday 10-10, 12, 13.
    assert sla_deadline(policy, at("2026-09-28T10:00"), target="resolution") == at("2026-10-13T18:00")


def test_calendar_hours_run_at_night_and_a_policy_can_name_its_calendar():
    night = WorkCalendar.objects.create(name="7×24")
    WorkWindow.objects.bulk_create(WorkWindow(calendar=night, weekday=day, start=datetime.time(0),
                                              end=datetime.time(23, 59)) for day in range(7))
    policy = SlaPolicy.objects.create(name="热线", order=5, calendar=night, first_response=Decimal("0.5"),
                                      first_response_unit="hours", resolution=4, resolution_unit="hours")
    assert sla_deadline(policy, at("2026-09-19T22:00"), target="first_response") == at("2026-09-19T22:30")
    assert sla_deadline(policy, at("2026-09-19T22:00"), target="resolution",
                        pauses=[(at("2026-09-19T23:00"), at("2026-09-20T01:00"))]) == at("2026-09-20T04:00")
