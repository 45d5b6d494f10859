"""The sales settings pages: a 销售总监 configures pipelines (teams, stages in order, gates, retiring) and
products; bad input shows the service's message and saves nothing; people without sales.stage:configure
get 403 on every URL and method and change nothing; a stage or item under another pipeline is a 404;
the list and stages pages cost the same however many stages and items there are."""
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role
from conftest import named_routes
from sales import services
from sales.models import DiscountRule, GateItem, Pipeline, Product, Stage, StageKind

pytestmark = pytest.mark.django_db


@pytest.fixture
def product(director):
    return services.product_save(by=director, code="ERP-STD", name="ERP 标准版", unit="套", list_price=Decimal(98000))


def url(name, *args):
    return reverse(name if ":" in name else f"sales:{name}", args=args)


def ordered(pipeline):
    return list(pipeline.stages.order_by("order", "id").values_list("name", flat=True))


def snapshot():
    return (list(Pipeline.objects.order_by("pk").values()), list(Pipeline.teams.through.objects.values()),
            list(Stage.objects.order_by("pk").values()), list(GateItem.objects.order_by("pk").values()),
            list(Product.objects.order_by("pk").values()))


# Pipelines -------------------------------------------------------------------------------------

def test_a_director_creates_a_pipeline_and_gets_the_closed_stages(client_for, director, teams):
    client = client_for(director)
    response = client.post(url("settings:sales:pipeline_create"),
                           {"name": " 渠道销售 ", "teams": [teams["east"].pk], "is_active": "on"})
    pipeline = Pipeline.objects.get(name="渠道销售")
    assert response.status_code == 302 and response["Location"] == url("settings:sales:pipeline", pipeline.pk)
    assert list(pipeline.teams.all()) == [teams["east"]]
    assert sorted(pipeline.stages.values_list("kind", flat=True)) == sorted(StageKind.values)

    page = client.get(url("settings:sales:pipelines")).content.decode()
    assert "渠道销售" in page and "华东区" in page
    for stage in pipeline.stages.all():
        assert stage.name in page


def test_a_pipeline_without_teams_serves_all_teams(english_client_for, director, pipeline):
    page = english_client_for(director).get(url("settings:sales:pipelines")).content.decode()
    assert "All teams" in page


def test_a_director_edits_a_pipeline(client_for, director, pipeline, teams):
    pipeline.teams.set([teams["east"]])
    form = client_for(director).get(url("settings:sales:pipeline_edit", pipeline.pk)).context["form"]
    assert form.initial == {"name": "项目型销售", "is_active": True, "teams": [teams["east"].pk]}

    response = client_for(director).post(url("settings:sales:pipeline_edit", pipeline.pk),
                                         {"name": "项目型销售（新）", "teams": [teams["north"].pk]})
    assert response.status_code == 302
    pipeline.refresh_from_db()
    assert (pipeline.name, pipeline.is_active, list(pipeline.teams.all())) == ("项目型销售（新）", False, [teams["north"]])


def test_a_duplicate_pipeline_name_is_refused_with_its_reason(english_client_for, director, pipeline):
    before = snapshot()
    response = english_client_for(director).post(url("settings:sales:pipeline_create"), {"name": "项目型销售"})
    assert response.status_code == 200
    assert "There is already a pipeline called 项目型销售." in response.content.decode()
    assert snapshot() == before


def test_the_team_choices_come_in_tree_order(client_for, director, teams):
    form = client_for(director).get(url("settings:sales:pipeline_create")).context["form"]
    names = [team.name for team in form.fields["teams"].queryset]
    assert names.index("总部") < names.index("华东区") < names.index("上海分公司") < names.index("华北区")


# Stages and gates ------------------------------------------------------------------------------

def test_a_director_adds_a_gated_stage_with_a_checklist_item(client_for, director, pipeline, roles):
    client = client_for(director)
    response = client.post(url("settings:sales:stage_create", pipeline.pk), {
        "name": "商务谈判", "kind": "open", "probability": 70, "stale_after_days": 14,
        "required_fields": ["amount", "contact"]})
    stage = pipeline.stages.get(name="商务谈判")
    assert response.status_code == 302 and response["Location"] == url("settings:sales:pipeline", pipeline.pk) + \
        f"#stage-{stage.pk}"
    assert (stage.kind, stage.probability, stage.stale_after_days, stage.required_fields) == (
        "open", 70, 14, ["amount", "contact"])
    assert ordered(pipeline).index("商务谈判") < ordered(pipeline).index(pipeline.stages.get(kind="won").name)

    response = client.post(url("settings:sales:gate_item_create", pipeline.pk, stage.pk),
                           {"label": "报价已审批", "role": roles["销售总监"].pk})
    assert response.status_code == 302
    item = stage.gate_items.get()
    assert (item.label, item.role) == ("报价已审批", roles["销售总监"])

    for page_url in (url("settings:sales:pipeline", pipeline.pk), url("settings:sales:pipelines")):
        page = client.get(page_url).content.decode()
        assert "报价已审批" in page and "销售总监" in page and "技术评审" in page


def test_a_director_edits_a_stage(client_for, director, pipeline):
    stage = pipeline.stages.get(name="方案评审")
    form = client_for(director).get(url("settings:sales:stage_edit", pipeline.pk, stage.pk)).context["form"]
    assert form.initial["required_fields"] == ["expected_close"]
    response = client_for(director).post(url("settings:sales:stage_edit", pipeline.pk, stage.pk), {
        "name": "方案与评审", "kind": "open", "probability": 50, "stale_after_days": "", "required_fields": []})
    assert response.status_code == 302
    stage.refresh_from_db()
    assert (stage.name, stage.probability, stage.stale_after_days, stage.required_fields) == ("方案与评审", 50, None, [])


@pytest.mark.parametrize("editing", [False, True])
def test_a_probability_over_100_is_refused_with_its_reason(english_client_for, director, pipeline, editing):
    stage = pipeline.stages.get(name="方案评审")
    target = url("settings:sales:stage_edit", pipeline.pk, stage.pk) if editing else url("settings:sales:stage_create", pipeline.pk)
    before = snapshot()
    response = english_client_for(director).post(target, {"name": "大单", "kind": "open", "probability": 150})
    assert response.status_code == 200
    assert "A probability is between 0 and 100." in response.content.decode()
    assert response.context["form"].errors["probability"]
    assert snapshot() == before


def test_an_unknown_gate_field_is_refused(client_for, director, pipeline):
    before = snapshot()
    response = client_for(director).post(url("settings:sales:stage_create", pipeline.pk),
                                         {"name": "大单", "kind": "open", "probability": 50, "required_fields": ["owner"]})
    assert response.status_code == 200 and response.context["form"].errors["required_fields"]
    assert snapshot() == before


def test_a_director_reorders_stages_by_drag_and_drop(client_for, director, pipeline):
    ids = list(pipeline.stages.order_by("order", "id").values_list("pk", flat=True))
    new_order = [ids[1], ids[0], *ids[2:]]
    response = client_for(director).post(url("settings:sales:stages_reorder", pipeline.pk), {"stage_ids": new_order})
    assert response.status_code == 200
    assert list(pipeline.stages.order_by("order", "id").values_list("pk", flat=True)) == new_order
    page = response.content.decode()
    assert 'id="stage-list"' in page and "<html" not in page  # the list alone, for the script to swap in
    assert page.index("方案评审") < page.index("初步接触")


def test_a_stale_order_is_refused_with_409_and_changes_nothing(english_client_for, director, pipeline):
    ids = list(pipeline.stages.order_by("order", "id").values_list("pk", flat=True))
    before = snapshot()
    client = english_client_for(director)
    response = client.post(url("settings:sales:stages_reorder", pipeline.pk), {"stage_ids": list(reversed(ids[1:]))})
    assert response.status_code == 409
    assert response.content.decode() == "The stages changed meanwhile; reload the page and try again."
    response = client.post(url("settings:sales:stages_reorder", pipeline.pk), {"stage_ids": [*ids, ids[0]]})
    assert response.status_code == 409
    assert client.post(url("settings:sales:stages_reorder", pipeline.pk), {"stage_ids": ["x"]}).status_code == 400
    assert snapshot() == before


def test_the_arrows_move_a_stage_one_step(client_for, director, pipeline):
    review = pipeline.stages.get(name="方案评审")
    client = client_for(director)
    response = client.post(url("settings:sales:stage_move", pipeline.pk, review.pk), {"direction": "up"})
    assert response.status_code == 302
    assert ordered(pipeline)[:2] == ["方案评审", "初步接触"]
    client.post(url("settings:sales:stage_move", pipeline.pk, review.pk), {"direction": "up"})  # already first
    assert ordered(pipeline)[:2] == ["方案评审", "初步接触"]
    client.post(url("settings:sales:stage_move", pipeline.pk, review.pk), {"direction": "down"})
    assert ordered(pipeline)[:2] == ["初步接触", "方案评审"]


def test_a_director_retires_and_restores_a_stage(client_for, director, pipeline):
    review = pipeline.stages.get(name="方案评审")
    client = client_for(director)
    response = client.post(url("settings:sales:stage_retire", pipeline.pk, review.pk))
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.retired_at is not None
    page = client.get(url("settings:sales:pipeline", pipeline.pk)).content.decode()
    assert 'data-testid="retired"' in page and url("settings:sales:stage_restore", pipeline.pk, review.pk) in page

    client.post(url("settings:sales:stage_restore", pipeline.pk, review.pk))
    review.refresh_from_db()
    assert review.retired_at is None


def test_the_last_open_stage_cannot_be_retired(english_client_for, director, pipeline):
    client = english_client_for(director)
    first, review = pipeline.stages.get(name="初步接触"), pipeline.stages.get(name="方案评审")
    client.post(url("settings:sales:stage_retire", pipeline.pk, review.pk))
    before = snapshot()
    response = client.post(url("settings:sales:stage_retire", pipeline.pk, first.pk), follow=True)
    assert "A pipeline needs at least one open stage." in response.content.decode()
    assert snapshot() == before


def test_a_director_edits_and_deletes_a_gate_item(client_for, director, pipeline, roles):
    review = pipeline.stages.get(name="方案评审")
    item = review.gate_items.get()
    client = client_for(director)
    response = client.post(url("settings:sales:gate_item_edit", pipeline.pk, review.pk, item.pk), {"label": "方案评审会"})
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.label, item.role) == ("方案评审会", None)

    response = client.post(url("settings:sales:gate_item_delete", pipeline.pk, review.pk, item.pk))
    assert response.status_code == 302
    assert not GateItem.objects.filter(pk=item.pk).exists()


def test_the_stages_page_loads_the_drag_and_drop_script(client_for, director, pipeline):
    page = client_for(director).get(url("settings:sales:pipeline", pipeline.pk)).content.decode()
    assert "vendor/sortablejs/Sortable.min.js" in page and "js/sales_settings.js" in page
    assert url("settings:sales:stages_reorder", pipeline.pk) in page and "csrfmiddlewaretoken" in page


# Products --------------------------------------------------------------------------------------

def test_a_director_creates_and_edits_a_product(client_for, director):
    client = client_for(director)
    response = client.post(url("settings:sales:product_create"), {
        "code": "CRM-PRO", "name": "CRM 专业版", "unit": "用户/年", "list_price": "1200.50", "is_active": "on"})
    assert response.status_code == 302 and response["Location"] == url("settings:sales:products")
    product = Product.objects.get(code="CRM-PRO")
    assert (product.name, product.unit, product.list_price, product.is_active) == (
        "CRM 专业版", "用户/年", Decimal("1200.50"), True)

    response = client.post(url("settings:sales:product_edit", product.pk), {
        "code": "CRM-PRO", "name": "CRM 专业版 2025", "unit": "用户/年", "list_price": "1300"})
    assert response.status_code == 302
    product.refresh_from_db()
    assert (product.name, product.list_price, product.is_active) == ("CRM 专业版 2025", Decimal(1300), False)
    page = client.get(url("settings:sales:products")).content.decode()
    assert "CRM-PRO" in page and "CRM 专业版 2025" in page


@pytest.mark.parametrize("editing", [False, True])
def test_a_duplicate_product_code_is_refused_with_its_reason(english_client_for, director, product, editing):
    other = services.product_save(by=director, code="ERP-PRO", name="ERP 专业版")
    target = url("settings:sales:product_edit", other.pk) if editing else url("settings:sales:product_create")
    before = snapshot()
    response = english_client_for(director).post(target, {"code": "ERP-STD", "name": "重复", "list_price": "1"})
    assert response.status_code == 200
    assert "The code ERP-STD is taken." in response.content.decode()
    assert snapshot() == before


# Access ----------------------------------------------------------------------------------------

def settings_routes():
    return sorted((name, route) for name, route in named_routes() if name.startswith("settings:sales:"))


ROUTES = settings_routes()
POST_ONLY = {"settings:sales:stages_reorder", "settings:sales:stage_move", "settings:sales:stage_retire",
             "settings:sales:stage_restore", "settings:sales:gate_item_delete",
             "settings:sales:discount_rule_toggle", "settings:sales:discount_rule_delete"}


def fill(route, **ids):
    for name, pk in ids.items():
        route = route.replace(f"<int:{name}>", str(pk)).replace(f"<str:{name}>", str(pk))
    assert "<" not in route, route
    return "/" + route


@pytest.fixture
def ids(pipeline, product):
    stage = pipeline.stages.get(name="方案评审")
    rule = DiscountRule.objects.create(over_percent=40, approver="manager")
    return {"pipeline_pk": pipeline.pk, "stage_pk": stage.pk, "item_pk": stage.gate_items.get().pk,
            "product_pk": product.pk, "rule_pk": rule.pk, "kind": "quote"}


def test_it_found_the_settings_routes():
    names = {name for name, _route in ROUTES}
    assert {"settings:sales:pipelines", "settings:sales:pipeline", "settings:sales:stages_reorder",
            "settings:sales:gate_item_delete", "settings:sales:products", "settings:sales:product_edit"} <= names
    assert POST_ONLY <= names


@pytest.mark.parametrize("persona", ["rep_east", "manager_east"])
@pytest.mark.parametrize("name, route", ROUTES, ids=[r[0] for r in ROUTES])
def test_people_without_the_capability_get_403_and_change_nothing(person, client_for, ids, roles, persona,
                                                                   name, route):
    target = fill(route, **ids)
    stage_ids = list(Stage.objects.order_by("-pk").values_list("pk", flat=True))
    before = snapshot()
    client = client_for(person(persona))
    assert client.get(target).status_code == 403
    response = client.post(target, {"name": "被改了", "code": "X", "label": "被改了", "probability": 5,
                                    "kind": "open", "list_price": "1", "direction": "up", "stage_ids": stage_ids})
    assert response.status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("name, route", ROUTES, ids=[r[0] for r in ROUTES])
def test_a_director_opens_every_page_and_post_only_urls_refuse_get(client_for, director, ids, name, route):
    response = client_for(director).get(fill(route, **ids))
    if name in POST_ONLY:
        assert response.status_code == 405
    else:
        assert response.status_code == 200
        assert b'data-testid="settings-pipelines"' in response.content


@pytest.mark.parametrize("name, route", [r for r in ROUTES if "<int:stage_pk>" in r[1]],
                         ids=[r[0] for r in ROUTES if "<int:stage_pk>" in r[1]])
def test_a_stage_or_item_under_another_pipeline_is_a_404(client_for, director, ids, name, route):
    other = services.pipeline_save(by=director, name="渠道销售")
    other_stage = other.stages.get(kind=StageKind.OPEN)
    other_item = services.gate_item_save(by=director, stage=other_stage, label="渠道备案")
    client = client_for(director)
    wrong = [
        fill(route, **{**ids, "pipeline_pk": other.pk}),  # this pipeline's stage under another pipeline
        fill(route, **{**ids, "stage_pk": other_stage.pk, "item_pk": other_item.pk}),  # and the other way round
    ]
    if "<int:item_pk>" in route:
        wrong.append(fill(route, **{**ids, "item_pk": other_item.pk}))  # another stage's item
    before = snapshot()
    for target in wrong:
        for method in ("get", "post"):
            response = getattr(client, method)(target, {"label": "x", "name": "x", "probability": 1, "kind": "open",
                                                        "direction": "down"})
            assert response.status_code in ((404, 405) if method == "get" else (404,)), (target, method)
    assert snapshot() == before


def test_the_settings_start_page_shows_a_director_the_sales_section(client_for, director):
    response = client_for(director).get(reverse("settings:index"))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="overview-sales"' in page and url("settings:sales:pipelines") in page
    assert 'data-testid="overview-accounts"' not in page


def test_the_settings_navigation_shows_pipelines_and_products_to_holders_only(client_for, admin, director):
    for user in (admin, director):
        page = client_for(user).get(url("settings:sales:products")).content.decode()
        assert 'data-testid="settings-pipelines"' in page and 'data-testid="settings-products"' in page
    page = client_for(admin).get(reverse("settings:accounts:users")).content.decode()
    assert 'data-testid="settings-pipelines"' in page
    director_page = client_for(director).get(url("settings:sales:pipelines")).content.decode()
    assert 'data-testid="settings-picklists"' not in director_page


# Query counts ----------------------------------------------------------------------------------

def grow(pipeline, director, stages):
    """Add stages, each with a required field and two checklist items (one with a role)."""
    role = Role.objects.get(name="销售代表")
    for n in range(stages):
        stage = services.stage_save(by=director, pipeline=pipeline, name=f"阶段{n}", probability=20,
                                    stale_after_days=7, required_fields=["amount"])
        services.gate_item_save(by=director, stage=stage, label=f"检查{n}", role=role)
        services.gate_item_save(by=director, stage=stage, label=f"确认{n}")


def count_queries(client, target):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(target).status_code == 200
    return len(queries)


@pytest.mark.parametrize("page", ["settings:sales:pipelines", "settings:sales:pipeline"])
def test_the_pages_keep_their_query_count_however_many_stages(client_for, director, pipeline, teams, page,
                                                              django_assert_max_num_queries):
    pipeline.teams.set([teams["east"], teams["north"]])
    client = client_for(director)
    target = url(page, pipeline.pk) if page == "settings:sales:pipeline" else url(page)
    client.get(target)  # warm up the session and the access cache
    small = count_queries(client, target)
    grow(pipeline, director, 4)
    services.pipeline_save(by=director, name="渠道销售")
    assert count_queries(client, target) == small
    with django_assert_max_num_queries(7):
        client.get(target)


def test_the_products_page_keeps_its_query_count(client_for, director, django_assert_max_num_queries):
    for n in range(30):
        services.product_save(by=director, code=f"P{n:03}", name=f"产品{n}")
    client = client_for(director)
    client.get(url("settings:sales:products"))  # warm up the session and the access cache
    with django_assert_max_num_queries(7):
        response = client.get(url("settings:sales:products"))
    assert len(response.context["page"].object_list) == 30


def test_the_discount_rules_page_keeps_its_query_count_however_many_rules(client_for, director,
                                                                         django_assert_max_num_queries):
    role = Role.objects.get(name="销售代表")
    DiscountRule.objects.all().delete()  # the migration's two default rules, unless a flush removed them
    DiscountRule.objects.create(over_percent=10, approver="manager")
    client = client_for(director)
    target = url("settings:sales:discount_rules")
    client.get(target)  # warm up the session and the access cache
    small = count_queries(client, target)
    for n in range(1, 12):
        DiscountRule.objects.create(over_percent=10 + n, approver="role" if n % 2 else "manager",
                                    role=role if n % 2 else None)
    with django_assert_max_num_queries(small):
        response = client.get(target)
    assert response.status_code == 200 and len(response.context["rules"]) == 12
    with django_assert_max_num_queries(7):
        client.get(target)


def test_the_numbering_page_keeps_its_query_count_however_many_counters(client_for, director,
                                                                       django_assert_max_num_queries):
    from sales.models import Contract, DocumentNumbering, Quote
    from sales.services.numbering import next_number

    client = client_for(director)
    target = url("settings:sales:numbering")
    client.get(target)  # warm up the session and the access cache
    small = count_queries(client, target)
    for kind in ("quote", "contract"):
        services.numbering_save(by=director, kind=kind, pattern=kind[0].upper() + "{yyyy}{mm}-{seq:3}")
    for _n in range(5):
        next_number(DocumentNumbering.Kind.QUOTE, Quote)
        next_number(DocumentNumbering.Kind.CONTRACT, Contract)
    with django_assert_max_num_queries(small):
        response = client.get(target)
    assert response.status_code == 200
    assert [row["next"][-3:] for row in response.context["kinds"]] == ["006", "006"]
    with django_assert_max_num_queries(7):
        client.get(target)
