"""The demo's contracts and targets (sales.demo_contracts): a contract for each won deal but the newest,
signed after the win, with a payment plan adding up to its amount and payments on time, late and
not yet made; targets for every demo rep and team for every month and quarter of the demo year and
this quarter, a team's the sum of its reps'; once."""
import datetime

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.utils import timezone

from accounts.models import Team, User
from sales import selectors
from sales.demo_contracts import seed_contracts_demo
from sales.models import Contract, Instalment, Opportunity, Payment, StageKind, Target

pytestmark = [pytest.mark.django_db, pytest.mark.dates]


def test_the_demo_has_contracts_with_payments_in_every_state_and_targets(roles, picklists):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # the sales demo includes the contracts demo
    won = Opportunity.objects.filter(stage__kind=StageKind.WON)
    contracts = Contract.objects.select_related("opportunity__stage")
    assert {c.opportunity.stage.kind for c in contracts} == {StageKind.WON}
    assert won.count() > contracts.count() > won.count() * 0.8
    assert won.filter(owner__username="rep_sh", contracts=None).exists()  # the newest is still being signed
    for contract in contracts:
        assert contract.instalments.aggregate(total=Sum("amount"))["total"] == contract.amount
        assert contract.signed_on >= timezone.localdate(contract.opportunity.closed_at)
    assert contracts.filter(quote__status="accepted").exists()
    statuses = set(Instalment.objects.values_list("status", flat=True))
    assert {"paid", "overdue", "due"} <= statuses
    week = datetime.timedelta(days=7)
    late = [p for p in Payment.objects.select_related("instalment") if p.received_on > p.instalment.due_on + week]
    assert late and Payment.objects.count() > 2 * len(late)

    today = timezone.localdate()
    reps = set(User.objects.filter(username__startswith="rep_").values_list("username", flat=True))
    for period in ("month", "quarter"):
        start = selectors.period_start(period, today)
        targets = Target.objects.filter(period=period, starts_on=start).select_related("user", "team")
        assert {t.user.username for t in targets if t.user} == reps
        assert {t.team.name for t in targets if t.team} == {"总部", "华东区", "华北区", "上海分公司", "杭州分公司", "北京分公司"}
    month = Target.objects.filter(period="month", starts_on=today.replace(day=1))
    east = Team.objects.get(name="华东区")
    assert month.get(team=east).amount == sum(
        t.amount for t in month.filter(user__team__path__startswith=east.path))  # rep_sh, rep_sh2, rep_hz

    count = Target.objects.count()
    assert seed_contracts_demo() is False
    assert Contract.objects.count() == contracts.count() and Target.objects.count() == count
