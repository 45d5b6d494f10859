"""Reports: the sales dashboard (funnel, forecast, win rate, sales cycle, conversion, leaderboard,
stale deals, payments) and the service report (backlog, response and resolution times, SLA compliance and
breaches, CSAT and NPS, complaints), the list of records behind each of their numbers, and their .xlsx.

Holders of VIEW_DASHBOARDS see their sales scope, narrowed to a team of it if they pick one; anyone
else with a sales scope (a 销售代表) sees the same dashboard over their own deals only. The service report
is over the viewer's service scope (a 客服专员: their branch's tickets; a service manager: all), narrowed
to a team of it if they pick one. A team outside the viewer's scope is a form error on the report and a
404 on the drill-down and the export."""
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from accounts.access import user_access
from accounts.capabilities import Capability, Module
from accounts.permissions import capability_required
from crm.lib.paging import Ordering, keyset_page
from crm.lib.xlsx import xlsx_response

from . import selectors
from .export import dashboard_filename, dashboard_workbook, service_filename, service_workbook
from .forms import DashboardForm, ServiceReportForm
from .selectors import service as service_selectors

DRILLDOWN_PAGE = 50
LEADERBOARD_ROWS = 50  # the page shows the top reps; pick a team for the others, or export them all
DRILLDOWN_ORDER = {"deals": Ordering("id", descending=True, nullable=False),
                   "instalments": Ordering("due_on", nullable=False)}
EXACT_COUNT = 10 ** 9  # the drill-down shows the exact number, which is the figure it was opened from
# The service report's lists count exactly up to this many tickets ("10,000+" beyond: a quarter's resolved
# tickets may be 160,000, whose ids the exact count would read and hand to the page's query).
SERVICE_EXACT_COUNT = 10_000
BREAKDOWN_ROWS = 15  # the page shows each breakdown's most breaches; pick a team for the others, or export them
SERVICE_ORDER = {"backlog": Ordering("created_at", nullable=False),  # the oldest open ticket first
                 "resolved": Ordering("resolved_at", descending=True, nullable=False),
                 "tickets": Ordering("id", descending=True, nullable=False)}


@capability_required(Capability.VIEW_DASHBOARDS)
def index(request):
    """The reports' start page: the sales dashboard, and the service report for those with a service scope."""
    return render(request, "reports/index.html")


def _scope(request):
    """(form, scope): scope is None when the filter is invalid (e.g. a team outside the viewer's scope)."""
    form = DashboardForm(request.GET, user=request.user)
    if not form.is_valid():
        return form, None
    data = form.cleaned_data
    scope = selectors.DashboardScope(user=request.user, period=form.chosen_period, pipeline=data["pipeline"],
                                     team=data.get("team"), owner=request.user if form.own_only else None)
    return form, scope


def _filter_query(form):
    """The filter as a query string, for the links to drill-downs and the export."""
    data = form.cleaned_data
    query = {"period": data["period"]}
    if data["period"] == "custom":
        query.update(start=data["start"].isoformat(), end=data["end"].isoformat())
    if data.get("team"):
        query["team"] = data["team"].pk
    if data.get("pipeline"):
        query["pipeline"] = data["pipeline"].pk
    return urlencode(query)


@capability_required(module=Module.SALES)
def sales_dashboard(request):
    form, scope = _scope(request)
    context = {"form": form, "own_only": form.own_only,
               "can_export": user_access(request.user).has(Capability.EXPORT_DATA)}
    if scope is None:
        return render(request, "reports/sales_dashboard.html", context, status=400)
    figures = selectors.dashboard(scope)
    query = _filter_query(form)
    context.update(figures=figures, scope=scope, query=query, leaderboard=figures["leaderboard"][:LEADERBOARD_ROWS],
                   chart_data=_chart_data(figures, reverse("reports:sales_deals") + "?" + query))
    return render(request, "reports/sales_dashboard.html", context)


def _chart_data(figures, drill):
    """What the charts draw (numbers as floats), each point with the URL of the deals behind it."""
    return {
        "labels": {"count": _("Deals"), "amount": _("Amount"), "weighted": _("Weighted amount"),
                   "reached": _("Reached")},
        "funnel": [{"name": row["stage"].name, "value": row["count"], "amount": float(row["amount"]),
                    "weighted": float(row["weighted"]), "kind": row["stage"].kind,
                    "url": f"{drill}&metric=funnel&stage={row['stage'].pk}"} for row in figures["funnel"]],
        "forecast": [{"month": row["month"].strftime("%Y-%m"), "count": row["count"], "amount": float(row["amount"]),
                      "weighted": float(row["weighted"]),
                      "url": f"{drill}&metric=forecast&month={row['month']:%Y-%m}"} for row in figures["forecast"]],
        "conversion": [{"name": row["stage"].name, "value": row["count"],
                        "rate": float(row["from_previous"]) if row["from_previous"] is not None else None,
                        "url": f"{drill}&metric=reached&stage={row['stage'].pk}"} for row in figures["conversion"]],
    }


METRIC_TITLES = {
    "funnel": gettext_lazy("Deals in the stage"),
    "forecast": gettext_lazy("Open deals expected to close in the month"),
    "won": gettext_lazy("Deals won in the period"),
    "lost": gettext_lazy("Deals lost in the period"),
    "cycle": gettext_lazy("Deals won in the period"),
    "reached": gettext_lazy("Deals of the period that reached the stage"),
    "rep_won": gettext_lazy("Deals the rep won in the period"),
    "rep_open": gettext_lazy("The rep's open deals"),
    "stale": gettext_lazy("Stale deals"),
    "due": gettext_lazy("Instalments due in the period"),
    "overdue": gettext_lazy("Overdue instalments"),
}


@capability_required(module=Module.SALES)
def sales_deals(request):
    """The deals (or instalments) behind one number of the dashboard, a page at a time."""
    form, scope = _scope(request)
    if scope is None:
        raise Http404
    metric = request.GET.get("metric", "")
    kind, rows = selectors.drilldown(scope, metric, request.GET)
    page = keyset_page(rows, DRILLDOWN_ORDER[kind], after=request.GET.get("after"), before=request.GET.get("before"),
                       size=DRILLDOWN_PAGE, cap=EXACT_COUNT)
    return render(request, "reports/sales_deals.html", {
        "form": form, "scope": scope, "kind": kind, "metric": metric, "page": page,
        "title": METRIC_TITLES[metric], "query": _filter_query(form)})


@never_cache
@capability_required(Capability.EXPORT_DATA, module=Module.SALES)
def sales_export(request):
    """The whole dashboard as an .xlsx, one sheet per block, for exactly the scope the page shows."""
    form, scope = _scope(request)
    if scope is None:
        raise Http404
    file = dashboard_workbook(scope, selectors.dashboard(scope))
    return xlsx_response(file, dashboard_filename(scope), ascii_name="sales-dashboard")


# The service report ------------------------------------------------------------------------------------

def _service_scope(request):
    """(form, scope): scope is None when the filter is invalid (e.g. a team outside the viewer's scope)."""
    form = ServiceReportForm(request.GET, user=request.user)
    if not form.is_valid():
        return form, None
    return form, service_selectors.ServiceScope(user=request.user, period=form.chosen_period,
                                                team=form.cleaned_data.get("team"))


@capability_required(module=Module.SERVICE)
def service_report(request):
    form, scope = _service_scope(request)
    context = {"form": form, "can_export": user_access(request.user).has(Capability.EXPORT_DATA)}
    if scope is None:
        return render(request, "reports/service_report.html", context, status=400)
    figures = service_selectors.report(scope)
    shown = {breakdown: rows[:BREAKDOWN_ROWS] for breakdown, rows in figures["breaches"].items()}
    context.update(figures=figures, breaches=shown, scope=scope, query=_filter_query(form),
                   drill=reverse("reports:service_tickets"))
    return render(request, "reports/service_report.html", context)


SERVICE_TITLES = {
    "open": gettext_lazy("Open tickets"),
    "age": gettext_lazy("Open tickets of that age"),
    "overdue": gettext_lazy("Open tickets past their deadline"),
    "resolved": gettext_lazy("Tickets resolved in the period"),
    "fr_met": gettext_lazy("Resolved in the period: first response on time"),
    "fr_missed": gettext_lazy("Resolved in the period: first response late"),
    "res_met": gettext_lazy("Resolved in the period: resolved on time"),
    "res_missed": gettext_lazy("Resolved in the period: resolved late"),
    "breached": gettext_lazy("Resolved in the period: a target missed"),
    "csat": gettext_lazy("Tickets with a survey answered in the period"),
    "nps": gettext_lazy("Tickets with a recommendation score given in the period"),
    "complaints": gettext_lazy("Complaints opened in the period"),
}


@capability_required(module=Module.SERVICE)
def service_tickets(request):
    """The tickets behind one number of the service report, a page at a time."""
    form, scope = _service_scope(request)
    if scope is None:
        raise Http404
    metric = request.GET.get("metric", "")
    kind, rows = service_selectors.drilldown(scope, metric, request.GET)
    page = keyset_page(rows, SERVICE_ORDER[kind], after=request.GET.get("after"), before=request.GET.get("before"),
                       size=DRILLDOWN_PAGE, cap=SERVICE_EXACT_COUNT)
    for ticket in page.rows:
        ticket.first_response_hours = service_selectors.hours(ticket.first_response_work_seconds)
        ticket.resolution_hours = service_selectors.hours(ticket.resolution_work_seconds)
    return render(request, "reports/service_tickets.html", {
        "form": form, "scope": scope, "metric": metric, "page": page, "title": SERVICE_TITLES[metric],
        "labels": service_selectors.drilldown_labels(metric, request.GET), "query": _filter_query(form)})


@never_cache
@capability_required(Capability.EXPORT_DATA, module=Module.SERVICE)
def service_export(request):
    """The whole service report as an .xlsx, one sheet per block, for exactly the scope the page shows."""
    form, scope = _service_scope(request)
    if scope is None:
        raise Http404
    file = service_workbook(scope, service_selectors.report(scope))
    return xlsx_response(file, service_filename(scope), ascii_name="service-report")
