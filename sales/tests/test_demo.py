"""The demo company's sales (`manage.py seed_demo`): pipelines and products, a year and a half of deals
with their stage history, quotes, contracts and targets, once. What makes the year believable is
tested in crm/tests/test_demo_year.py."""
import pytest
from django.core.management import call_command

from sales.models import (
    Instalment,
    Opportunity,
    Pipeline,
    Product,
    Quote,
    QuoteApproval,
    StageKind,
    StageVisit,
    Target,
)

pytestmark = pytest.mark.django_db


def test_the_demo_has_pipelines_and_deals_in_every_part_of_the_board(roles, picklists):
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    assert set(Pipeline.objects.values_list("name", flat=True)) == {"项目型销售", "渠道销售"}
    assert Product.objects.count() == 4
    deals = Opportunity.objects.select_related("stage", "owner")
    assert {d.owner.username for d in deals} == {"rep_sh", "rep_sh2", "rep_hz", "rep_bj"}
    assert len({d.stage.name for d in deals}) >= 4
    walked = [d for d in deals if d.stage.order > 10]
    assert walked and all(StageVisit.objects.filter(opportunity=d).count() >= 2 for d in walked)
    for deal in deals.filter(stage__kind=StageKind.WON):
        assert deal.customer.deal_status == "won"
    assert all(d.lost_reason_id for d in deals.filter(stage__kind=StageKind.LOST))

    # Quotes in several states (one awaiting approval), a contract with a payment plan, targets.
    assert {"sent", "pending", "rejected", "draft"} <= set(Quote.objects.values_list("status", flat=True))
    assert QuoteApproval.objects.filter(decision="pending").exists()
    assert Instalment.objects.filter(contract__opportunity__stage__kind=StageKind.WON).count() >= 3
    assert Target.objects.filter(user__username="rep_sh").exists()

    counts = (deals.count(), Quote.objects.count(), Instalment.objects.count(), Target.objects.count())
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    assert (deals.count(), Quote.objects.count(), Instalment.objects.count(), Target.objects.count()) == counts
    assert Pipeline.objects.count() == 2
