"""The demo company's sales: two pipelines (one gated) and a few products, configured through the
services, then a year and a half of deals (sales.demo_deals), quotes, contracts and targets.
Safe to run twice: nothing is added once a pipeline exists."""
from decimal import Decimal

from accounts.models import Role, User
from accounts.services import audited

from . import services
from .demo_deals import seed_deals_demo
from .models import DiscountRule, DocumentNumbering, Pipeline, StageKind
from .seed import seed_sales_defaults

SEED = 20260302

PRODUCTS = [("ERP-STD", "ERP 标准版", "套", "268000"), ("ERP-PRO", "ERP 专业版", "套", "498000"),
            ("WMS", "仓储管理系统", "套", "180000"), ("SVC-Y", "年度运维服务", "年", "48000")]


def seed_sales_demo():
    """Pipelines, products and deals, then quotes (sales.demo_quotes), then contracts and targets
    (sales.demo_contracts); each part only once. Returns True when anything was added."""
    from .demo_contracts import seed_contracts_demo
    from .demo_quotes import seed_quotes_demo

    if not User.objects.filter(username="director").exists():
        return False
    with audited(None, "seed_demo"):
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
    seed_deals_demo({"project": project, "channel": channel}, SEED)
    return True
