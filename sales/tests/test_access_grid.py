"""Every sales URL that names a deal, walked as another team's rep: 404 on GET and POST, nothing of the
deal in the answer, nothing changed."""
import re
from decimal import Decimal

import pytest

from accounts.models import Role
from conftest import named_routes
from crm.tests.factories import CustomerFactory
from sales import services
from sales.models import GateTick, Opportunity, StageKind, StageVisit

pytestmark = pytest.mark.django_db

SECRET = "绝密华东商机"


def deal_routes():
    for name, route in named_routes():
        if name.startswith("sales:") and "opportunities/<int:pk>/" in route:
            yield name, route


ROUTES = sorted(deal_routes())


@pytest.fixture
def secret(director, rep_east):
    pipeline = services.pipeline_save(by=director, name="项目型销售")
    review = services.stage_save(by=director, pipeline=pipeline, name="方案评审", probability=40)
    item = services.gate_item_save(by=director, stage=review, label="技术评审", role=Role.objects.get(name="销售代表"))
    customer = CustomerFactory(owner=rep_east, name="华东客户")
    deal = services.opportunity_create(by=rep_east, customer=customer, pipeline=pipeline, name=SECRET,
                                       amount=Decimal(1000))
    return {"pk": deal.pk, "item_pk": item.pk, "stage": pipeline.stages.get(kind=StageKind.WON).pk}


def test_it_found_the_deal_routes():
    names = {name for name, _route in ROUTES}
    assert {"sales:opportunity_detail", "sales:opportunity_move", "sales:opportunity_tick",
            "sales:opportunity_probability"} <= names


@pytest.mark.parametrize("name, route", ROUTES, ids=[r[0] for r in ROUTES])
def test_it_gives_another_teams_rep_404_and_changes_nothing(client_for, rep_west, secret, name, route):
    url = "/" + route.replace("<int:pk>", str(secret["pk"])).replace("<int:item_pk>", str(secret["item_pk"]))
    assert not re.search(r"<\w+:\w+>", url), url
    before = (list(Opportunity.objects.values()), GateTick.objects.count(), StageVisit.objects.count())
    client = client_for(rep_west)
    for method in ("get", "post"):
        response = getattr(client, method)(url, {"stage": secret["stage"], "ticked": "1", "probability": 99,
                                                 "reason": "x", "from": "board"})
        assert response.status_code in (404, 405), (name, method, response.status_code)
        assert SECRET not in response.content.decode()
    assert before == (list(Opportunity.objects.values()), GateTick.objects.count(), StageVisit.objects.count())
