"""Writes the demo company's year of deals (drawn by sales.demo_plan) with a few bulk inserts: the deals
with their product lines, stage visits and gate ticks, a follow-up with the customer at each stage
reached, and the customers' deal status (what the won hook does, for all of them in one statement).

Each deal goes to a customer of its rep who existed by then (one created since is moved back in
time: a customer's creation never follows its first deal). History entries are written by the
triggers as the rows go in; the times are then set to the past (`crm.demo.backdate`)."""
import datetime
import random

from django.db import connection
from django.utils import timezone

from accounts.models import User
from crm.demo import CUSTOMERS, backdate, backdate_created_events
from crm.models import Choice, Contact, Customer, CustomerKind, CustomerStatus, DealStatus, FollowUp

from .demo_plan import REPS, YearPlan
from .models import GateItem, GateTick, Opportunity, OpportunityLine, Product, StageKind, StageVisit

# What was said at each stage (open stages by their order, closed ones by kind): (follow-up kind, summary).
STAGE_FOLLOWUPS = {
    0: [("call", "电话初步沟通“{deal}”，客户有意向，约下周详细交流"),
        ("wechat", "微信发送“{deal}”的产品资料和案例，客户表示感兴趣"),
        ("visit", "首次拜访，客户介绍了“{deal}”的背景和预算范围")],
    1: [("visit", "上门调研“{deal}”需求，梳理业务流程和现有系统的问题"),
        ("meeting", "与客户业务部门开需求沟通会，确认“{deal}”的范围")],
    2: [("meeting", "“{deal}”方案评审会，技术和财务部门参加，评审通过"),
        ("email", "邮件提交“{deal}”技术方案和实施计划，客户 IT 确认")],
    3: [("visit", "拜访采购负责人，就“{deal}”的价格和付款方式谈判"),
        ("wechat", "微信沟通“{deal}”合同条款，客户法务提出两处修改")],
    StageKind.WON: [("visit", "“{deal}”合同签订，约定下月启动实施"),
                    ("meeting", "“{deal}”签约，客户总经理出席，商定上线时间")],
    StageKind.LOST: [("call", "客户告知“{deal}”选择了其他供应商，感谢前期支持"),
                     ("wechat", "客户微信告知“{deal}”暂缓，今年预算被削减")],
    StageKind.INVALID: [("call", "电话核实“{deal}”，客户暂无采购计划，登记为无效")],
}
CHANNEL_FOLLOWUPS = {
    0: [("call", "合作伙伴报备“{deal}”，电话向客户确认需求")],
    1: [("wechat", "与合作伙伴和客户建群，确认“{deal}”的签约时间和合同文本")],
}


class CustomerBook:
    """The customers of the demo reps a deal may go to (companies and public bodies with a follow-up
    or more), with when each was created."""

    def __init__(self, rng, users):
        self.rng = rng
        customers = list(Customer.objects.filter(owner__in=users.values(), pool=None).exclude(
            status=CustomerStatus.PROSPECT).exclude(kind=CustomerKind.PERSON).order_by("id"))
        self.by_owner = {}
        for customer in customers:
            self.by_owner.setdefault(customer.owner_id, []).append(customer)
        self.contacts = {}
        for customer_id, contact_id in Contact.objects.filter(customer__in=customers).order_by(
                "-is_primary", "id").values_list("customer_id", "id"):
            self.contacts.setdefault(customer_id, []).append(contact_id)
        self.named = {name for names in CUSTOMERS.values() for name in names}
        self.deals, self.moved = {}, set()

    def place(self, deal, owner):
        """Give `deal` a customer of `owner` (and one of its contacts)."""
        mine = self.by_owner[owner.pk]
        latest = deal.created_at - datetime.timedelta(days=3)
        candidates = [c for c in mine if c.created_at < latest]
        if not candidates:  # none old enough: one of the owner's customers dates from before the deal
            customer = self.rng.choice(mine)
            customer.created_at = latest - datetime.timedelta(days=self.rng.uniform(5, 40))
            self.moved.add(customer)
            candidates = [customer]
        weights = [(3 if c.name in self.named else 1) * (2 if c.tier == "A" else 1) / (1 + self.deals.get(c.pk, 0)) ** 2
                   for c in candidates]
        customer = self.rng.choices(candidates, weights=weights)[0]
        self.deals[customer.pk] = self.deals.get(customer.pk, 0) + 1
        contacts = self.contacts.get(customer.pk) or [None]
        return customer, contacts[0] if self.rng.random() < 0.7 else self.rng.choice(contacts)


def seed_deals_demo(pipelines, seed):
    """The demo year's deals in `pipelines` ({"project": Pipeline, "channel": Pipeline}). Returns them."""
    rng = random.Random(seed)
    prices = dict(Product.objects.values_list("code", "list_price"))
    stages = {key: list(pipeline.stages.order_by("order", "id")) for key, pipeline in pipelines.items()}
    opened = {key: [s for s in found if s.kind == StageKind.OPEN] for key, found in stages.items()}
    closing = {key: {s.kind: s for s in found if s.kind != StageKind.OPEN} for key, found in stages.items()}
    plan = YearPlan(rng, prices, {key: len(found) for key, found in opened.items()},
                    {key: [s.stale_after_days for s in found] for key, found in opened.items()})
    planned = sorted(plan.won_and_lost() + plan.open_deals(), key=lambda d: d.created_at)
    users = {u.username: u for u in User.objects.filter(username__in=REPS).select_related("team")}
    book = CustomerBook(rng, users)
    choices = {(c.kind, c.code): c for c in Choice.objects.all()}
    deals = []
    for entry in planned:
        owner = users[entry.owner]
        customer, contact_id = book.place(entry, owner)
        current = closing[entry.pipeline][entry.outcome] if entry.closed_at else opened[entry.pipeline][entry.visits[-1][0]]
        deal = Opportunity(
            customer=customer, contact_id=contact_id, name=entry.name, pipeline=pipelines[entry.pipeline],
            stage=current, amount=entry.amount, expected_close=entry.expected_close, probability=current.probability,
            owner=owner, team_id=owner.team_id, next_step=entry.next_step, closed_at=entry.closed_at,
            source=choices[("source", "partner")] if entry.pipeline == "channel" else customer.source,
            lost_reason=choices.get(("lost_reason", entry.lost_reason)),
            stage_entered_at=entry.closed_at or entry.visits[-1][1], created_by=owner)
        deal.plan = entry
        deals.append(deal)
    Opportunity.objects.bulk_create(deals)
    backdate(Opportunity, {d.pk: (d.plan.created_at, d.stage_entered_at) for d in deals}, ["created_at", "updated_at"])
    backdate_created_events(Opportunity, [d.pk for d in deals])
    _write_lines(deals)
    _write_visits(deals, opened, closing, rng)
    _write_followups(deals, book, choices, rng)
    _customers_follow_their_deals(deals, book)
    return deals


def _write_lines(deals):
    products = {p.code: p for p in Product.objects.all()}
    OpportunityLine.objects.bulk_create([
        OpportunityLine(opportunity=deal, product=products[code], quantity=quantity,
                        list_price=products[code].list_price, unit_price=products[code].list_price,
                        discount_percent=discount, order=(n + 1) * 10)
        for deal in deals for n, (code, quantity, discount) in enumerate(deal.plan.lines)])


def _write_visits(deals, opened, closing, rng):
    """A stage visit per stage passed, each left when the next was entered; the gates' items ticked
    by the owner shortly before the deal entered their stage."""
    items = {}
    for item in GateItem.objects.all():
        items.setdefault(item.stage_id, []).append(item)
    visits, ticks = [], []
    for deal in deals:
        entries = [(opened[deal.plan.pipeline][index], at) for index, at in deal.plan.visits]
        if deal.closed_at:
            entries.append((closing[deal.plan.pipeline][deal.plan.outcome], deal.closed_at))
        for n, (stage, entered) in enumerate(entries):
            left = entries[n + 1][1] if n + 1 < len(entries) else None
            visits.append(StageVisit(opportunity=deal, stage=stage, entered_at=entered, left_at=left,
                                     moved_by=deal.owner))
            earliest = entries[n - 1][1] if n else entered
            for item in items.get(stage.pk, []):
                tick = GateTick(opportunity=deal, item=item, ticked_by=deal.owner)
                day = timezone.localdate(entered - datetime.timedelta(days=rng.choice([0, 0, 1, 2])))
                tick.at = max(earliest, _at_work(rng, day, entered))
                ticks.append(tick)
    StageVisit.objects.bulk_create(visits)
    GateTick.objects.bulk_create(ticks)
    backdate(GateTick, {t.pk: (t.at,) for t in ticks}, ["ticked_at"])


def _write_followups(deals, book, choices, rng):
    """What the rep did with the customer at each stage the deal reached, dated when it entered the
    stage; none after the customer's next planned follow-up (the plan would have been met)."""
    followups = []
    for deal in deals:
        customer = deal.customer
        cap = min(customer.next_followup_at or timezone.now(), timezone.now()) - datetime.timedelta(hours=1)
        said = CHANNEL_FOLLOWUPS if deal.plan.pipeline == "channel" else STAGE_FOLLOWUPS
        moments = [(index, at) for index, at in deal.plan.visits]
        if deal.closed_at:
            moments.append((deal.plan.outcome, deal.closed_at))
        for key, at in moments:
            if key not in said or not customer.created_at < at < cap:
                continue
            kind, summary = rng.choice(said[key])
            followups.append(FollowUp(customer=customer, contact_id=deal.contact_id, kind=choices[("followup_kind", kind)],
                                      at=at, summary=summary.format(deal=deal.name), created_by=deal.owner))
    FollowUp.objects.bulk_create(followups)
    backdate(FollowUp, {f.pk: (f.at,) for f in followups}, ["created_at"])
    with connection.cursor() as cursor:  # the customer's last follow-up (not in its history)
        cursor.execute(
            """UPDATE crm_customer c SET last_followup_at = f.latest
               FROM (SELECT customer_id, max(at) AS latest FROM crm_followup WHERE customer_id = ANY(%s)
                     GROUP BY customer_id) f
               WHERE c.id = f.customer_id AND f.latest > coalesce(c.last_followup_at, '-infinity')""",
            [list({f.customer_id for f in followups})])


def _customers_follow_their_deals(deals, book):
    """A customer with a won deal is won (deal status, date of the latest, amount of the first), its
    history entry dated when that deal was won; a lost customer with an open deal is followed again.
    Customers moved back in time (CustomerBook.place) get their creation dates."""
    won = {}
    for deal in sorted((d for d in deals if d.plan.outcome == StageKind.WON), key=lambda d: d.closed_at):
        first = won.get(deal.customer_id, (None, None, deal.amount))[2]
        won[deal.customer_id] = (deal.closed_at, timezone.localdate(deal.closed_at), first)
    ids = list(won)
    with connection.cursor() as cursor:
        cursor.execute(
            """UPDATE crm_customer c SET deal_status = %s, status = %s, deal_date = v.day,
                   deal_amount = coalesce(c.deal_amount, v.amount), version = c.version + 1
               FROM unnest(%s::bigint[], %s::date[], %s::numeric[]) AS v(id, day, amount) WHERE c.id = v.id""",
            [DealStatus.WON, CustomerStatus.WON, ids, [won[i][1] for i in ids], [won[i][2] for i in ids]])
        cursor.execute(
            """UPDATE crm_customerevent e SET pgh_created_at = v.at
               FROM unnest(%s::bigint[], %s::timestamptz[]) AS v(id, at)
               WHERE e.pgh_obj_id = v.id AND e.pgh_label = 'update'""", [ids, [won[i][0] for i in ids]])
        following = list({d.customer_id for d in deals if d.closed_at is None} - set(ids))
        cursor.execute("UPDATE crm_customer SET status = %s WHERE id = ANY(%s) AND status = %s",
                       [CustomerStatus.FOLLOWING, following, CustomerStatus.LOST])
    moved = {c.pk: (c.created_at, c.created_at) for c in book.moved}
    backdate(Customer, moved, ["created_at", "claimed_at"])
    backdate_created_events(Customer, list(moved))


def _at_work(rng, day, before):
    """A moment of `day` in working hours, before `before`."""
    at = timezone.make_aware(datetime.datetime.combine(day, datetime.time(rng.randrange(9, 18), rng.randrange(60))))
    return min(at, before - datetime.timedelta(minutes=rng.randrange(5, 60)))
