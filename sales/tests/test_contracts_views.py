"""The contract pages: the list with its filters, a contract's page with its plan and payments, making
a contract from a won deal or an accepted quote (with the split helper), changing the plan, recording
and deleting payments, cancelling; the deal page's contracts panel; query counts pinned."""
from decimal import Decimal

import pytest
from django.urls import reverse

from crm.tests.factories import CustomerFactory
from sales import services
from sales.models import Contract, ContractStatus, Instalment, Payment

from .contract_factories import accepted_quote, contract, days, win

pytestmark = [pytest.mark.django_db, pytest.mark.dates]


@pytest.fixture
def won(deal, rep_east):
    return win(deal, rep_east)


def plan_post(rows, *, extra=None, prefix="plan"):
    """POST data of a plan formset with `rows` (dicts of id/due_on/amount/note/DELETE)."""
    data = {f"{prefix}-TOTAL_FORMS": str(len(rows)), f"{prefix}-INITIAL_FORMS": str(sum("id" in r for r in rows)),
            f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "60"}
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"{prefix}-{index}-{key}"] = str(value)
    data.update(extra or {})
    return data


def new_contract_post(rows, **fields):
    return plan_post(rows, extra={"title": "仓储系统合同", "amount": "", "signed_on": days(0).isoformat(),
                                  "starts_on": "", "ends_on": "", "terms": "", "save": "1", **fields})


# Creating ----------------------------------------------------------------------------------------

def test_a_rep_makes_a_contract_with_a_two_instalment_plan_from_a_won_deal(client_for, rep_east, won):
    client = client_for(rep_east)
    url = reverse("sales:contract_create", args=[won.pk])
    page = client.get(url)
    assert page.status_code == 200 and 'data-testid="contract-form"' in page.content.decode()
    response = client.post(url, new_contract_post([
        {"due_on": days(10).isoformat(), "amount": "200000", "note": "首付"},
        {"due_on": days(70).isoformat(), "amount": "300000", "note": ""},
        {"due_on": "", "amount": "", "note": ""}]))
    made = Contract.objects.get()
    assert response.status_code == 302 and response.url == made.get_absolute_url()
    assert made.amount == Decimal(500000) and made.opportunity == won
    assert list(made.instalments.values_list("amount", "note")) == [(Decimal(200000), "首付"), (Decimal(300000), "")]


def test_a_plan_that_does_not_add_up_is_refused_with_both_figures(english_client_for, rep_east, won):
    response = english_client_for(rep_east).post(reverse("sales:contract_create", args=[won.pk]), new_contract_post([
        {"due_on": days(10).isoformat(), "amount": "100000"}]))
    assert response.status_code == 422
    page = response.content.decode()
    assert "100,000.00" in page and "500,000.00" in page
    assert not Contract.objects.exists()


def test_a_half_filled_plan_row_is_refused(client_for, rep_east, won):
    response = client_for(rep_east).post(reverse("sales:contract_create", args=[won.pk]), new_contract_post([
        {"due_on": days(10).isoformat(), "amount": ""}]))
    assert response.status_code == 422 and not Contract.objects.exists()


def test_the_split_helper_proposes_even_monthly_instalments_without_saving(client_for, rep_east, won):
    response = client_for(rep_east).post(reverse("sales:contract_create", args=[won.pk]), new_contract_post(
        [], amount="1000", **{"split-count": "3", "split-first_due": "2027-01-31", "split": "1"}))
    assert response.status_code == 200 and not Contract.objects.exists()
    initial = [form.initial for form in response.context["plan"].forms if form.initial]
    assert [(row["due_on"].isoformat(), row["amount"]) for row in initial] == [
        ("2027-01-31", Decimal("333.33")), ("2027-02-28", Decimal("333.33")), ("2027-03-31", Decimal("333.34"))]


def test_a_contract_from_an_accepted_quote_of_an_open_deal(client_for, rep_east, deal):
    quote = accepted_quote(deal, "480000")
    client = client_for(rep_east)
    url = reverse("sales:contract_create", args=[deal.pk]) + f"?quote={quote.pk}"
    assert client.get(url).context["form"].initial["amount"] == Decimal(480000)
    response = client.post(url, new_contract_post([{"due_on": days(10).isoformat(), "amount": "480000"}],
                                                  quote=str(quote.pk)))
    assert response.status_code == 302
    assert Contract.objects.get().quote == quote


def test_an_open_deal_without_an_accepted_quote_says_why_there_is_no_form(client_for, rep_east, deal):
    response = client_for(rep_east).get(reverse("sales:contract_create", args=[deal.pk]))
    page = response.content.decode()
    assert 'data-testid="contract-problem"' in page and 'data-testid="contract-form"' not in page
    response = client_for(rep_east).post(reverse("sales:contract_create", args=[deal.pk]), new_contract_post([]))
    assert response.status_code == 422 and not Contract.objects.exists()


def test_a_quote_of_another_deal_is_not_found(client_for, rep_east, deal, pipeline):
    other = services.opportunity_create(by=rep_east, customer=deal.customer, pipeline=pipeline, name="另一单")
    quote = accepted_quote(other, "1000")
    response = client_for(rep_east).get(reverse("sales:contract_create", args=[deal.pk]) + f"?quote={quote.pk}")
    assert response.status_code == 404


# A contract's page -------------------------------------------------------------------------------

@pytest.fixture
def signed(won, rep_east):
    made = contract(won, rep_east, [(days(-5), 100000), (days(30), 150000), (days(60), 250000)])
    first, second, _third = made.instalments.order_by("number")
    services.payment_record(by=rep_east, instalment=first, amount=Decimal(100000), received_on=days(-6),
                            method="银行转账")
    services.payment_record(by=rep_east, instalment=second, amount=Decimal(50000), received_on=days(-1))
    return made


def test_the_contract_page_shows_the_plan_with_statuses_and_payments(client_for, rep_east, signed):
    response = client_for(rep_east).get(signed.get_absolute_url())
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('data-testid="instalment"') == 3 and page.count('data-testid="payment"') == 2
    assert [i.status for i in response.context["instalments"]] == ["paid", "partial", "due"]
    assert (response.context["paid"], response.context["outstanding"]) == (Decimal(150000), Decimal(350000))
    assert page.count('data-testid="record-payment"') == 2 and "银行转账" in page


def test_the_contract_page_keeps_its_query_count_however_many_instalments(client_for, rep_east, won,
                                                                         django_assert_max_num_queries):
    client = client_for(rep_east)
    small = contract(won, rep_east, [(days(10), 100)])
    client.get(small.get_absolute_url())
    big = contract(won, rep_east, [(days(n), 100) for n in range(1, 13)])
    for instalment in big.instalments.all()[:6]:
        services.payment_record(by=rep_east, instalment=instalment, amount=Decimal(40), received_on=days(0))
    # 8, and the history: its events, the names of who wrote them; whether the customer may be seen.
    with django_assert_max_num_queries(11):
        response = client.get(big.get_absolute_url())
    assert len(response.context["instalments"]) == 12


def test_recording_a_partial_payment_and_refusing_an_overpayment(client_for, rep_east, signed):
    client = client_for(rep_east)
    third = signed.instalments.get(number=3)
    url = reverse("sales:payment_create", args=[signed.pk, third.pk])
    assert client.get(url).context["form"].initial["amount"] == Decimal(250000)
    response = client.post(url, {"amount": "250000.01", "received_on": days(0).isoformat(), "method": "", "note": ""})
    assert response.status_code == 422 and response.context["form"].errors["amount"]
    response = client.post(url, {"amount": "1000", "received_on": days(0).isoformat(), "method": "现金", "note": ""})
    assert response.status_code == 302
    third.refresh_from_db()
    assert (third.paid, third.status) == (Decimal(1000), "partial")


def test_deleting_a_payment_and_cancelling_the_contract(client_for, rep_east, signed):
    client = client_for(rep_east)
    payment = Payment.objects.get(amount=Decimal(50000))
    assert client.post(reverse("sales:payment_delete", args=[signed.pk, payment.pk])).status_code == 302
    assert signed.instalments.get(number=2).status == "due"
    assert client.post(reverse("sales:contract_cancel", args=[signed.pk])).status_code == 302
    signed.refresh_from_db()
    assert signed.status == ContractStatus.CANCELLED
    page = client.get(signed.get_absolute_url()).content.decode()
    assert 'data-testid="record-payment"' not in page and 'data-testid="cancel-contract"' not in page


def test_changing_the_plan(client_for, rep_east, signed):
    client = client_for(rep_east)
    url = reverse("sales:contract_plan", args=[signed.pk])
    response = client.get(url)
    assert response.status_code == 200 and len(response.context["rows"]) == 5
    rows = [{"id": i.pk, "due_on": i.due_on.isoformat(), "amount": str(i.amount), "note": i.note}
            for i in signed.instalments.order_by("number")]
    rows[2]["DELETE"] = "on"
    rows[1]["amount"] = "400000"
    response = client.post(url, plan_post(rows))
    assert response.status_code == 302
    assert list(signed.instalments.values_list("amount", flat=True)) == [Decimal(100000), Decimal(400000)]
    rows = [{"id": i.pk, "due_on": i.due_on.isoformat(), "amount": str(i.amount)} for i in signed.instalments.all()]
    rows[0]["DELETE"] = "on"  # paid: refused
    response = client.post(url, plan_post(rows))
    assert response.status_code == 422 and response.context["errors"]
    assert signed.instalments.count() == 2


# The list ----------------------------------------------------------------------------------------

def test_the_list_shows_visible_contracts_and_filters_by_status_and_overdue(client_for, rep_east, rep_west, won,
                                                                           pipeline):
    overdue = contract(won, rep_east, [(days(-3), 100)], title="逾期合同")
    fine = contract(won, rep_east, [(days(30), 100)], title="正常合同")
    customer = CustomerFactory(owner=rep_west, name="北京客户")
    far = win(services.opportunity_create(by=rep_west, customer=customer, pipeline=pipeline, name="北京单",
                                          amount=Decimal(100)), rep_west)
    contract(far, rep_west, [(days(30), 100)], title="北京合同")
    client = client_for(rep_east)
    listed = client.get(reverse("sales:contract_list")).context["contracts"]
    assert [c.title for c in listed] == ["正常合同", "逾期合同"]
    assert [c.title for c in client.get(reverse("sales:contract_list") + "?overdue=1").context["contracts"]] == [
        "逾期合同"]
    services.contract_cancel(by=rep_east, contract=fine)
    assert [c.pk for c in client.get(reverse("sales:contract_list") + "?status=cancelled").context["contracts"]] == [
        fine.pk]
    assert overdue.pk in [c.pk for c in client.get(reverse("sales:contract_list") + "?status=active").context[
        "contracts"]]
    assert "北京合同" in client_for(rep_west).get(reverse("sales:contract_list")).content.decode()


def test_the_list_keeps_its_query_count_however_many_contracts(client_for, rep_east, won,
                                                              django_assert_max_num_queries):
    client = client_for(rep_east)
    contract(won, rep_east, [(days(10), 100)])
    client.get(reverse("sales:contract_list"))
    for number in range(15):
        contract(won, rep_east, [(days(-number), 100), (days(20), 50)], title=f"合同{number}")
    with django_assert_max_num_queries(5):
        response = client.get(reverse("sales:contract_list"))
    assert len(response.context["contracts"]) == 16
    first = response.context["contracts"][0]
    assert (first.paid_total, first.outstanding, first.has_overdue) == (Decimal(0), Decimal(150), True)


# The deal page's panel ---------------------------------------------------------------------------

def test_the_deal_page_lists_its_contracts_with_paid_and_outstanding(english_client_for, rep_east, signed, won):
    page = english_client_for(rep_east).get(won.get_absolute_url()).content.decode()
    assert 'data-testid="contracts-panel"' in page and signed.number in page
    assert "¥150,000.00" in page and "¥350,000.00" in page
    assert reverse("sales:contract_create", args=[won.pk]) in page


def test_an_open_deal_offers_a_contract_only_with_an_accepted_quote(client_for, rep_east, deal):
    client = client_for(rep_east)
    page = client.get(deal.get_absolute_url()).content.decode()
    assert 'data-testid="contracts-panel"' in page and 'data-testid="contract-create"' not in page
    quote = accepted_quote(deal, "1000")
    page = client.get(deal.get_absolute_url()).content.decode()
    assert f'{reverse("sales:contract_create", args=[deal.pk])}?quote={quote.pk}' in page


def test_the_deal_page_keeps_its_query_count_however_many_contracts(client_for, rep_east, won,
                                                                   django_assert_max_num_queries):
    client = client_for(rep_east)
    contract(won, rep_east, [(days(10), 100)])
    with django_assert_max_num_queries(40) as before:
        client.get(won.get_absolute_url())
    for number in range(8):
        contract(won, rep_east, [(days(10), 100), (days(40), 100)], title=f"合同{number}")
    with django_assert_max_num_queries(len(before.captured_queries)):
        page = client.get(won.get_absolute_url()).content.decode()
    assert page.count('data-testid="deal-contract"') == 9


def test_a_reader_of_a_shared_deal_sees_its_contracts_but_no_buttons(client_for, rep_east, rep_west, signed, won):
    from accounts import services as account_services

    account_services.share_create(obj=won, by=rep_east, user=rep_west)
    client = client_for(rep_west)
    page = client.get(signed.get_absolute_url()).content.decode()
    assert signed.number in page
    assert 'data-testid="record-payment"' not in page and 'data-testid="edit-plan"' not in page
    assert 'data-testid="contract-create"' not in client.get(won.get_absolute_url()).content.decode()
    instalment = signed.instalments.get(number=3)
    assert client.post(reverse("sales:payment_create", args=[signed.pk, instalment.pk]),
                       {"amount": "1", "received_on": days(0).isoformat()}).status_code == 403
    assert Instalment.objects.get(pk=instalment.pk).paid == 0


def test_the_panel_reads_at_most_two_queries_however_many_contracts(rep_east, deal, django_assert_num_queries):
    from sales import selectors

    quote = accepted_quote(deal, "200")
    for number in range(5):
        contract(deal, rep_east, [(days(10), 100), (days(-1), 100)], title=f"合同{number}", quote=quote)
    selectors.contracts_of_deal(rep_east, deal, editable=True)  # the user's roles and team, read once per request
    with django_assert_num_queries(2):  # contracts, and the accepted quote of the open deal
        panel = selectors.contracts_of_deal(rep_east, deal, editable=True)
    assert len(panel["contracts"]) == 5 and panel["accepted_quote"] == quote and panel["can_create"]
    assert all(c.has_overdue for c in panel["contracts"])
    won = selectors.opportunity_for(rep_east, win(deal, rep_east).pk)  # with its stage, as the deal page has it
    with django_assert_num_queries(1):  # a won deal needs no quote
        panel = selectors.contracts_of_deal(rep_east, won, editable=True)
    assert panel["can_create"] and panel["accepted_quote"] is None


def test_the_plan_page_keeps_its_query_count_however_many_instalments(client_for, rep_east, won,
                                                                      django_assert_max_num_queries):
    client = client_for(rep_east)
    small = contract(won, rep_east, [(days(10), 100)])
    client.get(reverse("sales:contract_plan", args=[small.pk]))  # warm up the session and the access cache
    with django_assert_max_num_queries(7) as few:
        response = client.get(reverse("sales:contract_plan", args=[small.pk]))
    assert response.status_code == 200
    big = contract(won, rep_east, [(days(n), 100) for n in range(1, 13)])
    for instalment in big.instalments.all()[:6]:
        services.payment_record(by=rep_east, instalment=instalment, amount=Decimal(40), received_on=days(0))
    with django_assert_max_num_queries(len(few)):
        response = client.get(reverse("sales:contract_plan", args=[big.pk]))
    assert response.status_code == 200 and sum(1 for _form, kept in response.context["rows"] if kept) == 12
