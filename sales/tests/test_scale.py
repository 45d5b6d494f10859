"""The sales volume generator (part of `manage.py seed_scale`): deals over the generated customers in
three pipelines, each with a consistent stage history, mostly closed; run again, it adds nothing."""
import pytest
from django.db.models import Count, Q

from crm import scale
from sales import selectors
from sales.models import Opportunity, Pipeline, StageVisit
from sales.scale import PIPELINES, seed_sales_scale

pytestmark = pytest.mark.django_db


def test_it_generates_deals_with_their_history_once(roles, picklists):
    scale.seed_scale(customers=300, contacts=300, followups=300, regions=2, branches=2, reps=3, drop_index=False)
    result = seed_sales_scale(900)
    assert result["opportunities"][0] == 900
    assert set(Pipeline.objects.values_list("name", flat=True)) >= set(PIPELINES)
    deals = Opportunity.objects.select_related("customer", "stage")
    assert all(d.owner_id == d.customer.owner_id and d.team_id == d.customer.team_id for d in deals)
    assert {d.pipeline_id for d in deals} == set(Pipeline.objects.filter(name__in=PIPELINES).values_list("pk", flat=True))
    open_deals = deals.filter(closed_at=None)
    assert 0.05 < open_deals.count() / 900 < 0.25
    assert not deals.filter(closed_at=None).exclude(stage__kind="open").exists()
    assert not deals.filter(closed_at__isnull=False, stage__kind="open").exists()
    assert all(d.lost_reason_id for d in deals.filter(stage__kind="lost"))
    # Every deal's history ends in its current stage, the only visit still open.
    visits = StageVisit.objects.values("opportunity_id").annotate(
        current=Count("pk", filter=Q(left_at=None)), n=Count("pk"))
    assert len(visits) == 900 and all(v["current"] == 1 for v in visits)
    last = {v.opportunity_id: v.stage_id for v in StageVisit.objects.filter(left_at=None)}
    assert all(last[d.pk] == d.stage_id for d in deals)

    assert seed_sales_scale(900) == {}
    assert Opportunity.objects.count() == 900
    director = Opportunity.objects.first().owner.__class__.objects.get(username="scale_director")
    pipeline = Pipeline.objects.get(name=next(iter(PIPELINES)))
    columns = selectors.board(director, pipeline)
    assert sum(c.count for c in columns if not c.stage.is_closed) == open_deals.filter(pipeline=pipeline).count()
