"""The demo company tells a believable year (`manage.py seed_demo`), on any day: deals won and lost over
the last months with real sales cycles, open deals expected over the coming months (some late, some
stale), targets met and missed, payments on time and late, follow-ups every month, every date in its
place, and a bell with something to say that floods nobody.

Each moment is seeded once, in a transaction rolled back afterwards (a module fixture), and the tests
read what the seed made there: the pinned moments, and today (the real day, or pytest --today)."""
import datetime
import io
import time
from collections import Counter

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction
from django.db.models import F, Max, Min, Q
from django.utils import timezone

from accounts.models import Role, User
from accounts.seed import seed_roles
from crm.models import Customer, CustomerStatus, DealStatus, FollowUp, Notification, PoolEvent
from reports import selectors as dashboard
from reports.forms import Period
from sales.models import (
    Contract,
    GateTick,
    Instalment,
    InstalmentStatus,
    Opportunity,
    Payment,
    Pipeline,
    Quote,
    QuoteStatus,
    StageKind,
    StageVisit,
    Target,
)
from sales.selectors.targets import last_day, period_shift, period_start

pytestmark = [pytest.mark.django_db, pytest.mark.dates]  # django_db: the module fixture needs the test database

MOMENTS = {
    "pinned": "2026-03-15T10:30+08:00",  # a Sunday in the middle of a quarter
    "quarter_start": "2027-07-01T08:05+08:00",  # before the day's first follow-up, nothing closed this month
    "today": None,
}
SALES_PEOPLE = ["director", "manager_east", "manager_north", "rep_sh", "rep_sh2", "rep_hz", "rep_bj"]
TABLES = (Customer, FollowUp, Opportunity, StageVisit, Quote, Contract, Instalment, Payment, Target, Notification)


@pytest.fixture(scope="module", params=list(MOMENTS), ids=list(MOMENTS))
def year(request, django_db_setup, django_db_blocker):
    """What the seed made at the moment: {fact: value}, read inside its transaction."""
    moment = MOMENTS[request.param] or request.config.getoption("--today")
    travel = time_machine.travel(datetime.datetime.fromisoformat(moment), tick=True) if moment else None
    with django_db_blocker.unblock(), transaction.atomic():
        if travel:
            travel.start()
        try:
            seed_roles(Role)
            started = time.perf_counter()
            call_command("seed_demo", stdout=io.StringIO())
            facts = {"seconds": time.perf_counter() - started, **_facts()}
            counts = {model: model.objects.count() for model in TABLES}
            out = io.StringIO()
            call_command("seed_demo", stdout=out)
            facts["again"] = (out.getvalue(), counts == {model: model.objects.count() for model in TABLES})
        finally:
            if travel:
                travel.stop()
            transaction.set_rollback(True)
    return facts


def _months_back(today, count):
    """The first days of the `count` whole months before today's month, oldest first."""
    this = today.replace(day=1)
    return [period_shift("month", this, -n) for n in range(count, 0, -1)]


def _facts():
    now, today = timezone.now(), timezone.localdate()
    users = {u.username: u for u in User.objects.all()}
    months = _months_back(today, 12)
    year = Period(months[0], last_day("month", months[-1]))
    project = Pipeline.objects.get(name="项目型销售")
    whole_year = dashboard.dashboard(dashboard.DashboardScope(user=users["director"], period=year, pipeline=project))
    quarter = period_shift("quarter", period_start("quarter", today), -1)
    last_quarter = dashboard.dashboard(dashboard.DashboardScope(
        user=users["director"], period=Period(quarter, last_day("quarter", quarter)), pipeline=project))
    this_quarter = period_start("quarter", today)
    forecast = dashboard.dashboard(dashboard.DashboardScope(
        user=users["director"], period=Period(this_quarter, last_day("quarter", this_quarter)), pipeline=project))
    won = Opportunity.objects.filter(stage__kind=StageKind.WON)
    deals = Opportunity.objects.select_related("stage", "customer")
    unread = Counter(Notification.objects.filter(read_at=None, resolved_at=None).values_list(
        "recipient__username", flat=True))
    return {
        "now": now, "today": today, "months": months,
        "win": whole_year["win"], "stale": whole_year["stale"]["count"],
        "won_by_month": Counter(timezone.localdate(at).replace(day=1) for at in won.values_list("closed_at", flat=True)),
        "leaders": {row["user"].username: row["percent"] for row in last_quarter["leaderboard"]},
        "forecast": [(row["month"], row["count"]) for row in forecast["forecast"]],
        "open_closing": list(deals.filter(closed_at=None).values_list("expected_close", flat=True)),
        "instalments": Counter(Instalment.objects.values_list("status", flat=True)),
        "quotes": Counter(Quote.objects.values_list("status", flat=True)),
        "followups_by_month": Counter(timezone.localdate(at).replace(day=1)
                                      for at in FollowUp.objects.values_list("at", flat=True)),
        "followup_kinds": Counter(FollowUp.objects.values_list("kind__code", flat=True)),
        "customers_by_month": Counter(timezone.localdate(at).replace(day=1)
                                      for at in Customer.objects.values_list("created_at", flat=True)),
        "waiting_in_pools": Customer.objects.filter(owner=None, pool__isnull=False).count(),
        "unread": {name: unread.get(name, 0) for name in users},
        "targets": Counter((t.user.username, t.period, t.starts_on) for t in Target.objects.filter(
            user__isnull=False).select_related("user")),
        "deals_created_since": deals.aggregate(first=Min("created_at"))["first"],
        "out_of_place": _out_of_place(now, today),
    }


def _out_of_place(now, today):
    """Records whose dates contradict each other or lie in the future, by kind (empty lists: none)."""
    deals = Opportunity.objects.all()
    visits = StageVisit.objects.select_related("opportunity")
    first_visit = dict(StageVisit.objects.values_list("opportunity").annotate(first=Min("entered_at")))
    last_entry = dict(StageVisit.objects.values_list("opportunity").annotate(last=Max("entered_at")))
    first_deal = dict(Opportunity.objects.values_list("customer").annotate(first=Min("created_at")))
    first_followup = dict(FollowUp.objects.values_list("customer").annotate(first=Min("at")))
    latest_followup = dict(FollowUp.objects.values_list("customer").annotate(last=Max("at")))
    customers = list(Customer.objects.all())
    won_customers = set(Opportunity.objects.filter(stage__kind=StageKind.WON).values_list("customer_id", flat=True))
    return {
        "deal closed before created": list(deals.filter(closed_at__lt=F("created_at")).values_list("pk", flat=True)),
        "deal in the future": list(deals.filter(Q(created_at__gt=now) | Q(closed_at__gt=now)
                                                | Q(stage_entered_at__gt=now)).values_list("pk", flat=True)),
        "deal without its first visit at creation": [d.pk for d in deals if first_visit.get(d.pk) != d.created_at],
        "deal not in the stage it entered last": [d.pk for d in deals if last_entry.get(d.pk) != d.stage_entered_at],
        "visit out of its deal's life": [v.pk for v in visits if v.entered_at < v.opportunity.created_at
                                         or (v.left_at and v.left_at < v.entered_at)
                                         or v.entered_at > (v.opportunity.closed_at or now)],
        "tick after its stage was entered": [t.pk for t in GateTick.objects.all() if not StageVisit.objects.filter(
            opportunity=t.opportunity_id, stage=t.item.stage_id, entered_at__gte=t.ticked_at).exists()],
        "customer created after its first deal or follow-up": [
            c.pk for c in customers if c.created_at > min(first_deal.get(c.pk, now), first_followup.get(c.pk, now))],
        "customer's last follow-up wrong": [c.pk for c in customers if c.last_followup_at != latest_followup.get(c.pk)],
        "won customer without a won deal, or the reverse": [
            c.pk for c in customers if (c.deal_status == DealStatus.WON) != (c.pk in won_customers)
            or (c.status == CustomerStatus.WON) != (c.pk in won_customers)],
        "follow-up in the future": list(FollowUp.objects.filter(at__gt=now).values_list("pk", flat=True)),
        "pool event in the future": list(PoolEvent.objects.filter(at__gt=now).values_list("pk", flat=True)),
        "contract signed before its deal was won or after today": [
            c.pk for c in Contract.objects.select_related("opportunity")
            if c.signed_on < timezone.localdate(c.opportunity.closed_at) or c.signed_on > today],
        "payment before signing or after today": [
            p.pk for p in Payment.objects.select_related("instalment__contract")
            if p.received_on < p.instalment.contract.signed_on or p.received_on > today or p.recorded_at > now],
        "instalment status against the rule": [
            i.pk for i in Instalment.objects.all() if i.status != (
                InstalmentStatus.PAID if i.paid >= i.amount else InstalmentStatus.OVERDUE if i.due_on < today
                else InstalmentStatus.PARTIAL if i.paid else InstalmentStatus.DUE)],
        "quote outside its deal's life": [
            q.pk for q in Quote.objects.select_related("opportunity")
            if q.created_at < q.opportunity.created_at or q.created_at > now
            or (q.accepted_at and q.accepted_at > (q.opportunity.closed_at or now))
            or any(t and (t < q.created_at or t > now) for t in (q.submitted_at, q.decided_at, q.sent_at))],
        "quote numbered on another day": [
            q.pk for q in Quote.objects.all() if timezone.localdate(q.created_at).strftime("%Y%m%d") not in q.number],
    }


# The year ---------------------------------------------------------------------------------------------

def test_it_wins_some_and_loses_more_with_sales_cycles_of_weeks_to_months(year):
    assert 0 < year["win"]["rate"] < 100
    assert year["win"]["lost"] > year["win"]["won"] > 30
    assert year["win"]["cycle_days"] > 7


def test_it_wins_deals_in_every_one_of_the_last_twelve_months(year):
    assert [month for month in year["months"] if not year["won_by_month"][month]] == []


def test_its_deals_go_back_a_year_and_a_half_at_most(year):
    age = year["now"] - year["deals_created_since"]
    assert datetime.timedelta(days=365) < age < datetime.timedelta(days=19 * 31)


def test_some_reps_meet_their_targets_and_others_miss_them(year):
    percents = [p for p in year["leaders"].values() if p is not None]
    assert len(percents) == 4
    assert min(percents) < 100 <= max(percents)
    for rep in ("rep_sh", "rep_sh2", "rep_hz", "rep_bj"):  # every month and quarter has its targets
        for month in [*year["months"], year["today"].replace(day=1)]:
            assert year["targets"][(rep, "month", month)] == 1
        assert year["targets"][(rep, "quarter", period_start("quarter", year["today"]))] == 1


def test_open_deals_are_expected_over_the_coming_months_some_late_and_some_stale(year):
    today = year["today"]
    dates = [d for d in year["open_closing"] if d]
    assert len({d.replace(day=1) for d in dates if d >= today}) >= 4
    assert any(d < today for d in dates)
    assert sum(count > 0 for _month, count in year["forecast"]) >= 3
    assert year["stale"] >= 3


def test_payments_come_on_time_and_late(year):
    instalments = year["instalments"]
    assert instalments[InstalmentStatus.PAID] > 3 * instalments[InstalmentStatus.OVERDUE] > 0
    assert instalments[InstalmentStatus.DUE] > 0


def test_quotes_are_in_every_state(year):
    assert set(year["quotes"]) == {QuoteStatus.DRAFT, QuoteStatus.PENDING, QuoteStatus.REJECTED, QuoteStatus.SENT,
                                   QuoteStatus.ACCEPTED}


def test_customers_are_followed_up_in_every_month_and_came_over_time(year):
    assert [month for month in year["months"] if not year["followups_by_month"][month]] == []
    assert {"call", "visit", "wechat"} <= {kind for kind, n in year["followup_kinds"].items() if n > 100}
    assert sum(1 for month in year["months"] if year["customers_by_month"][month]) >= 10
    assert year["waiting_in_pools"] > 0


def test_every_date_is_in_its_place(year):
    assert {kind: ids for kind, ids in year["out_of_place"].items() if ids} == {}


def test_the_bell_has_something_for_every_sales_person_and_floods_nobody(year):
    unread = year["unread"]
    assert all(unread[name] >= 1 for name in SALES_PEOPLE), unread
    assert max(unread.values()) <= 20, unread


def test_it_is_quick_and_adds_nothing_the_second_time(year):
    assert year["seconds"] < 60
    output, unchanged = year["again"]
    assert "nothing changed" in output and unchanged
