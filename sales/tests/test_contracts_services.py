"""Contracts and payment plans (合同 / 回款计划) in the services: where a contract may come from, the
plan adding up, payments within what is owed, the one status rule, the overdue job, cancelling,
who may do it, and the audit trail."""
import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation
from pghistory.models import Events

from accounts import services as account_services
from sales import services
from sales.models import Contract, ContractStatus, Instalment, InstalmentStatus, Opportunity, Payment

from .contract_factories import accepted_quote, contract, days, win

pytestmark = [pytest.mark.django_db, pytest.mark.dates]


@pytest.fixture(autouse=True)
def english():
    """The refusals are matched by their English wording (the catalogues would give Chinese)."""
    with translation.override("en"):
        yield


@pytest.fixture
def won(deal, rep_east):
    return win(deal, rep_east)


def statuses(contract):
    return list(contract.instalments.order_by("number").values_list("status", flat=True))


# Where a contract comes from ---------------------------------------------------------------------

def test_it_makes_a_numbered_contract_for_a_won_deal_with_the_deals_amount(won, rep_east):
    made = services.contract_create(by=rep_east, opportunity=won, title="仓储系统合同", signed_on=days(0),
                                    starts_on=days(5))
    assert made.number.startswith(f"HT{days(0):%Y%m}-") and made.amount == Decimal("500000")
    assert made.status == ContractStatus.ACTIVE and made.created_by == rep_east
    [only] = made.instalments.all()
    assert (only.number, only.due_on, only.amount, only.status) == (1, days(5), Decimal("500000"), "due")
    second = services.contract_create(by=rep_east, opportunity=won, title="二期", signed_on=days(0))
    assert second.number != made.number


def test_it_refuses_a_deal_that_is_neither_won_nor_quoted(deal, rep_east):
    with pytest.raises(ValidationError) as error:
        services.contract_create(by=rep_east, opportunity=deal, title="合同", signed_on=days(0))
    assert "won deal or an accepted quote" in error.value.messages[0]
    assert not Contract.objects.exists()


def test_it_makes_a_contract_from_an_accepted_quote_with_its_total(deal, rep_east):
    quote = accepted_quote(deal, "468000.50")
    made = services.contract_create(by=rep_east, opportunity=deal, quote=quote, title="合同", signed_on=days(0))
    assert made.quote == quote and made.amount == Decimal("468000.50")


def test_it_refuses_a_quote_that_is_not_accepted_or_of_another_deal(deal, rep_east, pipeline):
    quote = accepted_quote(deal, "1000")
    quote.status = "sent"
    quote.save()
    with pytest.raises(ValidationError, match="not accepted"):
        services.contract_create(by=rep_east, opportunity=deal, quote=quote, title="合同", signed_on=days(0))
    other = services.opportunity_create(by=rep_east, customer=deal.customer, pipeline=pipeline, name="另一单")
    foreign = accepted_quote(other, "1000", number="Q-TEST-002")
    with pytest.raises(ValidationError, match="another deal"):
        services.contract_create(by=rep_east, opportunity=deal, quote=foreign, title="合同", signed_on=days(0))


def test_the_plan_must_add_up_to_the_amount_and_says_both_figures(won, rep_east):
    with pytest.raises(ValidationError) as error:
        services.contract_create(by=rep_east, opportunity=won, title="合同", signed_on=days(0), amount=Decimal(1000),
                                 instalments=[(days(10), Decimal(400)), (days(40), Decimal(500), "尾款")])
    assert "900.00" in error.value.messages[0] and "1,000.00" in error.value.messages[0]
    assert not Contract.objects.exists()


def test_instalments_are_numbered_by_due_date_and_keep_their_notes(won, rep_east):
    made = services.contract_create(by=rep_east, opportunity=won, title="合同", signed_on=days(0), amount=1000,
                                    instalments=[(days(40), 600, "尾款"), (days(10), 400, "首付")])
    assert list(made.instalments.values_list("number", "note", "amount")) == [
        (1, "首付", Decimal(400)), (2, "尾款", Decimal(600))]


# Payments and the status rule --------------------------------------------------------------------

def test_payments_move_an_instalment_from_due_to_partly_paid_to_paid_and_complete_the_contract(won, rep_east):
    made = contract(won, rep_east, [(days(10), 300), (days(40), 700)])
    first, second = made.instalments.order_by("number")
    services.payment_record(by=rep_east, instalment=first, amount=Decimal(100), received_on=days(0), method="转账")
    first.refresh_from_db()
    assert (first.paid, first.status) == (Decimal(100), InstalmentStatus.PARTIAL)
    services.payment_record(by=rep_east, instalment=first, amount=Decimal(200), received_on=days(1))
    assert statuses(made) == ["paid", "due"]
    services.payment_record(by=rep_east, instalment=second, amount=Decimal(700), received_on=days(2))
    made.refresh_from_db()
    assert statuses(made) == ["paid", "paid"] and made.status == ContractStatus.COMPLETED


def test_it_refuses_to_take_more_than_is_outstanding(won, rep_east):
    made = contract(won, rep_east, [(days(10), 300)])
    instalment = made.instalments.get()
    services.payment_record(by=rep_east, instalment=instalment, amount=Decimal(250), received_on=days(0))
    with pytest.raises(ValidationError) as error:
        services.payment_record(by=rep_east, instalment=instalment, amount=Decimal("50.01"), received_on=days(0))
    assert "50.00" in error.value.messages[0]
    with pytest.raises(ValidationError):
        services.payment_record(by=rep_east, instalment=instalment, amount=Decimal(0), received_on=days(0))
    instalment.refresh_from_db()
    assert instalment.paid == Decimal(250) and Payment.objects.count() == 1


def test_deleting_a_payment_reverses_it(won, rep_east):
    made = contract(won, rep_east, [(days(10), 300)])
    instalment = made.instalments.get()
    payment = services.payment_record(by=rep_east, instalment=instalment, amount=Decimal(300), received_on=days(0))
    made.refresh_from_db()
    assert made.status == ContractStatus.COMPLETED
    services.payment_delete(by=rep_east, payment=payment)
    instalment.refresh_from_db()
    made.refresh_from_db()
    assert (instalment.paid, instalment.status, made.status) == (Decimal(0), "due", ContractStatus.ACTIVE)
    assert not Payment.objects.exists()


@pytest.mark.parametrize("due_in, paid, expected", [
    (5, "0", "due"), (5, "10", "partial"), (-1, "0", "overdue"), (-1, "10", "overdue"), (-1, "100", "paid"),
    (5, "100", "paid"), (0, "0", "due"),
])
def test_the_status_rule(won, rep_east, due_in, paid, expected):
    made = contract(won, rep_east, [(days(due_in), 100)])
    instalment = made.instalments.get()
    if Decimal(paid):
        services.payment_record(by=rep_east, instalment=instalment, amount=Decimal(paid), received_on=days(0))
    assert statuses(made) == [expected]


# Changing the plan -------------------------------------------------------------------------------

def _plan(made):
    return [{"pk": i.pk, "due_on": i.due_on, "amount": i.amount, "note": i.note}
            for i in made.instalments.order_by("number")]


def test_the_plan_changes_and_is_numbered_again(won, rep_east):
    made = contract(won, rep_east, [(days(10), 500), (days(40), 500)])
    rows = _plan(made)
    rows[1]["amount"] = Decimal(300)
    rows.append({"pk": None, "due_on": days(5), "amount": Decimal(200), "note": "定金"})
    services.instalments_save(by=rep_east, contract=made, instalments=rows)
    assert list(made.instalments.values_list("number", "amount", "note")) == [
        (1, Decimal(200), "定金"), (2, Decimal(500), ""), (3, Decimal(300), "")]


def test_an_instalment_with_payments_is_neither_removed_nor_lowered_below_what_was_paid(won, rep_east):
    made = contract(won, rep_east, [(days(10), 500), (days(40), 500)])
    first = made.instalments.get(number=1)
    services.payment_record(by=rep_east, instalment=first, amount=Decimal(400), received_on=days(0))
    rows = _plan(made)
    with pytest.raises(ValidationError, match="cannot be removed"):
        services.instalments_save(by=rep_east, contract=made, instalments=[
            {**rows[1], "amount": Decimal(1000)}])
    with pytest.raises(ValidationError, match="400.00"):
        services.instalments_save(by=rep_east, contract=made, instalments=[
            {**rows[0], "amount": Decimal(300)}, {**rows[1], "amount": Decimal(700)}])
    with pytest.raises(ValidationError, match="add up"):
        services.instalments_save(by=rep_east, contract=made, instalments=[rows[0]])
    assert list(made.instalments.values_list("amount", flat=True)) == [Decimal(500), Decimal(500)]
    services.instalments_save(by=rep_east, contract=made, instalments=[
        {**rows[0], "amount": Decimal(400)}, {**rows[1], "amount": Decimal(600)}])
    assert statuses(made) == ["paid", "due"]


# Cancelling and the overdue job ------------------------------------------------------------------

def test_a_cancelled_contract_takes_no_payments_and_no_plan_changes(won, rep_east):
    made = contract(won, rep_east, [(days(10), 500)])
    services.contract_cancel(by=rep_east, contract=made)
    made.refresh_from_db()
    assert made.status == ContractStatus.CANCELLED
    with pytest.raises(ValidationError, match="cancelled"):
        services.payment_record(by=rep_east, instalment=made.instalments.get(), amount=1, received_on=days(0))
    with pytest.raises(ValidationError, match="cancelled"):
        services.instalments_save(by=rep_east, contract=made, instalments=_plan(made))
    with pytest.raises(ValidationError):
        services.contract_cancel(by=rep_east, contract=made)


def test_the_overdue_job_is_one_update_and_safe_to_run_twice(won, rep_east, django_assert_num_queries):
    made = contract(won, rep_east, [(days(1), 100), (days(2), 100), (days(3), 100), (days(30), 100)])
    instalments = list(made.instalments.order_by("number"))
    services.payment_record(by=rep_east, instalment=instalments[1], amount=Decimal(40), received_on=days(0))
    services.payment_record(by=rep_east, instalment=instalments[2], amount=Decimal(100), received_on=days(0))
    assert statuses(made) == ["due", "partial", "paid", "due"]
    later = days(10)
    with django_assert_num_queries(3):  # savepoint, the UPDATE, release (audited runs in a transaction)
        assert services.instalments_mark_overdue(today=later) == 2
    assert statuses(made) == ["overdue", "overdue", "paid", "due"]
    assert services.instalments_mark_overdue(today=later) == 0
    assert statuses(made) == ["overdue", "overdue", "paid", "due"]


def test_the_overdue_job_leaves_cancelled_contracts_alone(won, rep_east):
    made = contract(won, rep_east, [(days(1), 100)])
    services.contract_cancel(by=rep_east, contract=made)
    assert services.instalments_mark_overdue(today=days(10)) == 0
    assert statuses(made) == ["due"]


def test_paying_an_overdue_instalment_in_full_makes_it_paid(won, rep_east):
    made = contract(won, rep_east, [(days(-3), 100)])
    assert statuses(made) == ["overdue"]
    services.payment_record(by=rep_east, instalment=made.instalments.get(), amount=Decimal(100), received_on=days(0))
    assert statuses(made) == ["paid"]


# Who may, and the trail --------------------------------------------------------------------------

def test_another_teams_rep_cannot_touch_the_deals_contracts(won, rep_east, rep_west):
    with pytest.raises(Opportunity.DoesNotExist):
        services.contract_create(by=rep_west, opportunity=won, title="合同", signed_on=days(0))
    made = contract(won, rep_east, [(days(10), 100)])
    with pytest.raises(Opportunity.DoesNotExist):
        services.payment_record(by=rep_west, instalment=made.instalments.get(), amount=1, received_on=days(0))
    with pytest.raises(Opportunity.DoesNotExist):
        services.contract_cancel(by=rep_west, contract=made)


def test_someone_who_may_only_see_the_deal_may_not_change_its_contracts(won, rep_east, rep_west):
    made = contract(won, rep_east, [(days(10), 100)])
    account_services.share_create(obj=won, by=rep_east, user=rep_west)
    instalment = made.instalments.get()
    with pytest.raises(PermissionDenied):
        services.payment_record(by=rep_west, instalment=instalment, amount=1, received_on=days(0))
    with pytest.raises(PermissionDenied):
        services.instalments_save(by=rep_west, contract=made, instalments=_plan(made))
    with pytest.raises(PermissionDenied):
        services.contract_create(by=rep_west, opportunity=won, title="合同", signed_on=days(0))
    assert Instalment.objects.get().paid == 0


def test_contract_changes_are_audited_with_who_and_why(won, rep_east):
    made = contract(won, rep_east, [(days(10), 100)])
    services.contract_cancel(by=rep_east, contract=made)
    events = Events.objects.tracks(made).order_by("pgh_created_at", "pgh_id")
    assert [(e.pgh_context["action"], e.pgh_context["user"]) for e in events] == [
        ("contract_create", rep_east.pk), ("contract_cancel", rep_east.pk)]
    assert events.last().pgh_data["status"] == "cancelled"


def test_instalment_dates_may_be_plain_dates_from_any_year(won, rep_east):
    made = contract(won, rep_east, [(datetime.date(2031, 1, 31), 100)])
    assert made.instalments.get().due_on == datetime.date(2031, 1, 31)
