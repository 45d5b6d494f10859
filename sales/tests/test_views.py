"""The deal pages: the board, moving a card (a gate refuses in place, a lost deal asks for its reason),
a deal's page with its gates and stage history, the list, creating a deal from a customer, the
customer page's panel; another team's rep gets 404 everywhere and sees nothing; query counts pinned."""
import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.models import Choice
from crm.tests.factories import CustomerFactory
from sales import services
from sales.models import Opportunity, Stage, StageKind

pytestmark = [pytest.mark.django_db, pytest.mark.dates]


@pytest.fixture
def pipeline(pipeline, director):
    """The shared 项目型销售 (see conftest.py) with 商务谈判 after 方案评审."""
    services.stage_save(by=director, pipeline=pipeline, name="商务谈判", probability=70)
    return pipeline


def stage(pipeline, kind_or_name):
    if kind_or_name in StageKind.values:
        return pipeline.stages.get(kind=kind_or_name)
    return pipeline.stages.get(name=kind_or_name)


def move(client, deal, target, **extra):
    return client.post(reverse("sales:opportunity_move", args=[deal.pk]),
                       {"stage": target.pk, "from": "board", "version": deal.version, **extra})


def test_the_board_shows_each_column_with_its_deals_and_totals(client_for, rep_east, pipeline, deal):
    response = client_for(rep_east).get(reverse("sales:board", args=[pipeline.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "仓储系统" in page and "上海申通物流有限公司" in page
    first = response.context["columns"][0]
    assert (first.stage.name, first.count, first.total, first.weighted) == ("初步接触", 1, Decimal("500000"),
                                                                            Decimal("50000"))
    assert "sortablejs/Sortable.min.js" in page and "js/sales_board.js" in page


def test_the_board_keeps_its_query_count_however_many_deals(client_for, rep_east, pipeline, deal,
                                                            django_assert_max_num_queries):
    client = client_for(rep_east)
    client.get(reverse("sales:board", args=[pipeline.pk]))
    for number in range(12):
        services.opportunity_create(by=rep_east, customer=deal.customer, pipeline=pipeline, name=f"单{number}")
    with django_assert_max_num_queries(12):
        response = client.get(reverse("sales:board", args=[pipeline.pk]))
    assert response.context["columns"][0].count == 13


def test_a_card_moves_to_another_column(client_for, rep_east, pipeline, deal):
    response = move(client_for(rep_east), deal, stage(pipeline, "商务谈判"))
    assert response.status_code == 200
    deal.refresh_from_db()
    assert deal.stage.name == "商务谈判" and deal.probability == 70
    assert [c.count for c in response.context["columns"] if c.stage.name == "商务谈判"] == [1]
    # The answer is the two columns the card left and entered, each swapped in by its id.
    page = response.content.decode()
    assert [(c.stage.name, c.count) for c in response.context["columns"]] == [("初步接触", 0), ("商务谈判", 1)]
    assert page.count('hx-swap-oob="true"') == 2 and 'id="board"' not in page


def test_moving_a_card_keeps_its_query_count_however_many_deals(client_for, rep_east, pipeline, deal,
                                                                 django_assert_max_num_queries):
    client = client_for(rep_east)
    target = stage(pipeline, "商务谈判")
    for n in range(30):
        services.opportunity_create(by=rep_east, customer=deal.customer, pipeline=pipeline, name=f"单{n}")
    with django_assert_max_num_queries(26):
        assert move(client, deal, target).status_code == 200


def test_a_gate_refuses_the_move_and_says_what_is_missing_in_that_column(english_client_for, rep_east, pipeline,
                                                                        deal):
    response = move(english_client_for(rep_east), deal, stage(pipeline, "方案评审"))
    assert response.status_code == 422
    page = response.content.decode()
    assert 'data-testid="gate-message"' in page
    assert "expected close date" in page and "技术评审" in page
    assert response.context["blocked"]["stage"] == stage(pipeline, "方案评审").pk
    deal.refresh_from_db()
    assert deal.stage.name == "初步接触"


def test_a_lost_deal_asks_for_its_reason_in_place(client_for, rep_east, pipeline, deal, picklists):
    client = client_for(rep_east)
    response = move(client, deal, stage(pipeline, "lost"))
    assert response.status_code == 422 and response.context["blocked"]["needs_reason"]
    assert 'name="lost_reason"' in response.content.decode()
    reason = Choice.objects.get(kind=Choice.Kind.LOST_REASON, code="competitor")
    response = move(client, deal, stage(pipeline, "lost"), lost_reason=reason.pk)
    assert response.status_code == 200
    deal.refresh_from_db()
    assert deal.stage.kind == "lost" and deal.lost_reason == reason


def test_the_deal_page_shows_gates_history_and_lets_the_right_role_tick(client_for, rep_east, pipeline, deal):
    client = client_for(rep_east)
    page = client.get(deal.get_absolute_url())
    assert page.status_code == 200
    assert "技术评审" in page.content.decode() and 'data-testid="stage-history"' in page.content.decode()
    item = stage(pipeline, "方案评审").gate_items.get()
    assert not page.context["gates"][0]["items"][0]["may_tick"]
    client.post(reverse("sales:opportunity_tick", args=[deal.pk, item.pk]), {"ticked": "1"})
    assert not deal.ticks.exists()
    rep_east.roles.add(item.role)
    client.post(reverse("sales:opportunity_tick", args=[deal.pk, item.pk]), {"ticked": "1"})
    assert deal.ticks.filter(item=item, ticked_by=rep_east).exists()


def test_the_deal_page_keeps_its_query_count(client_for, rep_east, deal, django_assert_max_num_queries):
    client = client_for(rep_east)
    client.get(deal.get_absolute_url())
    # 18, and the history: its events, the names of who wrote them; whether the customer may be seen.
    with django_assert_max_num_queries(21):
        assert client.get(deal.get_absolute_url()).status_code == 200


def test_a_deal_is_created_from_its_customer(client_for, rep_east, pipeline):
    customer = CustomerFactory(owner=rep_east)
    client = client_for(rep_east)
    page = client.get(customer.get_absolute_url())
    assert 'data-testid="new-opportunity"' in page.content.decode()
    form = client.get(reverse("sales:opportunity_create") + f"?customer={customer.pk}")
    assert form.status_code == 200
    response = client.post(reverse("sales:opportunity_create"), {
        "customer": customer.pk, "name": "年度维保", "pipeline": pipeline.pk, "amount": "12000",
        "expected_close": "2026-12-31", "next_step": "发报价"})
    deal = Opportunity.objects.get(name="年度维保")
    assert response.status_code == 302 and response.url == deal.get_absolute_url()
    assert deal.customer == customer and deal.owner == rep_east
    panel = client.get(customer.get_absolute_url()).content.decode()
    assert "年度维保" in panel


def test_the_list_filters_and_pages(client_for, rep_east, pipeline, deal):
    client = client_for(rep_east)
    response = client.get(reverse("sales:opportunity_list"), {"q": "仓储"})
    assert [d.pk for d in response.context["deals"]] == [deal.pk]
    response = client.get(reverse("sales:opportunity_list"), {"q": "没有这个"})
    assert response.context["deals"] == []
    response = client.get(reverse("sales:opportunity_list"), {"state": "won"})
    assert response.context["deals"] == []


@pytest.fixture
def sales_assistant(teams):
    """Sees every deal (sales: all) but only 北京's customers (customers: own team)."""
    from accounts.capabilities import Scope
    from accounts.tests.factories import RoleFactory, UserFactory

    return UserFactory(username="assistant", team=teams["beijing"], roles=[RoleFactory(
        name="商务助理", sales_scope=Scope.ALL, customers_scope=Scope.TEAM)])


@pytest.mark.parametrize("term, found", [
    ("仓储系统", True),        # the deal's own name
    ("上海申通", False),       # its customer's name: a customer the assistant may not see
    ("shanghaishentong", False),  # its pinyin
    ("62345678", False),       # its phone
])
def test_the_list_search_matches_only_the_text_of_customers_the_user_may_see(client_for, sales_assistant, deal,
                                                                              term, found):
    from crm.models import Customer
    from crm.services.customers import customers_refresh_search

    Customer.objects.filter(pk=deal.customer_id).update(phone="+862162345678")
    customers_refresh_search([deal.customer_id])
    response = client_for(sales_assistant).get(reverse("sales:opportunity_list"), {"q": term, "state": "all"})
    assert [d.pk for d in response.context["deals"]] == ([deal.pk] if found else [])


def test_the_list_search_still_matches_a_visible_customers_text(client_for, rep_east, deal):
    response = client_for(rep_east).get(reverse("sales:opportunity_list"), {"q": "上海申通"})
    assert [d.pk for d in response.context["deals"]] == [deal.pk]


def test_another_teams_rep_gets_404_everywhere_and_sees_nothing(client_for, rep_west, pipeline, deal):
    client = client_for(rep_west)
    item = stage(pipeline, "方案评审").gate_items.get()
    for url in (deal.get_absolute_url(),):
        assert client.get(url).status_code == 404
    for url, data in (
            (reverse("sales:opportunity_move", args=[deal.pk]), {"stage": stage(pipeline, "won").pk}),
            (reverse("sales:opportunity_tick", args=[deal.pk, item.pk]), {"ticked": "1"}),
            (reverse("sales:opportunity_probability", args=[deal.pk]), {"probability": 90, "reason": "x"})):
        assert client.post(url, data).status_code == 404
    deal.refresh_from_db()
    assert deal.stage.name == "初步接触" and deal.probability == 10 and not deal.ticks.exists()
    board = client.get(reverse("sales:board", args=[pipeline.pk]))
    assert "仓储系统" not in board.content.decode()
    assert all(column.count == 0 for column in board.context["columns"])
    assert client.get(reverse("sales:opportunity_list")).context["deals"] == []
    first = stage(pipeline, "初步接触")
    more = client.get(reverse("sales:column_more", args=[pipeline.pk, first.pk]))
    assert "仓储系统" not in more.content.decode()
    assert client.get(reverse("sales:opportunity_create") + f"?customer={deal.customer_id}").status_code == 404


def test_people_without_sales_access_are_refused(client_for, it_importer, pipeline):
    assert client_for(it_importer).get(reverse("sales:board", args=[pipeline.pk])).status_code == 403


def test_a_deal_is_edited_and_a_stale_form_is_refused(client_for, rep_east, deal):
    client = client_for(rep_east)
    url = reverse("sales:opportunity_edit", args=[deal.pk])
    assert client.get(url).status_code == 200
    data = {"name": "仓储系统二期", "amount": "650000", "expected_close": "2027-03-31", "next_step": "技术交流",
            "version": deal.version}
    response = client.post(url, data)
    assert response.status_code == 302
    deal.refresh_from_db()
    assert (deal.name, deal.amount, str(deal.expected_close)) == ("仓储系统二期", Decimal("650000"), "2027-03-31")
    stale = client.post(url, {**data, "name": "别人的旧表单"})
    assert stale.status_code == 422
    deal.refresh_from_db()
    assert deal.name == "仓储系统二期"


def test_the_list_and_the_deal_forms_keep_their_query_counts(client_for, rep_east, pipeline, deal,
                                                              django_assert_max_num_queries):
    client = client_for(rep_east)
    for number in range(8):
        services.opportunity_create(by=rep_east, customer=deal.customer, pipeline=pipeline, name=f"单{number}")
    urls = [reverse("sales:opportunity_list"), reverse("sales:opportunity_list") + "?state=all&q=单",
            reverse("sales:opportunity_create") + f"?customer={deal.customer_id}",
            reverse("sales:opportunity_edit", args=[deal.pk])]
    for url in urls:
        client.get(url)
        with django_assert_max_num_queries(12):
            assert client.get(url).status_code == 200


def test_a_card_longer_in_its_stage_than_the_limit_is_marked_stale(client_for, rep_east, pipeline, deal):
    Stage.objects.filter(pk=deal.stage_id).update(stale_after_days=14)
    url = reverse("sales:board", args=[pipeline.pk])
    client = client_for(rep_east)
    assert 'data-testid="stale"' not in client.get(url).content.decode()
    Opportunity.objects.filter(pk=deal.pk).update(stage_entered_at=timezone.now() - datetime.timedelta(days=20))
    page = client.get(url).content.decode()
    assert page.count('data-testid="stale"') == 1 and "20" in page.split('data-testid="stale"')[1][:200]
    Opportunity.objects.filter(pk=deal.pk).update(stage_entered_at=timezone.now() - datetime.timedelta(days=10))
    assert 'data-testid="stale"' not in client.get(url).content.decode()


def test_loading_more_cards_keeps_its_query_count_and_ends_at_the_last_card(client_for, rep_east, pipeline, deal,
                                                                             django_assert_max_num_queries):
    client = client_for(rep_east)
    first = stage(pipeline, "初步接触")
    url = reverse("sales:column_more", args=[pipeline.pk, first.pk])
    for n in range(4):
        services.opportunity_create(by=rep_east, customer=deal.customer, pipeline=pipeline, name=f"单{n}")
    newest = Opportunity.objects.filter(stage=first).order_by("-pk")
    with django_assert_max_num_queries(8):
        few = client.get(url, {"before": newest[0].pk})
    for n in range(40):
        services.opportunity_create(by=rep_east, customer=deal.customer, pipeline=pipeline, name=f"多{n}")
    with django_assert_max_num_queries(8):
        many = client.get(url, {"before": Opportunity.objects.filter(stage=first).order_by("-pk")[0].pk})
    assert len(few.context["cards"]) == 4 and not few.context["more"]  # exactly the rest: no "load more"
    assert len(many.context["cards"]) == 44 and not many.context["more"]
