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
