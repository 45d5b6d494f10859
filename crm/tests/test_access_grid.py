"""Every URL of the customer core that names a customer (or something hanging off one), walked as
another team's rep: 404 on every method, nothing changed, and nothing of the customer in any list,
search, count or export that rep can reach."""
import io
import re

import openpyxl
import pytest
from django.urls import reverse

from conftest import named_routes
from crm.models import Contact, Customer, FollowUp
from crm.tests.factories import ContactFactory, CustomerFactory, FollowUpFactory

pytestmark = pytest.mark.django_db

SECRET_NAME = "绝密华东客户有限公司"
SECRET_PHONE = "+8613912398765"


def crm_routes():
    """(name, route, kwargs names) of every crm URL with an int argument."""
    for name, route in named_routes():
        if name.startswith("crm:") and "<int:" in route:
            yield name, route, re.findall(r"<int:(\w+)>", route)


ROUTES = sorted(crm_routes())


@pytest.fixture
def secret(rep_east):
    customer = CustomerFactory(name=SECRET_NAME, owner=rep_east, mobile=SECRET_PHONE, tags=["机密"])
    contact = ContactFactory(customer=customer, name="秘密联系人", mobile="+8613700000001")
    followup = FollowUpFactory(customer=customer, contact=contact, created_by=rep_east, summary="秘密跟进内容")
    return {"pk": customer.pk, "share_pk": 0, "contact_pk": contact.pk, "followup_pk": followup.pk,
            "customer": customer}


def fill(route, kwargs, secret):
    values = {}
    for name in kwargs:
        values[name] = secret.get(name, secret["pk"]) if name != "pk" else secret["pk"]
    path = route
    for name, value in values.items():
        path = path.replace(f"<int:{name}>", str(value))
    return "/" + re.sub(r"<\w+:\w+>|<\w+>", "x", path)


def test_it_found_the_customer_routes():
    names = {name for name, _route, _kw in ROUTES}
    assert {"crm:customer_detail", "crm:customer_edit", "crm:customer_share", "crm:followup_create"} <= names


@pytest.mark.parametrize("name, route, kwargs", ROUTES, ids=[r[0] for r in ROUTES])
def test_it_gives_another_teams_rep_404_and_changes_nothing(client_for, rep_west, secret, name, route, kwargs):
    if not any(k in ("pk", "contact_pk", "followup_pk") for k in kwargs):
        pytest.skip("not keyed by a customer")
    url = fill(route, kwargs, secret)
    before = (list(Customer.objects.filter(pk=secret["pk"]).values()),
              Contact.objects.filter(customer_id=secret["pk"]).count(),
              FollowUp.objects.filter(customer_id=secret["pk"]).count())
    client = client_for(rep_west)
    for method in ("get", "post"):
        response = getattr(client, method)(url, {"summary": "x", "name": "x", "kind": "1"})
        assert response.status_code in (404, 405), (name, method, response.status_code)
        assert SECRET_NAME not in response.content.decode()
    after = (list(Customer.objects.filter(pk=secret["pk"]).values()),
             Contact.objects.filter(customer_id=secret["pk"]).count(),
             FollowUp.objects.filter(customer_id=secret["pk"]).count())
    assert before == after


@pytest.mark.parametrize("url_name, params", [
    ("crm:customer_list", {}),
    ("crm:customer_list", {"q": "绝密"}),
    ("crm:customer_list", {"q": "juemi"}),
    ("crm:customer_list", {"q": "3912398"}),
    ("crm:customer_list", {"tag": "机密"}),
    ("crm:customer_list", {"view": "overdue"}),
    ("crm:global_search", {"q": "绝密"}),
    ("crm:global_search", {"q": "秘密联系人"}),
    ("crm:my_day", {}),
    ("crm:pool_list", {}),
])
def test_it_leaks_nothing_into_lists_searches_and_counts(client_for, rep_west, secret, url_name, params):
    body = client_for(rep_west).get(reverse(url_name), params).content.decode()
    body = body.replace(f'value="{params.get("q", "")}"', "")  # the search box shows the typed term back
    assert SECRET_NAME not in body and "秘密联系人" not in body and "3912398765" not in body
    assert f"/customers/{secret['pk']}/" not in body


def test_it_leaks_nothing_into_an_export(client_for, rep_west, secret):
    """A rep of another team who may export (team scope) exports their list: the secret is not in it."""
    from accounts.models import Role

    rep_west.roles.add(Role.objects.create(name="导出者", capabilities=["crm.data:export"], customers_scope=30))
    CustomerFactory(name="北京自己的客户", owner=rep_west)
    response = client_for(rep_west).get(reverse("crm:customer_export"))
    assert response.status_code == 200
    content = b"".join(response.streaming_content) if response.streaming else response.content
    book = openpyxl.load_workbook(io.BytesIO(content))
    values = {str(cell.value) for row in book.active.iter_rows() for cell in row}
    assert "北京自己的客户" in values
    assert SECRET_NAME not in values
