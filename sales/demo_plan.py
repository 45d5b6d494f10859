"""The demo company's year of deals, drawn (not yet written: sales.demo_deals writes them).

Everything is relative to now and drawn with a seeded random generator in a fixed order, so a given
day always draws the same year, and every day draws the same shape of year:
- Each rep has a monthly target (REPS, shaped by the season); each past month they win deals adding
  up to about the target times their form, so rep_sh meets every quarter's target, rep_bj misses
  every one, and the others meet some; every month has won deals. They lose more than they win.
- A won deal took weeks to months (its cycle) through every open stage of its pipeline, its stage
  visits dated along the way; a lost one stopped at some stage; an invalid one at the first.
- Open deals sit in every stage, created in the last months, expected to close over the coming
  months (a few already past their date), a few stale (longer in their stage than it allows).
"""
import datetime
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone

from .models import StageKind, TargetPeriod
from .selectors.targets import last_day, period_shift, period_start

MONTH, QUARTER = TargetPeriod.MONTH, TargetPeriod.QUARTER

# username: (monthly target in ¥, won deals a month, form: how much of the target they win)
REPS = {
    "rep_sh": (Decimal(450000), 2, Decimal("1.2")),
    "rep_hz": (Decimal(350000), 2, Decimal("1.0")),
    "rep_sh2": (Decimal(250000), 1, Decimal("0.9")),
    "rep_bj": (Decimal(400000), 2, Decimal("0.7")),
}
STAR, LAGGARD = "rep_sh", "rep_bj"  # one meets every quarter's target, one misses every one
# Targets by calendar month: 春节 in February, National Day in October, year-end budgets in December.
SEASON = {1: "0.9", 2: "0.6", 3: "1.0", 4: "1.0", 5: "1.0", 6: "1.2", 7: "0.9", 8: "0.9", 9: "1.1", 10: "0.8",
          11: "1.1", 12: "1.4"}
MONTHS_BACK = 15  # deals closed from the month this many months back on
OLDEST_DAYS = 540  # and created in the last year and a half
OPEN_DEALS = {"rep_sh": 14, "rep_hz": 11, "rep_sh2": 8, "rep_bj": 12}

# Deal names, product lines (code, quantity), weight.
KINDS = [
    (["ERP 升级项目", "ERP 专业版升级", "财务系统升级"], [("ERP-PRO", 1)], 14),
    (["ERP 实施项目", "新工厂 ERP 实施", "ERP 一期实施"], [("ERP-STD", 1), ("SVC-Y", 1)], 16),
    (["仓储管理系统", "WMS 项目", "智能仓储一期"], [("WMS", 1)], 14),
    (["智能仓储二期", "多仓库 WMS 扩容"], [("WMS", 2), ("SVC-Y", 1)], 6),
    (["年度运维服务", "系统运维外包"], [("SVC-Y", 1)], 14),
    (["多工厂运维服务", "集团运维服务"], [("SVC-Y", 3)], 6),
    (["集团 ERP 推广", "分子公司 ERP 推广"], [("ERP-PRO", 2), ("SVC-Y", 2)], 4),
    (["供应链协同平台", "采购协同项目"], [("ERP-STD", 1), ("WMS", 1)], 8),
]
SERVICE = "SVC-Y"  # a service contract: short cycles, no discount, paid in one instalment
DISCOUNTS = [0, 0, 3, 5, 5, 8, 10]
CHANNEL_SHARE = 0.2  # of the product deals, those sold through partners (the channel pipeline)
LOST_REASONS = {"price": 30, "competitor": 30, "no_budget": 15, "no_decision": 15, "requirements": 7, "other": 3}
NEXT_STEPS = {  # open stage order (1st, 2nd, ...): what the rep does next
    0: ["约客户技术交流", "发送产品资料", "预约上门拜访"],
    1: ["安排需求调研", "整理需求清单发客户确认", "约 IT 负责人面谈"],
    2: ["提交方案评审材料", "安排样板客户参观", "准备技术答疑"],
    3: ["发送正式报价", "约总经理商谈付款条款", "跟进合同审批"],
}


@dataclass
class PlannedDeal:
    owner: str
    name: str
    lines: list  # [(product code, quantity, discount %)]
    pipeline: str  # "project" or "channel"
    created_at: datetime.datetime
    visits: list  # [(index of the open stage, entered at)], in order; then the closing stage, if closed
    outcome: str = StageKind.OPEN  # or won / lost / invalid
    closed_at: datetime.datetime | None = None
    lost_reason: str = ""
    expected_close: datetime.date | None = None
    next_step: str = ""
    amount: Decimal = Decimal(0)
    stale: bool = False
    extra: dict = field(default_factory=dict)


def month_target(username, month):
    """(amount, count) of a rep's target for the month starting on `month`."""
    base, count, _form = REPS[username]
    season = Decimal(SEASON[month.month])
    amount = (base * season / 10000).quantize(Decimal(1), rounding=ROUND_HALF_UP) * 10000
    return amount, max(1, int((count * season).quantize(Decimal(1), rounding=ROUND_HALF_UP)))


def deal_amount(lines, prices):
    """What the lines come to: Σ quantity × list price × (1 − discount), to the fen."""
    total = sum((Decimal(quantity) * prices[code] * (100 - Decimal(discount)) / 100
                 for code, quantity, discount in lines), Decimal(0))
    return total.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


class YearPlan:
    """Draws the deals of the demo year (see the module docstring): `won_and_lost()`, `open_deals()`.
    `stages` is {"project": n, "channel": n}: how many open stages each pipeline has; `stale_after`
    their stale_after_days per open stage."""

    def __init__(self, rng, prices, stages, stale_after, now=None):
        self.rng, self.prices, self.stages, self.stale_after = rng, prices, stages, stale_after
        self.now = now or timezone.now()
        self.today = timezone.localdate(self.now)
        self.kinds = [kind for kind in KINDS for _ in range(kind[2])]

    # Drawing ------------------------------------------------------------------------------------

    def at_work(self, day, before=None):
        """A moment of `day` in working hours, never after `before` (default: now)."""
        at = datetime.datetime.combine(day, datetime.time(self.rng.randrange(9, 18), self.rng.choice([0, 10, 20, 30,
                                                                                                     40, 50])))
        at = timezone.make_aware(at)
        return min(at, (before or self.now) - datetime.timedelta(minutes=self.rng.randrange(10, 120)))

    def _kind(self, owner, *, pipeline=None):
        names, lines, _weight = self.rng.choice(self.kinds)
        name = self.rng.choice(names)
        service = all(code == SERVICE for code, _q in lines)
        lines = [(code, quantity, 0 if code == SERVICE else self.rng.choice(DISCOUNTS)) for code, quantity in lines]
        if pipeline is None:
            pipeline = "channel" if not service and self.rng.random() < CHANNEL_SHARE else "project"
        deal = PlannedDeal(owner=owner, name=name, lines=lines, pipeline=pipeline, created_at=self.now, visits=[])
        deal.amount = deal_amount(lines, self.prices)
        deal.extra["service"] = service
        return deal

    def _months(self):
        """(first day, last day that may hold closings) of each month from MONTHS_BACK months ago to this
        one; this month's closings end yesterday (none on its first day)."""
        this = self.today.replace(day=1)
        months = []
        for back in range(MONTHS_BACK, -1, -1):
            first = period_shift(MONTH, this, -back)
            last = last_day(MONTH, first) if back else self.today - datetime.timedelta(days=1)
            months.append((first, last))
        return months

    # Closed deals -------------------------------------------------------------------------------

    def won_and_lost(self):
        """The closed deals of every rep, month by month."""
        won = {}  # (owner, month): [deals]
        for first, last in self._months():
            for owner, (_base, _count, form) in REPS.items():
                target, _n = month_target(owner, first)
                days = (last_day(MONTH, first) - first).days + 1
                share = Decimal(max((last - first).days + 1, 0)) / days  # this month: the days gone by
                goal = target * form * Decimal(self.rng.uniform(0.6, 1.4)) * share
                won[(owner, first)] = self._won_deals(owner, goal) if last >= first else []
        self._settle_quarters(won)
        deals = []
        for first, last in self._months():
            if last < first:
                continue
            for owner in REPS:
                for deal in won[(owner, first)]:
                    deals.append(self._closed(deal, StageKind.WON, first, last))
                lost = round(len(won[(owner, first)]) * self.rng.uniform(0.9, 1.9))
                for _i in range(lost):
                    deals.append(self._closed(self._kind(owner), StageKind.LOST, first, last))
                if self.rng.random() < 0.3:
                    deals.append(self._closed(self._kind(owner), StageKind.INVALID, first, last))
        return deals

    def _won_deals(self, owner, goal):
        """Deals adding up to about `goal` (one too big for what is left is drawn again, a few times)."""
        deals, total = [], Decimal(0)
        for _attempt in range(12):
            if total >= goal * Decimal("0.8"):
                break
            deal = self._kind(owner)
            if total + deal.amount > goal * Decimal("1.3") and (total or self.rng.random() > goal / deal.amount):
                continue
            deals.append(deal)
            total += deal.amount
        return deals

    def _settle_quarters(self, won):
        """The star meets every whole past quarter's target and the laggard misses every one; every
        whole past month has won deals."""
        months = [first for first, last in self._months() if last == last_day(MONTH, first)]
        quarters = {period_start(QUARTER, m) for m in months}
        for quarter in sorted(quarters):
            inside = [m for m in months if period_start(QUARTER, m) == quarter]
            if len(inside) < 3:
                continue
            target = sum((month_target(STAR, m)[0] for m in inside), Decimal(0))
            while sum(d.amount for m in inside for d in won[(STAR, m)]) < target:
                won[(STAR, min(inside, key=lambda m: sum(d.amount for d in won[(STAR, m)])))].append(
                    self._kind(STAR, pipeline="project"))
            target = sum((month_target(LAGGARD, m)[0] for m in inside), Decimal(0))
            while sum(d.amount for m in inside for d in won[(LAGGARD, m)]) >= target:
                biggest = max(inside, key=lambda m: sum(d.amount for d in won[(LAGGARD, m)]))
                won[(LAGGARD, biggest)].remove(max(won[(LAGGARD, biggest)], key=lambda d: d.amount))
        for month in months:
            if not any(won[(owner, month)] for owner in REPS):
                won[("rep_hz", month)].append(self._kind("rep_hz"))

    def _closed(self, deal, outcome, first, last):
        """Date the deal: closed on a day of the month, created its cycle before, through its stages."""
        rng = self.rng
        day = first + datetime.timedelta(days=rng.randrange((last - first).days + 1))
        deal.outcome, deal.closed_at = outcome, self.at_work(day)
        opened = self.stages[deal.pipeline]
        if outcome == StageKind.WON:
            cycle = rng.triangular(10, 50, 21) if deal.extra["service"] else rng.triangular(30, 160, 70)
            reached = opened
        elif outcome == StageKind.LOST:
            cycle = rng.triangular(10, 120, 45)
            reached = 1 + min(opened - 1, rng.choices(range(4), weights=[3, 3, 2.5, 1.5])[0])
            deal.lost_reason = rng.choices(list(LOST_REASONS), weights=LOST_REASONS.values())[0]
        else:
            cycle, reached = rng.uniform(3, 25), 1
        cycle = min(cycle, (deal.closed_at - self.now).days + OLDEST_DAYS)
        deal.created_at = self.at_work((deal.closed_at - datetime.timedelta(days=cycle)).date(), deal.closed_at)
        deal.visits = self._visits(deal.created_at, deal.closed_at, reached)
        deal.expected_close = timezone.localdate(deal.closed_at) + datetime.timedelta(days=rng.choice([0, 0, -3, 5,
                                                                                                       10, -7]))
        return deal

    def _visits(self, start, end, stages):
        """[(stage index, entered at)] of `stages` open stages from `start`, the time until `end` shared
        out among them (in proportions of 0.6 to 1.6, so each lasts a day or more), each entered in
        working hours."""
        weights = [self.rng.uniform(0.6, 1.6) for _ in range(stages)]
        span, visits, at = end - start, [], start
        for index, weight in enumerate(weights):
            visits.append((index, self.at_work(timezone.localdate(at), end) if index else at))
            at = at + span * (weight / sum(weights))
        return visits

    # Open deals ---------------------------------------------------------------------------------

    def open_deals(self):
        deals = []
        for owner, count in OPEN_DEALS.items():
            for index in range(count):
                deals.append(self._open(owner, index))
        return deals

    def _open(self, owner, index):
        """An open deal; the rep's first one is stale; rep_sh's and rep_bj's second is in negotiation
        past its expected close date."""
        rng = self.rng
        deal = self._kind(owner, pipeline="project" if index < 2 else None)
        opened = self.stages[deal.pipeline]
        weights = [4, 3, 2, 1.5][:opened]  # fewer deals further on, as in a funnel
        late = index == 1 and owner in (STAR, LAGGARD)
        stage = 3 if late and opened == 4 else rng.choices(range(opened), weights=weights)[0]
        limit = self.stale_after[deal.pipeline][stage]
        deal.stale = limit is not None and (index == 0 or rng.random() < 0.04)
        if deal.stale:
            in_stage = rng.uniform(limit + 3, limit + 35)
        else:
            in_stage = rng.uniform(0.3, limit * 0.85) if limit else rng.uniform(1, 40)
        entered = self.at_work((self.now - datetime.timedelta(days=in_stage)).date())
        deal.created_at = entered
        if stage:
            before = sum(rng.uniform(4, 25) for _ in range(stage))
            deal.created_at = self.at_work((entered - datetime.timedelta(days=before)).date(), entered)
        deal.visits = [*self._visits(deal.created_at, entered, stage), (stage, entered)]
        deal.expected_close = self._expected_close(deal.pipeline, stage, overdue=late or rng.random() < 0.05)
        deal.next_step = rng.choice(NEXT_STEPS[min(stage, 3)])
        return deal

    def _expected_close(self, pipeline, stage, overdue):
        rng, last = self.rng, self.stages[pipeline] - 1
        if overdue and stage == last:
            return self.today - datetime.timedelta(days=rng.randrange(2, 25))
        if pipeline == "channel":
            low, high = (7, 45) if stage == last else (30, 120)
        else:
            low, high = [(60, 170), (40, 120), (15, 75), (5, 40)][stage]
            if stage == 0 and rng.random() < 0.4:
                return None  # too early to say
        return self.today + datetime.timedelta(days=rng.randrange(low, high))
