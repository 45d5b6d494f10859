"""The demo's contracts and targets (sales.demo_contracts): a contract on a won deal with one paid, one
partly paid and one overdue instalment, targets for every demo rep and team for this month and
quarter; once."""
import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from sales import selectors
from sales.demo_contracts import seed_contracts_demo
from sales.models import Contract, Target

pytestmark = pytest.mark.django_db


def test_the_demo_has_a_contract_in_every_state_and_targets(roles, picklists):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # the sales demo includes the contracts demo
    contract = Contract.objects.get()
    assert contract.opportunity.stage.kind == "won" and contract.opportunity.owner.username == "rep_sh"
    assert list(contract.instalments.order_by("number").values_list("status", flat=True)) == [
        "paid", "overdue", "partial"]
    assert sum(i.amount for i in contract.instalments.all()) == contract.amount
    today = timezone.localdate()
    for period in ("month", "quarter"):
        start = selectors.period_start(period, today)
        targets = Target.objects.filter(period=period, starts_on=start)
        assert {t.user.username for t in targets if t.user} == set(
            User.objects.filter(username__startswith="rep_").values_list("username", flat=True))
        assert {"华东区", "上海分公司", "北京分公司"} <= {t.team.name for t in targets if t.team}
    east = Target.objects.get(period="month", team__name="华东区")
    assert east.count == 2 * 3  # rep_sh, rep_sh2, rep_hz

    count = Target.objects.count()
    assert seed_contracts_demo() is False
    assert Contract.objects.count() == 1 and Target.objects.count() == count
