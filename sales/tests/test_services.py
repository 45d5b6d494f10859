"""Sales services on the real database: pipelines configured by a holder of sales.stage:configure,
deals created and moved through gated stages with their stage history, won deals marking their
customer, and another team's rep seeing nothing of a deal."""
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import translation

from accounts.models import Role
from crm.models import Choice, Customer
from crm.tests.factories import CustomerFactory
from sales import selectors, services
from sales.models import Opportunity, Stage, StageKind, StageVisit

pytestmark = [pytest.mark.django_db, pytest.mark.dates]


@pytest.fixture(autouse=True)
def in_english():
    with translation.override("en"):
        yield


@pytest.fixture
def pipeline(pipeline, director):
    """The shared 项目型销售 (see conftest.py), 方案评审 also needing 财务评审 (ticked by anyone), then 商务谈判."""
    services.gate_item_save(by=director, stage=pipeline.stages.get(name="方案评审"), label="财务评审")
    services.stage_save(by=director, pipeline=pipeline, name="商务谈判", probability=70)
    return pipeline


def stage(pipeline, name):
    return pipeline.stages.get(name=name)


def test_a_new_pipeline_has_the_closed_stages_and_stages_go_before_them(pipeline):
    names = list(pipeline.stages.order_by("order").values_list("name", "kind"))
    assert names == [("初步接触", "open"), ("方案评审", "open"), ("商务谈判", "open"), ("Won", "won"),
                     ("Lost", "lost"), ("Invalid", "invalid")]


def test_only_holders_of_the_capability_configure(rep_east, manager_east):
    for person in (rep_east, manager_east):
        with pytest.raises(PermissionDenied):
            services.pipeline_save(by=person, name="渠道销售")


def test_a_deal_starts_in_the_first_open_stage_with_its_probability_and_history(deal, pipeline, rep_east):
    assert deal.stage == stage(pipeline, "初步接触")
    assert deal.probability == 10 and deal.owner == rep_east and deal.team == rep_east.team
    visits = selectors.stage_visits(deal)
    assert [(v.stage.name, v.left_at) for v in visits] == [("初步接触", None)]


def test_a_gate_blocks_until_its_fields_are_filled_and_items_ticked_by_the_right_roles(deal, pipeline, rep_east):
    review = stage(pipeline, "方案评审")
    with pytest.raises(services.GateBlocked) as blocked:
        services.opportunity_move(opportunity=deal, stage=review, by=rep_east)
    assert blocked.value.missing == ["expected close date", "技术评审", "财务评审"]
    deal.refresh_from_db()
    assert deal.stage.name == "初步接触"

    tech_item, finance_item = review.gate_items.order_by("order")
    with pytest.raises(PermissionDenied, match="技术评审"):
        services.opportunity_tick(opportunity=deal, item=tech_item, by=rep_east)
    services.opportunity_tick(opportunity=deal, item=finance_item, by=rep_east)
    reviewer = rep_east.__class__.objects.create(username="reviewer", team=rep_east.team)
    reviewer.roles.add(Role.objects.get(name="技术评审"), Role.objects.get(name="销售代表"))
    services.opportunity_tick(opportunity=deal, item=tech_item, by=reviewer)
    Opportunity.objects.filter(pk=deal.pk).update(expected_close="2026-12-31")
    deal.refresh_from_db()

    moved = services.opportunity_move(opportunity=deal, stage=review, by=rep_east)
    assert moved.stage == review and moved.probability == 40
    visits = selectors.stage_visits(moved)
    assert [v.stage.name for v in visits] == ["初步接触", "方案评审"]
    assert visits[0].left_at is not None and visits[1].left_at is None


def test_winning_a_deal_closes_it_and_marks_its_customer(deal, pipeline, rep_east):
    won = services.opportunity_move(opportunity=deal, stage=stage(pipeline, "Won"), by=rep_east)
    assert won.closed_at is not None and won.probability == 100
    customer = Customer.objects.get(pk=deal.customer_id)
    assert customer.deal_status == "won" and customer.deal_date == won.closed_at.date()
    assert customer.deal_amount == Decimal("500000")


def test_losing_needs_a_reason(deal, pipeline, rep_east, picklists):
    lost = stage(pipeline, "Lost")
    with pytest.raises(ValidationError):
        services.opportunity_move(opportunity=deal, stage=lost, by=rep_east)
    reason = Choice.objects.get(kind=Choice.Kind.LOST_REASON, code="price")
    moved = services.opportunity_move(opportunity=deal, stage=lost, by=rep_east, lost_reason=reason)
    assert moved.lost_reason == reason and moved.closed_at is not None
    assert Customer.objects.get(pk=deal.customer_id).deal_status == "none"


def test_renaming_reordering_and_retiring_a_stage_keeps_deals_and_history(deal, pipeline, director, rep_east):
    first = stage(pipeline, "初步接触")
    services.stage_save(by=director, pipeline=pipeline, stage=first, name="需求确认", probability=15)
    ids = list(pipeline.stages.order_by("-order").values_list("pk", flat=True))
    services.stages_reorder(by=director, pipeline=pipeline, stage_ids=ids)
    assert list(pipeline.stages.order_by("order").values_list("pk", flat=True)) == ids
    with pytest.raises(ValidationError):
        services.stages_reorder(by=director, pipeline=pipeline, stage_ids=ids[1:])
    services.stage_retire(by=director, stage=first)
    deal.refresh_from_db()
    assert deal.stage == first and deal.stage.name == "需求确认"
    assert [v.stage.name for v in selectors.stage_visits(deal)] == ["需求确认"]
    # The retired stage still shows on the board while a deal is in it; the deal moves on, not back.
    assert first.pk in [column.stage.pk for column in selectors.board(rep_east, pipeline)]
    moved = services.opportunity_move(opportunity=deal, stage=stage(pipeline, "商务谈判"), by=rep_east)
    with pytest.raises(ValidationError, match="retired"):
        services.opportunity_move(opportunity=moved, stage=first, by=rep_east)
    assert first.pk not in [column.stage.pk for column in selectors.board(rep_east, pipeline)]


def test_a_pipeline_keeps_one_open_stage(pipeline, director):
    open_stages = list(pipeline.stages.filter(kind=StageKind.OPEN))
    for item in open_stages[:-1]:
        services.stage_retire(by=director, stage=item)
    with pytest.raises(ValidationError):
        services.stage_retire(by=director, stage=open_stages[-1])
    with pytest.raises(ValidationError):  # nor may the last one become a closed stage
        services.stage_save(by=director, pipeline=pipeline, stage=open_stages[-1], name="x", kind=StageKind.WON,
                            probability=100)


def test_another_teams_rep_sees_and_moves_nothing(deal, pipeline, rep_west, rep_east2, manager_east):
    assert not selectors.opportunities_visible_to(rep_west).exists()
    with pytest.raises(Http404):
        selectors.opportunity_for(rep_west, deal.pk)
    with pytest.raises(Opportunity.DoesNotExist):
        services.opportunity_move(opportunity=deal, stage=stage(pipeline, "Won"), by=rep_west)
    assert all(column.count == 0 and not column.cards for column in selectors.board(rep_west, pipeline))
    # The same team and the region's manager see it.
    assert selectors.opportunity_for(rep_east2, deal.pk) == deal
    assert selectors.opportunities_visible_to(manager_east).get() == deal
    assert StageVisit.objects.filter(opportunity=deal).count() == 1


def test_a_rep_cannot_open_a_deal_on_a_customer_they_cannot_see(pipeline, rep_east, rep_west):
    hidden = CustomerFactory(owner=rep_west)
    with pytest.raises(Customer.DoesNotExist):  # as for a deal out of sight: the view's 404
        services.opportunity_create(by=rep_east, customer=hidden, pipeline=pipeline, name="x")


def test_a_pipeline_limited_to_teams_takes_deals_from_those_teams_only(director, teams, rep_east, rep_west):
    channel = services.pipeline_save(by=director, name="渠道销售", teams=[teams["east"]])
    assert channel in services.pipelines_for(rep_east)
    assert channel not in services.pipelines_for(rep_west)
    customer = CustomerFactory(owner=rep_west)
    with pytest.raises(ValidationError):
        services.opportunity_create(by=rep_west, customer=customer, pipeline=channel, name="x")


def test_the_board_counts_sums_and_weights_each_column_in_fixed_queries(pipeline, rep_east, django_assert_num_queries):
    customer = CustomerFactory(owner=rep_east)
    for amount in (100, 200, 300):
        services.opportunity_create(by=rep_east, customer=customer, pipeline=pipeline, name=f"单{amount}",
                                    amount=Decimal(amount))
    ContentType.objects.get_for_model(Opportunity)  # cached per process: warm it, so the count is the board's own
    with django_assert_num_queries(5):  # shares' content type cached; totals, stages, gate items, card ids, cards
        columns = selectors.board(rep_east, pipeline, per_column=2)
    first = columns[0]
    assert (first.count, first.total, first.weighted) == (3, Decimal(600), Decimal("60.00"))
    assert [card.name for card in first.cards] == ["单300", "单200"] and first.more
    older = selectors.column_cards(rep_east, pipeline, first.stage, before=first.cards[-1].pk)
    assert [card.name for card in older] == ["单100"]


def test_a_probability_override_needs_a_reason_and_moving_keeps_it(deal, pipeline, rep_east):
    changed = services.opportunity_set_probability(opportunity=deal, by=rep_east, probability=60, reason="老客户复购")
    assert changed.probability == 60
    Stage.objects.filter(pk=stage(pipeline, "方案评审").pk).update(required_fields=[])
    stage(pipeline, "方案评审").gate_items.all().delete()
    moved = services.opportunity_move(opportunity=changed, stage=stage(pipeline, "方案评审"), by=rep_east)
    assert moved.probability == 60
    back = services.opportunity_set_probability(opportunity=moved, by=rep_east, probability=0, reason="")
    assert back.probability == 40


def test_the_board_shows_closed_deals_of_the_last_30_days_only(deal, pipeline, rep_east):
    import datetime

    from django.utils import timezone

    won = services.opportunity_move(opportunity=deal, stage=stage(pipeline, "Won"), by=rep_east)
    columns = {c.stage.name: c for c in selectors.board(rep_east, pipeline)}
    assert columns["Won"].count == 1 and columns["Won"].cards == [won]
    Opportunity.objects.filter(pk=won.pk).update(closed_at=timezone.now() - datetime.timedelta(days=31))
    columns = {c.stage.name: c for c in selectors.board(rep_east, pipeline)}
    assert columns["Won"].count == 0 and columns["Won"].cards == []
    assert selectors.opportunities_visible_to(rep_east).get() == won  # still in the list
