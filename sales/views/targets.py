"""The targets page (销售目标): a manager picks a month or a quarter and sets, in one grid, the won
amount and number of won deals for each team and rep in their scope, next to what was actually won.
Only holders of sales.target:manage reach it (others 403); teams and reps outside their scope are
neither shown nor accepted."""
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.capabilities import Capability, Module
from accounts.permissions import capability_required
from crm.lib import inputs

from .. import selectors, services
from ..forms.targets import TargetGridForm
from ..models import TargetPeriod


def _period(params):
    """The period type and its first day from ?period=&start= (default: this quarter); a start that is
    not a date within the calendar we keep is a 400, not silently this quarter."""
    period = params.get("period")
    period = period if period in TargetPeriod.values else TargetPeriod.QUARTER
    day = inputs.query_date(params, "start") or timezone.localdate()
    return period, selectors.period_start(period, day)


def _page_url(period, start):
    return f"{reverse('sales:target_list')}?{urlencode({'period': period, 'start': start.isoformat()})}"


@capability_required(Capability.MANAGE_TARGETS, module=Module.SALES)
def target_list(request):
    period, start = _period(request.POST or request.GET)
    rows = selectors.target_grid(request.user, period, start)
    form = TargetGridForm(request.POST or None, rows=rows, initial={"period": period, "start": start})
    if request.method == "POST" and form.is_valid():
        changed = services.targets_save(by=request.user, period=period, starts_on=start, changes=form.changes())
        messages.success(request, _("Targets saved (%(count)s changed).") % {"count": changed})
        return redirect(_page_url(period, start))
    today = timezone.localdate()
    return render(request, "sales/targets/list.html", {
        "form": form, "rows": form.bound_rows(), "period": period, "start": start,
        "label": selectors.period_label(period, start),
        "previous_url": _page_url(period, selectors.period_shift(period, start, -1)),
        "next_url": _page_url(period, selectors.period_shift(period, start, 1)),
        "current_url": _page_url(period, selectors.period_start(period, today)),
        "month_url": _page_url(TargetPeriod.MONTH, selectors.period_start(TargetPeriod.MONTH, today)),
        "quarter_url": _page_url(TargetPeriod.QUARTER, selectors.period_start(TargetPeriod.QUARTER, today)),
        "is_current": start == selectors.period_start(period, today),
    }, status=422 if form.errors else 200)


@require_POST
@capability_required(Capability.MANAGE_TARGETS, module=Module.SALES)
def target_delete(request, pk):
    target = selectors.target_for(request.user, pk)
    if target is None:
        raise Http404
    services.target_delete(by=request.user, target=target)
    messages.success(request, _("Target removed."))
    return redirect(_page_url(target.period, target.starts_on))
