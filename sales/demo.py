"""The demo company's sales: two pipelines (one gated), a few products and deals for each rep spread
over the stages, moved there through the services so their stage history and ticks are real.
Safe to run twice: nothing is added once a pipeline exists."""
import random
from decimal import Decimal

from accounts.models import Role, User
from crm.models import Choice, Customer

from . import services
from .models import DiscountRule, DocumentNumbering, Pipeline, StageKind
from .seed import seed_sales_defaults

PRODUCTS = [("ERP-STD", "ERP 标准版", "套", "268000"), ("ERP-PRO", "ERP 专业版", "套", "498000"),
            ("WMS", "仓储管理系统", "套", "180000"), ("SVC-Y", "年度运维服务", "年", "48000")]
DEALS = ["ERP 升级", "仓储系统", "年度运维", "数据平台", "移动办公", "供应链协同"]


def seed_sales_demo():
    """Pipelines, products and deals, then quotes (sales.demo_quotes), then contracts and targets
    (sales.demo_contracts); each part only once. Returns True when anything was added."""
    from .demo_contracts import seed_contracts_demo
    from .demo_quotes import seed_quotes_demo

    if not User.objects.filter(username="director").exists():
        return False
    # The numbering and discount rules a new installation gets (a flushed test database has none).
    seed_sales_defaults(DocumentNumbering, DiscountRule, Role)
    added = _seed_pipelines()
    reps = list(User.objects.filter(username__in=("rep_sh", "rep_hz", "rep_bj")))
    reps.sort(key=lambda rep: ("rep_sh", "rep_hz", "rep_bj").index(rep.username))
    added = seed_quotes_demo(director=User.objects.get(username="director"), reps=reps) or added
    return seed_contracts_demo() or added


def _seed_pipelines():
    if Pipeline.objects.exists():
        return False
    director = User.objects.get(username="director")
    for code, name, unit, price in PRODUCTS:
        services.product_save(by=director, code=code, name=name, unit=unit, list_price=Decimal(price))
    project = services.pipeline_save(by=director, name="项目型销售")
    first = project.stages.get(kind=StageKind.OPEN)
    services.stage_save(by=director, pipeline=project, stage=first, name="初步接触", probability=10,
                        stale_after_days=14)
    services.stage_save(by=director, pipeline=project, name="需求确认", probability=25, stale_after_days=21,
                        required_fields=["contact"])
    review = services.stage_save(by=director, pipeline=project, name="方案评审", probability=40, stale_after_days=30,
                                 required_fields=["expected_close"])
    services.gate_item_save(by=director, stage=review, label="技术评审")
    services.gate_item_save(by=director, stage=review, label="财务评审")
    services.stage_save(by=director, pipeline=project, name="商务谈判", probability=70, stale_after_days=21,
                        required_fields=["amount"])
    channel = services.pipeline_save(by=director, name="渠道销售")
    first = channel.stages.get(kind=StageKind.OPEN)
    services.stage_save(by=director, pipeline=channel, stage=first, name="渠道报备", probability=20)
    services.stage_save(by=director, pipeline=channel, name="签约准备", probability=60)
    _seed_deals(project)
    return True


def _seed_deals(pipeline):
    rng = random.Random(20260301)
    stages = list(pipeline.stages.order_by("order"))
    lost_reason = Choice.objects.filter(kind=Choice.Kind.LOST_REASON).first()
    for rep in User.objects.filter(username__startswith="rep_").order_by("username"):
        customers = list(Customer.objects.filter(owner=rep).prefetch_related("contacts").order_by("id")[:len(DEALS)])
        for index, customer in enumerate(customers):
            contact = next(iter(customer.contacts.all()), None)
            deal = services.opportunity_create(
                by=rep, customer=customer, pipeline=pipeline, name=f"{DEALS[index]}项目", contact=contact,
                amount=Decimal(rng.choice([80, 120, 180, 260, 380, 500])) * 1000, next_step="约客户技术交流",
                expected_close=None)
            target = stages[rng.randrange(len(stages))]
            if target.kind == StageKind.INVALID or (target.kind == StageKind.OPEN and target.order <= stages[0].order):
                continue
            try:
                _walk_to(deal, target, rep, lost_reason)
            except services.GateBlocked:  # e.g. a customer without a contact stays before 需求确认
                pass


def _walk_to(deal, target, rep, lost_reason):
    """Move the deal stage by stage up to `target`, meeting each gate on the way as a rep would."""
    import datetime

    for stage in deal.pipeline.stages.filter(kind=StageKind.OPEN, order__lte=target.order).order_by("order"):
        if stage.pk == deal.stage_id:
            continue
        if "expected_close" in stage.required_fields and not deal.expected_close:
            deal = services.opportunity_update(opportunity=deal, by=rep, expected_close=datetime.date(2027, 3, 31))
        for item in stage.gate_items.all():
            services.opportunity_tick(opportunity=deal, item=item, by=rep)
        deal = services.opportunity_move(opportunity=deal, stage=stage, by=rep)
    if target.kind != StageKind.OPEN:
        services.opportunity_move(opportunity=deal, stage=target, by=rep,
                                  lost_reason=lost_reason if target.kind == StageKind.LOST else None)
