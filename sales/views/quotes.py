"""Pages of deal line items, quotes and the approvals inbox. Every quote and approval is read through
sales.selectors (the access layer): a quote of a deal the user cannot see is a 404, of one the user
sees but may not change a 403 for its writes. Views parse a form, call a service and redirect; a
service's refusal is shown as a message or on the form."""
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.access import get_visible_or_404
from accounts.capabilities import Module
from accounts.permissions import capability_required
from accounts.views import show_service_error
from crm.lib.paging import older_page

from .. import selectors, services
from ..forms.quotes import DecisionForm, QuoteCreateForm, QuoteForm, VersionForm, line_formset, lines_from_formset
from ..models import Product, QuoteApproval, QuoteStatus
from ..selectors import quotes as quote_selectors

sales_required = capability_required(module=Module.SALES)


def _products(lines):
    """The products a line may name: the active catalogue and those already on the lines."""
    kept = {line.product_id for line in lines}
    return Product.objects.filter(Q(is_active=True) | Q(pk__in=kept)).order_by("code")


def _prices(products):
    return {str(p.pk): str(p.list_price) for p in products}


def _error_text(error):
    return " ".join(error.messages)


# Deal lines -----------------------------------------------------------------------------------------

@sales_required
def opportunity_lines(request, pk):
    """Edit the deal's product lines; saving makes the deal's amount their total."""
    opportunity = selectors.opportunity_for(request.user, pk, write=True)
    lines = selectors.deal_lines(opportunity)
    products = list(_products(lines))
    formset = line_formset(request.POST or None, lines=lines, products=products)
    version = VersionForm(request.POST or None, initial={"version": opportunity.version})
    refusal = None
    if request.method == "POST" and formset.is_valid() and version.is_valid():
        try:
            services.opportunity_lines_save(opportunity=opportunity, by=request.user,
                                            lines=lines_from_formset(formset),
                                            version=version.cleaned_data["version"])
        except ValidationError as error:
            refusal = _error_text(error)
        else:
            messages.success(request, _("Line items saved."))
            return redirect(opportunity)
    invalid = request.method == "POST"
    return render(request, "sales/quotes/lines_form.html",
                  {"opportunity": opportunity, "formset": formset, "version_form": version,
                   "refusal": refusal, "prices": _prices(products)}, status=422 if invalid else 200)


# Quotes ---------------------------------------------------------------------------------------------

@sales_required
def quote_create(request, pk):
    opportunity = selectors.opportunity_for(request.user, pk, write=True)
    form = QuoteCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        quote = services.quote_create(opportunity=opportunity, by=request.user, **form.cleaned_data)
        messages.success(request, _("Quote %(number)s created.") % {"number": quote.number})
        return redirect("sales:quote_edit", quote.pk)
    return render(request, "sales/quotes/create.html", {"opportunity": opportunity, "form": form},
                  status=422 if form.errors else 200)


@sales_required
def quote_list(request):
    status = request.GET.get("status", "")
    status = status if status in QuoteStatus.values else ""
    # The size is read per request (not bound at import) so it follows the selectors' setting.
    page = older_page(selectors.quote_list(request.user, status=status), request.GET,
                      size=quote_selectors.QUOTE_LIST_SIZE)
    return render(request, "sales/quotes/list.html", {
        "quotes": page["rows"], **page, "statuses": QuoteStatus.choices, "status": status})


@sales_required
def quote_detail(request, pk):
    quote = selectors.quote_for(request.user, pk)
    context = {**selectors.quote_page(request.user, quote), "history": selectors.quote_history(request.user, quote),
               **selectors.customer_seen(request.user, quote.opportunity)}
    return render(request, "sales/quotes/detail.html", {**context, "decision_form": DecisionForm()})


@sales_required
def quote_edit(request, pk):
    quote = selectors.quote_for(request.user, pk, write=True)
    if quote.status not in (QuoteStatus.DRAFT, QuoteStatus.REJECTED):
        messages.error(request, _("Only a draft or a rejected quote can be changed."))
        return redirect(quote)
    lines = list(quote.lines.select_related("product").order_by("order", "id"))
    products = list(_products(lines))
    form = QuoteForm(request.POST or None, quote=quote)
    formset = line_formset(request.POST or None, lines=lines, products=products)
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        data = {name: form.cleaned_data[name] for name in ("title", "valid_until", "extra_discount_percent", "terms")}
        try:
            services.quote_update(quote=quote, by=request.user, version=form.cleaned_data["version"],
                                  lines=lines_from_formset(formset), **data)
        except ValidationError as error:
            show_service_error(form, error)
        else:
            messages.success(request, _("Quote saved."))
            return redirect(quote)
    return render(request, "sales/quotes/edit.html",
                  {"quote": quote, "opportunity": quote.opportunity, "form": form, "formset": formset,
                   "prices": _prices(products)}, status=422 if request.method == "POST" else 200)


def _quote_action(service, done):
    """A POST that moves a quote on (submit, withdraw, send, accept) and returns to its page."""

    @require_POST
    @sales_required
    def view(request, pk):
        quote = selectors.quote_for(request.user, pk, write=True)
        form = VersionForm(request.POST)
        version = form.cleaned_data["version"] if form.is_valid() else None
        try:
            quote = service(quote=quote, by=request.user, version=version)
        except ValidationError as error:
            messages.error(request, _error_text(error))
        else:
            messages.success(request, done(quote))
        return redirect(quote)

    return view


def _submitted(quote):
    if quote.status == QuoteStatus.APPROVED:
        return _("Submitted: no approval needed, the quote is approved.")
    return _("Submitted for approval.")


quote_submit = _quote_action(services.quote_submit, _submitted)
quote_withdraw = _quote_action(services.quote_withdraw, lambda quote: _("Withdrawn: the quote is a draft again."))
quote_send = _quote_action(services.quote_mark_sent, lambda quote: _("Marked as sent."))
quote_accept = _quote_action(services.quote_mark_accepted, lambda quote: _("Marked as accepted."))


@sales_required
def quote_print(request, pk):
    """The quote as a print-friendly standalone page (print it or save it as PDF from the browser)."""
    context = selectors.quote_print_page(request.user, pk)
    # The seller's name when the installation sets one (CRM_COMPANY_NAME); else the rep's team shows.
    return render(request, "sales/quotes/print.html",
                  {**context, "company_name": getattr(settings, "CRM_COMPANY_NAME", "")})


# Approvals ------------------------------------------------------------------------------------------

@sales_required
def approval_inbox(request):
    return render(request, "sales/quotes/inbox.html",
                  {"approvals": selectors.approvals_inbox(request.user), "decision_form": DecisionForm()})


@require_POST
@sales_required
def approval_decide(request, pk):
    """Approve or reject one approval (from the inbox or the quote's page; `next` says which)."""
    approval = get_visible_or_404(request.user, QuoteApproval.objects.select_related("quote"), pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose approve or reject."))
    else:
        approve = form.cleaned_data["decision"] == "approve"
        try:
            services.approval_decide(approval=approval, by=request.user, approve=approve,
                                     comment=form.cleaned_data["comment"])
        except QuoteApproval.DoesNotExist:
            raise Http404 from None
        except ValidationError as error:
            messages.error(request, _error_text(error))
        else:
            messages.success(request, _("Approved.") if approve else _("Rejected."))
    if request.POST.get("next") == "quote":
        return redirect(approval.quote)
    return redirect("sales:approval_inbox")
