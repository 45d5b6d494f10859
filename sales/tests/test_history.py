"""The sales records' history: gate items ticked and unticked, quote approvals asked and decided,
payments recorded and deleted, targets deleted, each with who and why and readable on the page of
the record they belong to; and a deal's page names its customer and contact only to who may open
them."""
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone, translation

from accounts.models import Share
from crm.lib.audit import event_model
from crm.tests.factories import ContactFactory
from sales import services
from sales.models import GateItem, GateTick, Opportunity, Payment, QuoteApproval, Target
from sales.selectors import contract_history, deal_history, quote_history
from sales.tests.contract_factories import contract, days, win

pytestmark = [pytest.mark.django_db, pytest.mark.dates]


def said(model, pk, label):
    """(user, action) of the record's last event of that label."""
    events = (event_model(model).objects.filter(pgh_obj_id=pk, pgh_label=label).select_related("pgh_context")
              .order_by("-pgh_id"))
    assert events, f"no {label} event of {model.__name__} #{pk}"
    return events[0].pgh_context.metadata.get("user"), events[0].pgh_context.metadata.get("action")


@pytest.fixture
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def review(deal, rep_east):
    """The gate item 技术评审 of the pipeline's second stage; rep_east holds its role."""
    item = GateItem.objects.select_related("stage", "role").get(label="技术评审")
    rep_east.roles.add(item.role)
    return item


@pytest.fixture
def erp(director):
    return services.product_save(by=director, code="ERP-STD", name="ERP 标准版", list_price=Decimal("100000"))


def test_a_gate_item_ticked_and_unticked_leaves_both_on_the_deals_history(english_client_for, deal, review,
                                                                        rep_east, rep_east2):
    services.opportunity_tick(opportunity=deal, item=review, by=rep_east)
    tick = GateTick.objects.get(opportunity=deal).pk

    services.opportunity_tick(opportunity=deal, item=review, by=rep_east, ticked=False)

    assert said(GateTick, tick, "insert") == (rep_east.pk, "opportunity_tick")
    assert said(GateTick, tick, "delete") == (rep_east.pk, "opportunity_tick")
    page = english_client_for(rep_east2).get(deal.get_absolute_url())
    titles = {(str(e["title"]), e["who"]) for e in page.context["history"]}
    assert {("unticked 技术评审", str(rep_east)), ("ticked 技术评审", str(rep_east))} <= titles
    assert "unticked 技术评审" in page.content.decode()


def test_a_quote_approval_asked_and_decided_is_on_the_quotes_history(deal, rep_east, manager_east, rules, erp,
                                                                    english):
    quote = services.quote_create(opportunity=deal, by=rep_east)
    quote = services.quote_update(quote=quote, by=rep_east, lines=[
        {"product": erp, "quantity": Decimal(1), "unit_price": None, "discount_percent": Decimal(15),
         "description": ""}])
    quote = services.quote_submit(quote=quote, by=rep_east)
    approval = quote.approvals.get()

    services.approval_decide(approval=approval, by=manager_east, approve=True, comment="同意")

    assert said(QuoteApproval, approval.pk, "insert") == (rep_east.pk, "quote_submit")
    assert said(QuoteApproval, approval.pk, "update") == (manager_east.pk, "approval_decide")
    decided = next(e for e in quote_history(rep_east, quote) if e["model"] is QuoteApproval and e["kind"] == "update")
    assert decided["who"] == str(manager_east)
    assert ("decision", "Pending", "Approved") in decided["changes"]
    assert ("comment", None, "同意") in decided["changes"]


def test_a_deleted_payment_stays_on_the_contracts_history(english_client_for, deal, rep_east, rep_east2):
    win(deal, rep_east)
    signed = contract(deal, rep_east, [(days(30), "500000")])
    instalment = signed.instalments.get()
    payment = services.payment_record(by=rep_east, instalment=instalment, amount=Decimal("1000"),
                                      received_on=days(0))
    pk = payment.pk

    services.payment_delete(by=rep_east, payment=payment)

    assert not Payment.objects.filter(pk=pk).exists()
    assert said(Payment, pk, "delete") == (rep_east.pk, "payment_delete")
    page = english_client_for(rep_east2).get(signed.get_absolute_url())
    deleted = [e for e in page.context["history"] if str(e["title"]) == "deleted payment 1000.00"]
    assert len(deleted) == 1 and deleted[0]["who"] == str(rep_east)
    assert ("amount", Decimal("1000.00"), None) in deleted[0]["changes"]
    assert sorted(e["kind"] for e in contract_history(rep_east, signed) if e["model"] is Payment) == ["delete", "insert"]


def test_a_deleted_target_leaves_who_deleted_it(manager_east, rep_east):
    target = services.target_save(by=manager_east, period="month", starts_on=timezone.localdate().replace(day=1),
                                  user=rep_east, amount=Decimal("100000"), count=2)
    pk = target.pk

    services.target_delete(by=manager_east, target=target)

    assert said(Target, pk, "insert") == (manager_east.pk, "target_save")
    assert said(Target, pk, "delete") == (manager_east.pk, "target_delete")


# A deal shared read-only, and the names it shows -----------------------------------------------------

def shared_read_only(deal, user):
    return Share.objects.create(content_type=ContentType.objects.get_for_model(Opportunity), object_id=deal.pk,
                                user=user, can_edit=False)


def test_a_deal_shared_read_only_names_its_customer_and_contact_only_to_who_may_open_them(client_for, deal,
                                                                                        rep_east, rep_west):
    contact = ContactFactory(customer=deal.customer, name="王建国")
    services.opportunity_update(opportunity=deal, by=rep_east, contact=contact)
    shared_read_only(deal, rep_west)

    response = client_for(rep_west).get(deal.get_absolute_url())

    assert response.status_code == 200
    page = response.content.decode()
    assert "上海申通物流有限公司" not in page and "王建国" not in page
    assert deal.customer.get_absolute_url() not in page
    assert page.count("无法打开的记录") >= 3  # the customer, the contact, the contact in the history
    assert client_for(rep_west).get(deal.customer.get_absolute_url()).status_code == 404
    own = client_for(rep_east).get(deal.get_absolute_url()).content.decode()
    assert "上海申通物流有限公司" in own and "王建国" in own and deal.customer.get_absolute_url() in own


def test_the_deals_history_is_read_with_a_fixed_number_of_queries(client_for, deal, review, erp, rep_east,
                                                                 django_assert_max_num_queries):
    client = client_for(rep_east)
    # Each model the history names once from the start (users, products, contacts, gate items): one query each.
    services.opportunity_lines_save(opportunity=deal, by=rep_east, lines=[{"product": erp, "quantity": Decimal(1)}])
    services.opportunity_tick(opportunity=deal, item=review, by=rep_east)
    services.opportunity_update(opportunity=deal, by=rep_east, contact=ContactFactory(customer=deal.customer))
    with django_assert_max_num_queries(24) as few:
        client.get(deal.get_absolute_url())
    for n in range(5):
        services.opportunity_tick(opportunity=deal, item=review, by=rep_east, ticked=n % 2 == 1)
        services.opportunity_update(opportunity=deal, by=rep_east, next_step=f"第{n}步",
                                    contact=ContactFactory(customer=deal.customer, name=f"联系人{n}"))
        services.opportunity_lines_save(opportunity=deal, by=rep_east, lines=[
            {"product": erp, "quantity": Decimal(n + 1)}])
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(deal.get_absolute_url())
    assert "联系人4" in response.content.decode()
    assert len(deal_history(rep_east, deal)) > 10
