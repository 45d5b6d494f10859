"""The demo company's contracts and targets, written in sets:
- a contract for each won deal, signed within days of the win (from its accepted quote where there
  is one; rep_sh's latest win and any won this week are still being signed), with a payment plan by
  what was sold, and payments as customers pay: most on time, some late, some partly, and the
  instalments still unpaid past their date overdue (the statuses by the services' own rule);
- targets for every demo rep and team for each month and quarter of the demo year and the next
  quarter (a team's is the sum of its reps'), set by the 销售总监.
Safe to run twice: nothing is added once a contract exists. Run after sales.demo_quotes."""
import datetime
import random
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounts.models import Team, User
from crm.demo import backdate, backdate_created_events

from .demo_plan import MONTHS_BACK, REPS, SERVICE, month_target
from .models import (
    Contract,
    ContractStatus,
    Instalment,
    InstalmentStatus,
    Opportunity,
    OpportunityLine,
    Payment,
    QuoteStatus,
    StageKind,
    Target,
    TargetPeriod,
)
from .selectors.targets import period_shift, period_start
from .services.contracts import instalment_status_sql
from .services.numbering import next_number

SEED = 20260303
# Payment plans: (share in %, days after signing it is due, note)
PLANS = [
    [(30, 10, "首付款"), (40, 60, "到货款"), (30, 120, "验收款")],
    [(50, 15, "首付款"), (50, 90, "验收款")],
    [(30, 10, "预付款"), (60, 75, "上线款"), (10, 365, "质保金")],
]
SERVICE_PLAN = [(100, 15, "年度服务费")]
# How a customer pays an instalment: (weight, days after the due date it pays: from, to)
PAYERS = {"on_time": (84, -6, 3), "late": (8, 8, 40), "partly": (8, 0, 10)}
METHODS = ["银行转账", "银行转账", "银行转账", "承兑汇票", "支票"]
MONEY = Decimal("0.01")


def seed_contracts_demo():
    """Returns True when anything was added."""
    if Contract.objects.exists():
        return False
    rng = random.Random(SEED)
    deals = _won_deals()
    if not deals:
        return False
    contracts = _write_contracts(deals, rng)
    _write_plans_and_payments(contracts, rng)
    _seed_targets()
    return True


def _won_deals():
    """Won deals that have a contract by now: all but those won this week and rep_sh's latest (the
    browser tests make a contract on it), oldest first, with their accepted quote if any."""
    services = OpportunityLine.objects.filter(opportunity=OuterRef("pk")).exclude(product__code=SERVICE)
    won = list(Opportunity.objects.filter(stage__kind=StageKind.WON).select_related("owner", "customer")
               .prefetch_related("quotes").annotate(products=Exists(services)).order_by("closed_at", "id"))
    latest = next((d for d in reversed(won) if d.owner and d.owner.username == "rep_sh"), None)
    week = timezone.now() - datetime.timedelta(days=7)
    return [d for d in won if d is not latest and d.closed_at < week]


def _write_contracts(deals, rng):
    today = timezone.localdate()
    contracts = []
    for deal in deals:
        signed = min(timezone.localdate(deal.closed_at) + datetime.timedelta(days=rng.randrange(0, 6)), today)
        quote = next((q for q in deal.quotes.all() if q.status == QuoteStatus.ACCEPTED), None)
        contract = Contract(
            opportunity=deal, quote=quote, number=next_number("contract", Contract, day=signed),
            title=f"{deal.name}合同", amount=quote.total if quote else deal.amount,
            signed_on=signed, starts_on=signed + datetime.timedelta(days=7),
            ends_on=signed + datetime.timedelta(days=372), created_by=deal.owner,
            terms="按付款计划分期付款，验收合格后十个工作日内支付验收款。" if deal.products else "服务期一年，到期前一个月协商续约。")
        contract.plan = rng.choice(PLANS) if deal.products else SERVICE_PLAN
        contracts.append(contract)
    Contract.objects.bulk_create(contracts)
    backdate(Contract, {c.pk: (_signed_at(c.signed_on, rng),) for c in contracts}, ["created_at"])
    backdate_created_events(Contract, [c.pk for c in contracts])
    return contracts


def _signed_at(day, rng):
    at = timezone.make_aware(datetime.datetime.combine(day, datetime.time(rng.randrange(9, 18), rng.randrange(60))))
    return min(at, timezone.now() - datetime.timedelta(minutes=30))


def _split(amount, shares):
    """The amount in parts of `shares` (%), to the fen; the last takes what rounding left."""
    parts = [(amount * share / 100).quantize(MONEY, rounding=ROUND_HALF_UP) for share in shares[:-1]]
    return [*parts, amount - sum(parts, Decimal(0))]


def _write_plans_and_payments(contracts, rng):
    """Each contract's instalments, and the payments received for those due by now: on time, late
    (still unpaid if that is after today: overdue now) or partly. For a contract of rep_sh and one of
    rep_bj signed a few months ago, the customer pays late and has not paid the latest instalment due."""
    today = timezone.localdate()
    late = {c.opportunity.owner.username: c for c in contracts
            if today - datetime.timedelta(days=150) < c.signed_on < today - datetime.timedelta(days=25)}
    late = [late[name] for name in ("rep_sh", "rep_bj") if name in late]
    instalments, payments = [], []
    for contract in contracts:
        amounts = _split(contract.amount, [share for share, _days, _note in contract.plan])
        dues = [contract.signed_on + datetime.timedelta(days=days) for _share, days, _note in contract.plan]
        unpaid = max((due for due in dues if due < today), default=None) if contract in late else None
        for number, ((_share, _days, note), amount, due) in enumerate(zip(contract.plan, amounts, dues, strict=True),
                                                                      start=1):
            instalment = Instalment(contract=contract, number=number, due_on=due, amount=amount, note=note)
            instalments.append(instalment)
            if due == unpaid:
                continue
            payer = "late" if contract in late else rng.choices(list(PAYERS), weights=[w for w, _a, _b in
                                                                                         PAYERS.values()])[0]
            payments += _payments(instalment, payer, contract, rng, today)
    Instalment.objects.bulk_create(instalments)
    Payment.objects.bulk_create(payments)
    backdate(Payment, {p.pk: (_signed_at(p.received_on, rng),) for p in payments}, ["recorded_at"])
    _settle(instalments, payments, contracts, today)


def _payments(instalment, payer, contract, rng, today):
    _weight, early, late = PAYERS[payer]
    received = instalment.due_on + datetime.timedelta(days=rng.randint(early, late))
    received = max(received, contract.signed_on)
    if received > today:
        return []
    method = rng.choice(METHODS)
    owner = contract.opportunity.owner
    if payer != "partly":
        return [Payment(instalment=instalment, amount=instalment.amount, received_on=received, method=method,
                        recorded_by=owner)]
    half = (instalment.amount / 2).quantize(MONEY)
    rest = received + datetime.timedelta(days=rng.randrange(20, 80))
    paid = [Payment(instalment=instalment, amount=half, received_on=received, method=method, recorded_by=owner,
                    note="客户先付一半，余款下月付清")]
    if rest <= today:
        paid.append(Payment(instalment=instalment, amount=instalment.amount - half, received_on=rest, method=method,
                            recorded_by=owner, note="余款"))
    return paid


def _settle(instalments, payments, contracts, today):
    """Paid sums and statuses by the services' rule (sales.services.contracts); a contract whose
    instalments are all paid is completed."""
    paid = {}
    for payment in payments:
        paid[payment.instalment.pk] = paid.get(payment.instalment.pk, Decimal(0)) + payment.amount
    for instalment in instalments:
        instalment.paid = paid.get(instalment.pk, Decimal(0))
    Instalment.objects.bulk_update(instalments, ["paid"])
    Instalment.objects.filter(contract__in=contracts).update(status=instalment_status_sql(today))
    open_left = Instalment.objects.filter(contract=OuterRef("pk")).exclude(status=InstalmentStatus.PAID)
    Contract.objects.filter(pk__in=[c.pk for c in contracts]).exclude(Exists(open_left)).update(
        status=ContractStatus.COMPLETED)


def _seed_targets():
    """Targets of each demo rep for every month and quarter from the start of the demo year to the end
    of the next quarter, and of each team above them (the sum of its reps'), set by the 销售总监."""
    director = User.objects.get(username="director")
    reps = list(User.objects.filter(username__in=REPS).select_related("team"))
    teams = {t.pk: t for t in Team.objects.all()}
    this = timezone.localdate().replace(day=1)
    first = period_start(TargetPeriod.QUARTER, period_shift(TargetPeriod.MONTH, this, -MONTHS_BACK))
    last = period_shift(TargetPeriod.QUARTER, period_start(TargetPeriod.QUARTER, this), 2)
    months = []
    month = first
    while month < last:
        months.append(month)
        month = period_shift(TargetPeriod.MONTH, month, 1)
    sums = {}  # (period, starts_on, user or team id): [amount, count]
    for rep in reps:
        for month in months:
            amount, count = month_target(rep.username, month)
            quarter = period_start(TargetPeriod.QUARTER, month)
            subjects = [("user", rep.pk)] + [("team", team_id) for team_id in rep.team.ancestor_ids]
            for kind, pk in subjects:
                for key in ((TargetPeriod.MONTH, month, kind, pk), (TargetPeriod.QUARTER, quarter, kind, pk)):
                    total = sums.setdefault(key, [Decimal(0), 0])
                    total[0] += amount
                    total[1] += count
    Target.objects.bulk_create([
        Target(period=period, starts_on=starts_on, user_id=pk if kind == "user" else None,
               team=teams[pk] if kind == "team" else None, amount=amount, count=count, set_by=director)
        for (period, starts_on, kind, pk), (amount, count) in sums.items()])
