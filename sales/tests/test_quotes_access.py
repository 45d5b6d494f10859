"""Every quote and approval URL, walked as people outside the deal's scope: another team's rep and
another team's manager get 404 on GET and POST, see nothing of the quote, and change nothing. A
viewer the deal is shared with read-only sees the quote but gets 403 on its writes; someone who sees
the quote but is not its approver gets 403 on deciding. The inbox lists only visible quotes."""
import re
from decimal import Decimal

import pytest

from accounts.capabilities import Scope
from accounts.models import Role, Share
from accounts.services import share_create
from conftest import named_routes
from crm.tests.factories import CustomerFactory
from sales import services
from sales.models import DiscountRule, DocumentNumbering, Opportunity, Quote, QuoteApproval, QuoteLine
from sales.seed import seed_sales_defaults

pytestmark = pytest.mark.django_db

SECRET = "绝密华东报价"


def quote_routes():
    for name, route in named_routes():
        if name.startswith(("sales:quote_", "sales:approval_")) and "opportunities/" not in route:
            yield name, route


ROUTES = sorted(quote_routes())
WRITES = {"sales:quote_edit", "sales:quote_submit", "sales:quote_withdraw", "sales:quote_send", "sales:quote_accept"}


@pytest.fixture
def secret(roles, director, rep_east, pipeline):
    DiscountRule.objects.all().delete()
    seed_sales_defaults(DocumentNumbering, DiscountRule, Role)
    product = services.product_save(by=director, code="SECRET-1", name="保密产品", list_price=Decimal(1000))
    customer = CustomerFactory(owner=rep_east, name="华东保密客户")
    deal = services.opportunity_create(by=rep_east, customer=customer, pipeline=pipeline, name="华东商机")
    quote = services.quote_create(opportunity=deal, by=rep_east, title=SECRET)
    quote = services.quote_update(quote=quote, by=rep_east, terms=SECRET, lines=[
        {"product": product, "quantity": Decimal(1), "discount_percent": Decimal(30)}])
    quote = services.quote_submit(quote=quote, by=rep_east)
    return {"deal": deal, "quote": quote, "approval": quote.approvals.filter(approver__isnull=False).get()}


def snapshot():
    return (list(Quote.objects.order_by("pk").values()), list(QuoteLine.objects.order_by("pk").values()),
            list(QuoteApproval.objects.order_by("pk").values()), list(Opportunity.objects.order_by("pk").values()))


def fill(route, secret):
    pk = secret["approval"].pk if "approvals/<int:pk>" in route else secret["quote"].pk
    path = "/" + route.replace("<int:pk>", str(pk))
    assert not re.search(r"<\w+:\w+>", path), path
    return path


def test_it_found_the_quote_routes():
    assert {name for name, _route in ROUTES} >= {
        "sales:quote_list", "sales:quote_detail", "sales:quote_edit", "sales:quote_submit", "sales:quote_withdraw",
        "sales:quote_send", "sales:quote_accept", "sales:quote_print", "sales:approval_inbox", "sales:approval_decide"}


@pytest.mark.parametrize("persona", ["rep_west", "manager_west"])
@pytest.mark.parametrize("name, route", ROUTES, ids=[r[0] for r in ROUTES])
def test_people_outside_the_deal_get_404_and_nothing(person, client_for, secret, persona, name, route):
    path = fill(route, secret)
    before = snapshot()
    client = client_for(person(persona))
    for method in ("get", "post"):
        response = getattr(client, method)(path, {"decision": "approve", "comment": "x", "title": "x",
                                                  "version": secret["quote"].version})
        page = response.content.decode()
        assert SECRET not in page and secret["quote"].number not in page, (name, method)
        if "<int:pk>" in route:
            assert response.status_code in (404, 405), (name, method, response.status_code)
        else:  # the list and the inbox open, empty of this quote
            assert response.status_code in (200, 405), (name, method, response.status_code)
    assert snapshot() == before


@pytest.mark.parametrize("name", sorted(WRITES))
def test_a_read_only_viewer_sees_the_quote_but_gets_403_on_its_writes(client_for, secret, rep_west, name):
    share_create(obj=secret["deal"], by=secret["deal"].owner, user=rep_west)
    client = client_for(rep_west)
    assert SECRET in client.get(f"/sales/quotes/{secret['quote'].pk}/").content.decode()
    before = snapshot()
    path = fill(dict(ROUTES)[f"sales:{name.split(':')[1]}"], secret)
    for method in ("get", "post"):
        response = getattr(client, method)(path, {"version": secret["quote"].version})
        assert response.status_code in (403, 405), (name, method, response.status_code)
    assert snapshot() == before


def test_someone_who_sees_the_quote_but_is_not_its_approver_gets_403(client_for, secret, rep_east2, director):
    before = snapshot()
    for outsider in (rep_east2, director):  # the manager's approval: not the director's either
        response = client_for(outsider).post(f"/sales/approvals/{secret['approval'].pk}/decide/",
                                             {"decision": "approve"})
        assert response.status_code == 403
    assert snapshot() == before


def test_the_inbox_lists_only_quotes_the_approver_may_see(client_for, secret, manager_west, roles):
    """A role approval whose holder cannot see the deal stays out of that holder's inbox."""
    approvers = Role.objects.create(name="华北审批", sales_scope=Scope.TEAM)
    manager_west.roles.add(approvers)
    QuoteApproval.objects.filter(quote=secret["quote"], approver_role__isnull=False).update(approver_role=approvers)
    assert client_for(manager_west).get("/sales/approvals/").context["approvals"] == []
    Share.objects.all().delete()
    share_create(obj=secret["deal"], by=secret["deal"].owner, user=manager_west)
    listed = client_for(manager_west).get("/sales/approvals/").context["approvals"]
    assert [a.quote_id for a in listed] == [secret["quote"].pk]
