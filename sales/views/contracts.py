"""Contract pages: the list, a contract with its payment plan and payments, making a contract from a
won deal or an accepted quote, changing the plan, recording and taking back payments, cancelling.
Every contract is read through sales.selectors (the access layer): another team's contract is a 404,
and one whose deal the user may see but not edit is a 403 for every change."""
import datetime
from itertools import zip_longest

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.access import get_visible_or_404
from accounts.capabilities import Module
from accounts.permissions import capability_required
from accounts.views import show_service_error
from crm.lib import inputs
from crm.lib.paging import older_page

from .. import selectors, services
from ..forms.contracts import ContractForm, PaymentForm, SplitForm, plan_formset, split_evenly
from ..models import ContractStatus, Quote

LIST_SIZE = 50


@capability_required(module=Module.SALES)
def contract_list(request):
    status = request.GET.get("status", "")
    status = status if status in ContractStatus.values else ""
    overdue = request.GET.get("overdue") == "1"
    contracts = selectors.contracts_visible_to(request.user, status=status, overdue=overdue)
    page = older_page(contracts, request.GET, size=LIST_SIZE)
    return render(request, "sales/contracts/list.html", {
        "contracts": page["rows"], **page, "statuses": ContractStatus.choices, "status": status, "overdue": overdue})


@capability_required(module=Module.SALES)
def contract_detail(request, pk):
    contract = selectors.contract_for(request.user, pk)
    return render(request, "sales/contracts/detail.html", selectors.contract_page(request.user, contract))


def _quote_of(request, opportunity):
    """The quote named by ?quote= (or the posted one), among the deal's quotes the user may see."""
    quote_id = request.POST.get("quote") or request.GET.get("quote")
    if not quote_id:
        return None
    return get_visible_or_404(request.user, Quote.objects.filter(opportunity=opportunity), quote_id)


def _typed_amount(value, default):
    """The amount typed in the contract's form (the default when empty); None when it is no amount a
    contract may have (not a number, NaN, infinite, too large, not above zero)."""
    if not (value or "").strip():
        return default
    amount = inputs.parse_decimal(value, max_digits=14, decimal_places=2)
    return amount if amount is not None and amount > 0 else None


def _split(request, amount):
    """The plan proposed by the split helper, or None (with the split form's errors) when it is invalid."""
    split = SplitForm(request.POST)
    if not split.is_valid():
        return split, None
    if amount is None:
        split.add_error(None, _("Enter the contract's amount as a number above 0 with at most 12 digits before "
                                "the decimal point and 2 after it, then split it again."))
        return split, None
    if not amount:
        return split, None
    return split, split_evenly(amount, split.cleaned_data["count"], split.cleaned_data["first_due"])


@capability_required(module=Module.SALES)
def contract_create(request, pk):
    opportunity = selectors.opportunity_for(request.user, pk, write=True)
    quote = _quote_of(request, opportunity)
    default_amount = quote.total if quote is not None else opportunity.amount
    today = timezone.localdate()
    form = ContractForm(request.POST or None, initial={
        "title": quote.title if quote is not None else opportunity.name, "amount": default_amount,
        "signed_on": today})
    split = SplitForm(initial={"count": 2, "first_due": today + datetime.timedelta(days=30)})
    plan = plan_formset(data=request.POST or None,
                        initial=[{"due_on": today + datetime.timedelta(days=30), "amount": default_amount}])
    if request.method == "POST" and "split" in request.POST:
        # Only the plan is proposed: the contract's fields are shown again as typed, not judged yet.
        form = ContractForm(initial=request.POST.dict())
        split, rows = _split(request, _typed_amount(request.POST.get("amount"), default_amount))
        if rows:
            plan = plan_formset(initial=rows, extra=1)
    elif request.method == "POST" and form.is_valid() and plan.is_valid():
        data = form.cleaned_data
        try:
            contract = services.contract_create(
                by=request.user, opportunity=opportunity, quote=quote, title=data["title"], amount=data["amount"],
                signed_on=data["signed_on"], starts_on=data["starts_on"], ends_on=data["ends_on"],
                terms=data["terms"], instalments=plan.rows() or None)
        except ValidationError as error:
            show_service_error(form, error)
        else:
            messages.success(request, _("Contract %(number)s created.") % {"number": contract.number})
            return redirect(contract)
    invalid = request.method == "POST" and "split" not in request.POST
    return render(request, "sales/contracts/form.html", {
        "form": form, "plan": plan, "plan_rows": [(row, None) for row in plan.forms], "split": split,
        "opportunity": opportunity, "quote": quote,
        "problem": services.contract_source_problem(opportunity, quote)},
        status=422 if invalid or split.errors else 200)


@capability_required(module=Module.SALES)
def contract_plan(request, pk):
    """Change the payment plan: due dates, amounts, notes, instalments added or removed."""
    contract = selectors.contract_for(request.user, pk, write=True)
    instalments = list(contract.instalments.order_by("number"))
    initial = [{"id": i.pk, "due_on": i.due_on, "amount": i.amount, "note": i.note} for i in instalments]
    plan = plan_formset(data=request.POST or None, initial=initial, can_delete=True, extra=2)
    errors = []
    if request.method == "POST" and plan.is_valid():
        try:
            services.instalments_save(by=request.user, contract=contract, instalments=plan.rows())
        except ValidationError as error:
            errors = error.messages
        else:
            messages.success(request, _("Payment plan saved."))
            return redirect(contract)
    rows = list(zip_longest(plan.forms, instalments))
    return render(request, "sales/contracts/plan.html", {
        "contract": contract, "plan": plan, "rows": rows, "errors": errors,
        "cancelled": contract.status == ContractStatus.CANCELLED},
        status=422 if request.method == "POST" else 200)


@capability_required(module=Module.SALES)
def payment_create(request, pk, instalment_pk):
    contract = selectors.contract_for(request.user, pk, write=True)
    instalment = get_object_or_404(contract.instalments.all(), pk=instalment_pk)
    instalment.contract = contract
    form = PaymentForm(request.POST or None, initial={"amount": instalment.outstanding,
                                                      "received_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.payment_record(by=request.user, instalment=instalment, amount=data["amount"],
                                    received_on=data["received_on"], method=data["method"], note=data["note"])
        except ValidationError as error:
            show_service_error(form, error, field="amount")
        else:
            messages.success(request, _("Payment recorded."))
            return redirect(contract)
    return render(request, "sales/contracts/payment_form.html",
                  {"form": form, "contract": contract, "instalment": instalment},
                  status=422 if form.errors else 200)


@require_POST
@capability_required(module=Module.SALES)
def payment_delete(request, pk, payment_pk):
    contract = selectors.contract_for(request.user, pk, write=True)
    payment = get_object_or_404(selectors.payments_of(contract), pk=payment_pk)
    payment.instalment.contract = contract
    try:
        services.payment_delete(by=request.user, payment=payment)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Payment deleted."))
    return redirect(contract)


@require_POST
@capability_required(module=Module.SALES)
def contract_cancel(request, pk):
    contract = selectors.contract_for(request.user, pk, write=True)
    try:
        services.contract_cancel(by=request.user, contract=contract)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Contract cancelled."))
    return redirect(contract)
