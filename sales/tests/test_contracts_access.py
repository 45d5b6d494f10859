"""Every contract and target URL, walked as people who should not get in: another team's rep gets 404
(and the list shows nothing of the contract), a reader of a shared deal gets 403 for every change,
a rep cannot reach the targets, and a 区域经理 of 华东 cannot set targets for 华北's people."""
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts import services as account_services
from conftest import named_routes
from sales import services
from sales.models import Contract, Instalment, Payment, Target

from .contract_factories import contract, days, win

pytestmark = pytest.mark.django_db

SECRET = "绝密华东合同"


def _routes(test):
    return sorted((name, route) for name, route in named_routes() if name.startswith("sales:") and test(route))


CONTRACT_ROUTES = _routes(lambda route: "contracts/" in route)
TARGET_ROUTES = _routes(lambda route: "targets/" in route)
WRITE_GETS = {"sales:contract_create", "sales:contract_plan", "sales:payment_create"}


@pytest.fixture
def secret(deal, rep_east):
    won = win(deal, rep_east)
    won.customer.name = SECRET + "客户"
    won.customer.save()
    made = contract(won, rep_east, [(days(-3), 100), (days(30), 200)], title=SECRET, terms=SECRET)
    first = made.instalments.get(number=1)
    payment = services.payment_record(by=rep_east, instalment=first, amount=Decimal(40), received_on=days(0),
                                      note=SECRET)
    return {"deal": won, "contract": made, "instalment": first, "payment": payment}


def url_of(route, secret, target_pk=0):
    pk = secret["deal"].pk if "opportunities/" in route else secret["contract"].pk
    url = "/" + (route.replace("<int:pk>", str(target_pk or pk))
                 .replace("<int:instalment_pk>", str(secret["instalment"].pk))
                 .replace("<int:payment_pk>", str(secret["payment"].pk)))
    assert not re.search(r"<\w+:\w+>", url), url
    return url


def snapshot():
    return (list(Contract.objects.order_by("pk").values()), list(Instalment.objects.order_by("pk").values()),
            Payment.objects.count(), Target.objects.count())


POST = {"amount": "1", "received_on": "2026-01-01", "title": "x", "signed_on": "2026-01-01", "save": "1",
        "plan-TOTAL_FORMS": "1", "plan-INITIAL_FORMS": "0", "plan-0-due_on": "2026-01-01", "plan-0-amount": "1"}


def test_it_found_the_contract_and_target_routes():
    names = {name for name, _route in CONTRACT_ROUTES + TARGET_ROUTES}
    assert {"sales:contract_list", "sales:contract_detail", "sales:contract_create", "sales:contract_plan",
            "sales:contract_cancel", "sales:payment_create", "sales:payment_delete", "sales:target_list",
            "sales:target_delete"} <= names


@pytest.mark.parametrize("name, route", CONTRACT_ROUTES, ids=[r[0] for r in CONTRACT_ROUTES])
def test_another_teams_rep_gets_404_and_sees_nothing(client_for, rep_west, secret, name, route):
    url = url_of(route, secret)
    before = snapshot()
    client = client_for(rep_west)
    for method in ("get", "post"):
        response = getattr(client, method)(url, POST)
        if "<int:" in route:
            assert response.status_code in (404, 405), (name, method, response.status_code)
        else:
            assert response.status_code in (200, 405), (name, method, response.status_code)
        assert SECRET not in response.content.decode()
    assert snapshot() == before


@pytest.mark.parametrize("name, route", [r for r in CONTRACT_ROUTES if "<int:" in r[1]],
                         ids=[r[0] for r in CONTRACT_ROUTES if "<int:" in r[1]])
def test_a_reader_of_a_shared_deal_gets_403_for_every_change(client_for, rep_east, rep_west, secret, name, route):
    account_services.share_create(obj=secret["deal"], by=rep_east, user=rep_west)
    url = url_of(route, secret)
    before = snapshot()
    client = client_for(rep_west)
    if name == "sales:contract_detail":
        assert client.get(url).status_code == 200
        return
    if name in WRITE_GETS:
        assert client.get(url).status_code == 403, name
    assert client.post(url, POST).status_code == 403, name
    assert snapshot() == before


def test_the_owner_reaches_every_contract_page(client_for, rep_east, secret):
    client = client_for(rep_east)
    for name, route in CONTRACT_ROUTES:
        if name in WRITE_GETS or name in ("sales:contract_list", "sales:contract_detail"):
            assert client.get(url_of(route, secret)).status_code == 200, name


# Targets -----------------------------------------------------------------------------------------

@pytest.fixture
def north_target(director, rep_west):
    return services.target_save(by=director, period="month", starts_on=days(0), user=rep_west, amount=Decimal(900),
                                count=3)


@pytest.mark.parametrize("name, route", TARGET_ROUTES, ids=[r[0] for r in TARGET_ROUTES])
def test_a_rep_cannot_reach_the_targets(client_for, rep_east, north_target, name, route):
    url = "/" + route.replace("<int:pk>", str(north_target.pk))
    client = client_for(rep_east)
    for method in ("get", "post"):
        response = getattr(client, method)(url, {f"user-{rep_east.pk}-amount": "1"})
        assert response.status_code in (403, 405), (name, method, response.status_code)
    assert list(Target.objects.values_list("pk", flat=True)) == [north_target.pk]


def test_an_east_manager_neither_sees_nor_sets_north_targets(client_for, manager_east, rep_west, rep_east, teams,
                                                             north_target):
    client = client_for(manager_east)
    response = client.get(reverse("sales:target_list"))
    assert response.status_code == 200
    shown = {(row.kind, row.subject.pk) for row, _amount, _count in response.context["rows"]}
    assert ("user", rep_east.pk) in shown and ("team", teams["shanghai"].pk) in shown
    assert ("user", rep_west.pk) not in shown and ("team", teams["north"].pk) not in shown
    assert rep_west.username not in response.content.decode()
    for key in (f"user-{rep_west.pk}-amount", f"team-{teams['north'].pk}-amount", f"team-{teams['beijing'].pk}-count"):
        response = client.post(reverse("sales:target_list"), {"period": "month", "start": days(0).isoformat(),
                                                               key: "5", f"user-{rep_east.pk}-amount": "100"})
        assert response.status_code == 422 and response.context["form"].non_field_errors()
    assert list(Target.objects.values_list("pk", flat=True)) == [north_target.pk]
    assert client.post(reverse("sales:target_delete", args=[north_target.pk])).status_code == 404
    assert Target.objects.filter(pk=north_target.pk).exists()
