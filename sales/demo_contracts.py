"""The demo company's contracts and targets: a contract on a won deal of rep_sh with three instalments
(one paid, one partly paid, one overdue), and targets for the demo reps and teams for this month and
this quarter. Written through the services, as people would. Safe to run twice: nothing is added
once a contract exists. Run after crm.demo.seed_demo and sales.demo.seed_sales_demo."""
import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone

from accounts.access import user_access
from accounts.capabilities import Capability
from accounts.models import Team, User

from . import services
from .models import Contract, Opportunity, StageKind

# Per rep and month: won amount, won deals. A quarter is three months; a team adds up its reps.
REP_MONTH_TARGET = (Decimal(300000), 2)
TEAMS = ["总部", "华东区", "华北区", "上海分公司", "杭州分公司", "北京分公司"]


def seed_contracts_demo():
    """Returns True when anything was added."""
    if Contract.objects.exists():
        return False
    deal = demo_won_deal()
    if deal is None:
        return False
    _seed_contract(deal)
    _seed_targets()
    return True


def demo_won_deal():
    """A won deal of rep_sh (or of any rep); when none was won, rep_sh's first deal is walked to won."""
    won = Opportunity.objects.filter(stage__kind=StageKind.WON).select_related("owner", "pipeline")
    deal = won.filter(owner__username="rep_sh").order_by("pk").first() or won.order_by("pk").first()
    if deal is not None:
        return deal
    deal = Opportunity.objects.filter(owner__username="rep_sh", closed_at=None).order_by("pk").first()
    if deal is None:
        return None
    from .demo import _walk_to

    _walk_to(deal, deal.pipeline.stages.get(kind=StageKind.WON), deal.owner, None)
    return Opportunity.objects.get(pk=deal.pk)


def _share(amount, percent):
    return (amount * percent / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _seed_contract(deal):
    rep, today = deal.owner, timezone.localdate()
    amount = deal.amount or Decimal(300000)
    first, second = _share(amount, 30), _share(amount, 40)
    plan = [(today - datetime.timedelta(days=60), first, "首付款"),
            (today - datetime.timedelta(days=15), second, "到货款"),
            (today + datetime.timedelta(days=30), amount - first - second, "验收款")]
    contract = services.contract_create(
        by=rep, opportunity=deal, title=f"{deal.name}合同", amount=amount,
        signed_on=today - datetime.timedelta(days=75), starts_on=today - datetime.timedelta(days=60),
        ends_on=today + datetime.timedelta(days=305), terms="分三期付款：首付 30%，到货 40%，验收 30%。",
        instalments=plan)
    paid, _overdue, partly = contract.instalments.order_by("number")
    services.payment_record(by=rep, instalment=paid, amount=paid.amount, received_on=paid.due_on, method="银行转账")
    services.payment_record(by=rep, instalment=partly, amount=_share(partly.amount, 50),
                            received_on=today - datetime.timedelta(days=3), method="银行转账", note="验收款预付一半")
    services.instalments_mark_overdue()
    return contract


def _seed_targets():
    """Targets for this month and this quarter, set by the sales director (or the admin, if the
    director's role lacks the capability)."""
    people = {u.username: u for u in User.objects.filter(username__in=["director", "admin"])}
    setter = next((people[name] for name in ("director", "admin")
                   if name in people and user_access(people[name]).has(Capability.MANAGE_TARGETS)), None)
    if setter is None:
        return
    today = timezone.localdate()
    reps = list(User.objects.filter(username__startswith="rep_", is_active=True).select_related("team"))
    teams = {t.pk: t for t in Team.objects.filter(name__in=TEAMS)}
    for period, months in (("month", 1), ("quarter", 3)):
        per_team = {}
        for rep in reps:
            amount, count = REP_MONTH_TARGET[0] * months, REP_MONTH_TARGET[1] * months
            services.target_save(by=setter, period=period, starts_on=today, user=rep, amount=amount, count=count)
            for team_id in rep.team.ancestor_ids if rep.team else ():
                total = per_team.setdefault(team_id, [Decimal(0), 0])
                total[0] += amount
                total[1] += count
        for team_id, (amount, count) in per_team.items():
            if team_id in teams:
                services.target_save(by=setter, period=period, starts_on=today, team=teams[team_id], amount=amount,
                                     count=count)
