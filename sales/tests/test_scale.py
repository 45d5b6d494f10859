"""The sales volume generator (part of `manage.py seed_scale`): deals over the generated customers in
three pipelines, each with a consistent stage history, mostly closed; run again, it adds nothing."""
import datetime

import pytest
from django.db.models import Count, Q, Sum
from django.utils import timezone

from crm import scale
from sales import selectors
from sales.models import Opportunity, Pipeline, StageVisit, Target
from sales.scale import PIPELINES, seed_sales_scale

pytestmark = pytest.mark.django_db


def quarter_start():
    today = timezone.localdate()
    return datetime.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)


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

    # Every deal has one to three catalogue lines adding up to its amount.
    lines = Opportunity.objects.annotate(n=Count("lines"), total=Sum("lines__unit_price"))
    assert all(1 <= d.n <= 3 and d.total == d.amount for d in lines)
    # Targets for every rep with deals and every team, by month and by quarter.
    owners = set(deals.values_list("owner_id", flat=True))
    assert set(Target.objects.filter(period="quarter", starts_on=quarter_start()).values_list("user_id", flat=True)) \
        == owners | {None}
    assert Target.objects.filter(period="month", team__isnull=False).exists()

    assert seed_sales_scale(900) == {}
    assert Opportunity.objects.count() == 900
    director = Opportunity.objects.first().owner.__class__.objects.get(username="scale_director")
    pipeline = Pipeline.objects.get(name=next(iter(PIPELINES)))
    columns = selectors.board(director, pipeline)
    assert sum(c.count for c in columns if not c.stage.is_closed) == open_deals.filter(pipeline=pipeline).count()
