from decimal import Decimal

import pytest

from accounts.models import Role
from crm.tests.factories import CustomerFactory
from sales import services
from sales.models import DiscountRule, DocumentNumbering, StageKind
from sales.seed import seed_sales_defaults


@pytest.fixture
def pipeline(director):
    """项目型销售: 初步接触 → 方案评审 (gated: an expected close date, and 技术评审 ticked by the role
    技术评审), then the closed stages 赢单, 输单 and 无效."""
    pipeline = services.pipeline_save(by=director, name="项目型销售")
    first = pipeline.stages.get(kind=StageKind.OPEN)
    services.stage_save(by=director, pipeline=pipeline, stage=first, name="初步接触", probability=10)
    review = services.stage_save(by=director, pipeline=pipeline, name="方案评审", probability=40,
                                 required_fields=["expected_close"])
    services.gate_item_save(by=director, stage=review, label="技术评审", role=Role.objects.create(name="技术评审"))
    return pipeline


@pytest.fixture
def deal(pipeline, rep_east):
    """仓储系统, ¥500,000, rep_east's deal with 上海申通物流有限公司, in the test module's `pipeline`."""
    customer = CustomerFactory(owner=rep_east, name="上海申通物流有限公司")
    return services.opportunity_create(by=rep_east, customer=customer, pipeline=pipeline, name="仓储系统",
                                       amount=Decimal("500000"))


@pytest.fixture
def rules(roles):
    """The two seeded discount rules: over 10% the rep's manager, over 25% the 销售总监 role."""
    DiscountRule.objects.all().delete()
    seed_sales_defaults(DocumentNumbering, DiscountRule, Role)
    return list(DiscountRule.objects.order_by("over_percent"))
