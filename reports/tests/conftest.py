"""A small sales book for the dashboard, with figures known by heart.

Pipeline 项目型销售: 初步接触 (10%, stale after 14 days) → 方案评审 (40%, 30 days) → 商务谈判 (70%) →
赢单 / 输单 / 无效. Every deal was created in the last 40 days; the closed ones closed now.

华东 (manager_east's scope):
  A  rep_east   初步接触, ¥100,000, closes this month, 20 days in the stage (stale)
  B  rep_east   方案评审, ¥200,000, closes next month
  C  rep_east   won via 方案评审, ¥300,000, created 30 days ago; contract: #1 ¥100,000 due 10 days ago
                 (unpaid: overdue and due in the period), #2 ¥200,000 due in 40 days, #3 paid
  D  rep_east   lost from 初步接触, ¥50,000
  E  rep_hz     won straight from 初步接触 (skipping two stages), ¥120,000, created 20 days ago
  S  rep_east2  won, ¥70,000 (a teammate of rep_east: rep_east sees it, but it is not his)
华北 (manager_west's scope):
  F  rep_west   won, ¥400,000; contract: #1 ¥50,000 marked overdue
  G  rep_west   方案评审, ¥500,000, 40 days in the stage (stale)
  H  rep_west   lost, ¥80,000
"""
import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from crm.models import Choice
from crm.tests.factories import CustomerFactory
from sales import services
from sales.models import Contract, Instalment, InstalmentStatus, Opportunity, StageKind, TargetPeriod
from sales.selectors.targets import period_shift

DAY = datetime.timedelta(days=1)


@pytest.fixture
def sales_pipeline(director):
    pipeline = services.pipeline_save(by=director, name="项目型销售")
    first = pipeline.stages.get(kind=StageKind.OPEN)
    services.stage_save(by=director, pipeline=pipeline, stage=first, name="初步接触", probability=10,
                        stale_after_days=14)
    services.stage_save(by=director, pipeline=pipeline, name="方案评审", probability=40, stale_after_days=30)
    services.stage_save(by=director, pipeline=pipeline, name="商务谈判", probability=70)
    return pipeline


def _stages(pipeline):
    return {stage.name if stage.kind == StageKind.OPEN else stage.kind: stage for stage in pipeline.stages.all()}


def _deal(owner, pipeline, name, amount, *, path=(), created_days_ago=0, in_stage_days=None, expected_close=None):
    customer = CustomerFactory(owner=owner, name=f"{name}客户")
    deal = services.opportunity_create(by=owner, customer=customer, pipeline=pipeline, name=name,
                                       amount=Decimal(amount), expected_close=expected_close)
    lost_reason = Choice.objects.filter(kind=Choice.Kind.LOST_REASON).first()
    for stage in path:
        deal = services.opportunity_move(opportunity=deal, stage=stage, by=owner,
                                         lost_reason=lost_reason if stage.kind == StageKind.LOST else None)
    now = timezone.now()
    changes = {"created_at": now - created_days_ago * DAY}
    if in_stage_days is not None:
        changes["stage_entered_at"] = now - in_stage_days * DAY
    Opportunity.objects.filter(pk=deal.pk).update(**changes)
    deal.refresh_from_db()
    return deal


def _contract(deal, number, instalments):
    contract = Contract.objects.create(opportunity=deal, number=number, title=f"{deal.name}合同", amount=deal.amount,
                                       signed_on=timezone.localdate())
    for index, (due_in_days, amount, paid, status) in enumerate(instalments, start=1):
        Instalment.objects.create(contract=contract, number=index, due_on=timezone.localdate() + due_in_days * DAY,
                                  amount=Decimal(amount), paid=Decimal(paid), status=status)
    return contract


@pytest.fixture
def sales_book(sales_pipeline, picklists, rep_east, rep_east2, rep_hz, rep_west):
    p, s = sales_pipeline, _stages(sales_pipeline)
    today = timezone.localdate()
    next_month = period_shift(TargetPeriod.MONTH, today, 1)
    deals = {
        "A": _deal(rep_east, p, "华东甲", 100000, created_days_ago=25, in_stage_days=20, expected_close=today),
        "B": _deal(rep_east, p, "华东乙", 200000, path=[s["方案评审"]], created_days_ago=10,
                   expected_close=next_month),
        "C": _deal(rep_east, p, "华东丙", 300000, path=[s["方案评审"], s["won"]], created_days_ago=30),
        "D": _deal(rep_east, p, "华东丁", 50000, path=[s["lost"]], created_days_ago=15),
        "E": _deal(rep_hz, p, "杭州戊", 120000, path=[s["won"]], created_days_ago=20),
        "S": _deal(rep_east2, p, "上海己", 70000, path=[s["won"]], created_days_ago=5),
        "F": _deal(rep_west, p, "北京庚", 400000, path=[s["won"]], created_days_ago=12),
        "G": _deal(rep_west, p, "北京辛", 500000, path=[s["方案评审"]], created_days_ago=40, in_stage_days=40),
        "H": _deal(rep_west, p, "北京壬", 80000, path=[s["lost"]], created_days_ago=8),
    }
    _contract(deals["C"], "HT-C", [(-10, 100000, 0, InstalmentStatus.DUE), (40, 200000, 0, InstalmentStatus.DUE),
                                   (-20, 50000, 50000, InstalmentStatus.PAID)])
    _contract(deals["F"], "HT-F", [(5, 50000, 10000, InstalmentStatus.OVERDUE)])
    return {"deals": deals, "stages": s, "pipeline": p}


@pytest.fixture
def last_50_days():
    """A custom period holding every deal of the book: the query string of the dashboard's filter."""
    today = timezone.localdate()
    return {"period": "custom", "start": (today - 50 * DAY).isoformat(), "end": today.isoformat()}


# The service desk's book ---------------------------------------------------------------------------------

from service.tests.conftest import agent_bj, agent_sh, agent_sh2, service_desk  # noqa: E402,F401 - fixtures

SERVICE_NOW = "2026-07-15 10:00"  # a Wednesday; the report's "today" in every service test


def at(text):
    from zoneinfo import ZoneInfo

    return datetime.datetime.fromisoformat(text).replace(tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def service_manager(teams, roles):
    """客服经理: every customer and ticket, and the export; no sales dashboards."""
    from accounts.capabilities import Capability, Scope
    from accounts.tests.factories import RoleFactory, UserFactory

    role = RoleFactory(name="客服经理", customers_scope=Scope.ALL, sales_scope=Scope.NONE, service_scope=Scope.ALL,
                       capabilities=[Capability.EXPORT_DATA.value])
    return UserFactory(username="service_manager", display_name="客服经理老周", team=teams["hq"], roles=[role])


@pytest.fixture
def service_today():
    """The service tests run on SERVICE_NOW whatever the day (the clock stands still)."""
    import time_machine

    with time_machine.travel(at(SERVICE_NOW), tick=False) as traveller:
        yield traveller


def _when(moment, action, **kwargs):
    import time_machine

    with time_machine.travel(at(moment), tick=False):
        return action(**kwargs)


def _ticket(by, owner, types, subject, type_name, opened, *, tier="B", steps=(), survey=None):
    """A ticket `by` opens at `opened` for a new customer of `owner`, then `steps`: (moment, action, args)
    with action one of reply, waiting, open, resolve, accept, handle, call_back, close; `survey`: (moment,
    CSAT, NPS) answered then."""
    from service import services
    from service.services import complaints, surveys

    customer = CustomerFactory(owner=owner, name=f"{subject}客户", tier=tier)
    ticket = _when(opened, services.ticket_create, by=by, customer=customer, subject=subject, type=types[type_name])
    actions = {
        "reply": lambda who: services.ticket_reply(ticket=ticket, by=who, body="您好，已收到。"),
        "waiting": lambda who: services.ticket_set_status(ticket=ticket, by=who, status="waiting"),
        "open": lambda who: services.ticket_set_status(ticket=ticket, by=who, status="open"),
        "resolve": lambda who: services.ticket_set_status(ticket=ticket, by=who, status="resolved"),
        "accept": lambda who: complaints.complaint_accept(ticket=ticket, by=who),
        "handle": lambda who: complaints.complaint_handle(ticket=ticket, by=who, root_cause_kind="service",
                                                          root_cause="上门迟到", corrective_action="派单后电话确认"),
        "call_back": lambda who: complaints.complaint_callback(ticket=ticket, by=who, accepts=True),
        "close": lambda who: complaints.complaint_close(ticket=ticket, by=who),
    }
    for moment, action, who in steps:
        _when(moment, actions[action], who=who or by)
    if survey is not None:
        moment, csat, nps = survey
        issued = _when(moment, surveys.survey_issue, ticket=ticket, by=by)
        surveys.survey_answer(survey=issued, csat=csat, nps=nps, now=at(moment) + datetime.timedelta(hours=1))
    ticket.refresh_from_db()
    return ticket


@pytest.fixture
def service_book(service_today, service_desk, agent_sh, agent_sh2, agent_bj, manager_east, rep_east,  # noqa: F811
                 rep_hz, rep_west):
    """Tickets with known working times on the seeded calendar (09:00–12:00, 13:30–18:00 on working days).

    上海 (agent_sh; 华东, manager_east's scope), resolved in July:
      T1  故障, Fri 07-03 17:00, answered Mon 09:30 (1.5 h), resolved Tue 07-07 10:00 (9.5 h): both on time
      T2  故障, A tier (2 h / 24 h), Mon 07-06 10:00, answered 14:00 (2.5 h: late), waiting Mon 15:00 to Wed
          09:00, resolved Fri 07-10 16:00: 24 h without the wait, exactly at its deadline (on time)
      T3  咨询, Mon 07-06 09:00, answered 09:30 (0.5 h), resolved Tue 07-14 09:00 (45 h: late)
      T10 投诉, Mon 07-06 14:00, accepted Tue 09:00 (4 h), handled Wed 07-08 10:00 (12.5 h), closed
    华东区 (manager_east, a 杭州 customer), resolved in July:
      T7  咨询, Mon 07-06 09:00, answered Thu 07-09 09:00 (22.5 h: late), resolved 10:00 (23.5 h)
    北京 (agent_bj; 华北), resolved in July:
      T8  售后, Tue 07-07 09:00, answered 09:15 (0.25 h), resolved 12:00 (3 h)
    Resolved in June: T12 需求 (上海), Tue 06-02 09:00, answered 10:00, resolved 11:00; CSAT 4, NPS 9.
    Open now (Wed 07-15 10:00): T4 上海 new, opened Tue 16:00 (under a day); T5 上海 in progress since Wed
    07-01 (past its resolution deadline); T6 上海 waiting, opened Mon 07-13; T9 北京 new since 06-01 (past
    its deadline); T11 北京 投诉 new since Thu 07-09 (past its deadline), no root cause yet.
    Surveys answered in July (CSAT, NPS): T1 5/10, T2 2/3, T3 4/8, T7 5/6, T8 3/9."""
    t = service_desk
    sh, bj = agent_sh, agent_bj
    return {
        "T1": _ticket(sh, rep_east, t, "周五傍晚报修", "故障", "2026-07-03 17:00",
                      steps=[("2026-07-06 09:30", "reply", None), ("2026-07-07 10:00", "resolve", None)],
                      survey=("2026-07-08 10:00", 5, 10)),
        "T2": _ticket(sh, rep_east, t, "A类客户停机", "故障", "2026-07-06 10:00", tier="A",
                      steps=[("2026-07-06 14:00", "reply", None), ("2026-07-06 15:00", "waiting", None),
                             ("2026-07-08 09:00", "open", None), ("2026-07-10 16:00", "resolve", None)],
                      survey=("2026-07-13 10:00", 2, 3)),
        "T3": _ticket(sh, rep_east, t, "报表导出咨询", "咨询", "2026-07-06 09:00",
                      steps=[("2026-07-06 09:30", "reply", None), ("2026-07-14 09:00", "resolve", None)],
                      survey=("2026-07-14 11:00", 4, 8)),
        "T10": _ticket(sh, rep_east, t, "上门迟到投诉", "投诉", "2026-07-06 14:00",
                       steps=[("2026-07-07 09:00", "accept", None), ("2026-07-08 10:00", "handle", None),
                              ("2026-07-08 15:00", "call_back", agent_sh2), ("2026-07-08 16:00", "close", None)]),
        "T7": _ticket(manager_east, rep_hz, t, "杭州培训咨询", "咨询", "2026-07-06 09:00",
                      steps=[("2026-07-09 09:00", "reply", None), ("2026-07-09 10:00", "resolve", None)],
                      survey=("2026-07-10 10:00", 5, 6)),
        "T8": _ticket(bj, rep_west, t, "北京加授权", "售后", "2026-07-07 09:00",
                      steps=[("2026-07-07 09:15", "reply", None), ("2026-07-07 12:00", "resolve", None)],
                      survey=("2026-07-08 09:00", 3, 9)),
        "T12": _ticket(sh, rep_east, t, "六月的需求", "需求", "2026-06-02 09:00",
                       steps=[("2026-06-02 10:00", "reply", None), ("2026-06-02 11:00", "resolve", None)],
                       survey=("2026-06-03 10:00", 4, 9)),
        "T4": _ticket(sh, rep_east, t, "昨天下午的新工单", "故障", "2026-07-14 16:00"),
        "T5": _ticket(sh, rep_east, t, "拖了两周的工单", "故障", "2026-07-01 10:00",
                      steps=[("2026-07-01 11:00", "reply", None)]),
        "T6": _ticket(sh, rep_east, t, "等客户回复", "咨询", "2026-07-13 10:00",
                      steps=[("2026-07-13 10:30", "reply", None), ("2026-07-13 11:00", "waiting", None)]),
        "T9": _ticket(bj, rep_west, t, "六月初没人管", "故障", "2026-06-01 09:00"),
        "T11": _ticket(bj, rep_west, t, "北京的投诉", "投诉", "2026-07-09 10:00"),
    }
