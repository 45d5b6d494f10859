"""Every sales URL that names a deal (and the board's, naming a pipeline and a stage), each filled with a
real record of its kind, walked on GET and POST:

- as another team's rep: 404 on every deal URL, nothing of the deal in any answer, nothing changed;
- as the deal's owner: neither 404 nor 403 on the same URLs (the control: no case passes by accident);
- as a reader of the deal shared read-only: the deal opens, every change is refused (403; a gate item's
  tick, which its role's holders may give on a deal they only see, is refused in place) and nothing
  changes.

Every other sales URL that takes an id is walked by the grid of its own kind (quotes, contracts and
targets, settings): the last test checks that none is left out."""
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import Role
from accounts.services import share_create
from conftest import named_routes
from crm.tests.factories import CustomerFactory
from sales import services
from sales.models import GateTick, Opportunity, OpportunityLine, Quote, StageKind, StageVisit

pytestmark = pytest.mark.django_db

SECRET = "绝密华东商机"


def deal_routes():
    for name, route in named_routes():
        if name.startswith("sales:") and ("opportunities/<int:pk>/" in route or "<int:pipeline_pk>" in route):
            yield name, route


ROUTES = sorted(deal_routes())
BOARD = {"sales:board", "sales:column_more"}  # lists: they open for anyone in sales, showing what each may see
READS = {"sales:opportunity_detail", *BOARD}
WRITES = sorted(name for name, _route in ROUTES if name not in READS)


@pytest.fixture
def secret(director, rep_east):
    pipeline = services.pipeline_save(by=director, name="项目型销售")
    review = services.stage_save(by=director, pipeline=pipeline, name="方案评审", probability=40)
    item = services.gate_item_save(by=director, stage=review, label="技术评审", role=Role.objects.create(name="技术评审"))
    services.product_save(by=director, code="P-1", name="仓储系统", list_price=Decimal(1000))
    customer = CustomerFactory(owner=rep_east, name="华东客户")
    deal = services.opportunity_create(by=rep_east, customer=customer, pipeline=pipeline, name=SECRET,
                                       amount=Decimal(1000))
    return {"deal": deal, "pk": deal.pk, "item_pk": item.pk, "pipeline_pk": pipeline.pk,
            "stage_pk": deal.stage_id, "won": pipeline.stages.get(kind=StageKind.WON).pk}


def url_of(route, secret):
    url = "/" + re.sub(r"<int:(\w+)>", lambda match: str(secret[match.group(1)]), route)
    assert not re.search(r"<\w+:\w+>", url), url
    return url


def posted(secret):
    return {"stage": secret["won"], "ticked": "1", "probability": 99, "reason": "x", "from": "board", "name": "改名",
            "amount": "1", "title": "x", "version": secret["deal"].version}


def snapshot():
    return (list(Opportunity.objects.order_by("pk").values()), list(GateTick.objects.values()),
            StageVisit.objects.count(), OpportunityLine.objects.count(), Quote.objects.count())


def test_it_found_the_deal_routes():
    names = {name for name, _route in ROUTES}
    assert {"sales:opportunity_detail", "sales:opportunity_move", "sales:opportunity_tick",
            "sales:opportunity_probability", "sales:opportunity_lines", "sales:quote_create",
            "sales:contract_create", "sales:board"} <= names


@pytest.mark.parametrize("name, route", ROUTES, ids=[r[0] for r in ROUTES])
def test_another_teams_rep_gets_404_and_changes_nothing(client_for, rep_west, secret, name, route):
    url = url_of(route, secret)
    before = snapshot()
    client = client_for(rep_west)
    for method in ("get", "post"):
        response = getattr(client, method)(url, posted(secret))
        if name in BOARD:  # the board opens (it reads on any method), without the deal
            expected = {200}
        else:
            expected = {404, 405} if method == "get" else {404}
        assert response.status_code in expected, (name, method, response.status_code)
        assert SECRET not in response.content.decode()
    assert snapshot() == before


@pytest.mark.parametrize("name, route", ROUTES, ids=[r[0] for r in ROUTES])
def test_the_owner_reaches_the_same_urls(client_for, rep_east, secret, name, route):
    client = client_for(rep_east)
    url = url_of(route, secret)
    for method in ("get", "post"):
        response = getattr(client, method)(url, posted(secret))
        assert response.status_code not in (403, 404), (name, method, response.status_code)
    if name in READS:
        assert SECRET in client.get(url).content.decode()


@pytest.mark.parametrize("name", WRITES)
def test_a_reader_of_a_shared_deal_is_refused_every_change(client_for, rep_east, rep_west, secret, name):
    share_create(obj=secret["deal"], by=rep_east, user=rep_west)
    client = client_for(rep_west)
    assert SECRET in client.get(secret["deal"].get_absolute_url()).content.decode()
    url = url_of(dict(ROUTES)[name], secret)
    before = snapshot()
    for method in ("get", "post"):
        response = getattr(client, method)(url, posted(secret))
        if name == "sales:opportunity_tick" and method == "post":  # refused in place, with the reason
            assert response.status_code == 302 and response["Location"].endswith("#gates")
            continue
        assert response.status_code in ({403, 405} if method == "get" else {403}), (name, method,
                                                                                   response.status_code)
    assert snapshot() == before


def test_every_sales_url_with_an_id_is_in_a_grid():
    """The deal grid above; the quotes', the contracts' and targets', the settings' in their modules."""
    from sales.tests.test_contracts_access import CONTRACT_ROUTES, TARGET_ROUTES
    from sales.tests.test_quotes_access import ROUTES as QUOTE_ROUTES
    from sales.tests.test_settings_views import ROUTES as SETTINGS_ROUTES

    walked = {name for name, _route in [*ROUTES, *QUOTE_ROUTES, *CONTRACT_ROUTES, *TARGET_ROUTES, *SETTINGS_ROUTES]}
    with_ids = {name for name, route in named_routes()
                if name.startswith(("sales:", "settings:sales:")) and re.search(r"<\w+:\w+>", route)}
    assert with_ids - walked == set()


def test_the_board_shows_the_deal_to_its_side_only(client_for, rep_east, rep_west, secret):
    board = reverse("sales:board", args=[secret["pipeline_pk"]])
    assert SECRET in client_for(rep_east).get(board).content.decode()
    assert SECRET not in client_for(rep_west).get(board).content.decode()
