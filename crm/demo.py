"""The demo company: teams, one user per persona, three customer pools and a few hundred customers
created over the last year and a half, with contacts and follow-ups at the pace of each customer's
tier: the latest recent enough for the company's reminder for most, and within the pool's rule for
all (the nightly pool run would have taken the others back), as in a company that works in its CRM
every day. sales.demo adds the year of deals. Demo passwords are for local trial only and are
printed by `make run`.

Everything is drawn from the word lists of crm.demo_words with a seeded random generator, so two
runs on one day (and the screenshots of the browser tests) show the same company; the dates are
relative to today. The same word lists feed the volume generator (`crm.scale`)."""
import datetime
import random

import pgtrigger
from django.contrib.auth.hashers import make_password
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Role, Share, Team, User
from accounts.services import audited

from .demo_words import (
    BUREAUS,
    CITIES,
    FOLLOWUP_KIND_WEIGHTS,
    GIVEN_NAMES,
    INDUSTRY_WORDS,
    LANDLINE_FIRST_DIGITS,
    LEGAL_FORMS,
    MOBILE_PREFIXES,
    NEXT_STEPS,
    NOTES,
    OUTCOMES,
    ROADS,
    SUMMARIES,
    SURNAMES,
    TAGS,
    TITLES,
    TRADE_NAMES,
)
from .lib.audit import event_model
from .lib.text import normalise_phone, pinyin_forms
from .models import (
    Choice,
    Contact,
    Customer,
    CustomerKind,
    CustomerStatus,
    FollowUp,
    Pool,
    PoolEvent,
    Tier,
)
from .notifications import rule_for
from .seed import seed_choices
from .services.customers import customers_refresh_search
from .services.notifications import notifications_scan
from .services.pool import RETURN_REASONS

DEMO_PASSWORD = "demo1234"

TEAMS = [  # name, parent name
    ("总部", None), ("华东区", "总部"), ("上海分公司", "华东区"), ("杭州分公司", "华东区"),
    ("华北区", "总部"), ("北京分公司", "华北区"),
]

# username, display name, mobile, team, manager, role, lead of team
PERSONAS = [
    ("admin", "系统管理员 王敏", "13800000001", "总部", None, "系统管理员", False),
    ("director", "销售总监 李强", "13800000002", "总部", None, "销售总监", True),
    ("manager_east", "华东区经理 陈静", "13800000003", "华东区", "director", "区域经理", True),
    ("manager_north", "华北区经理 赵磊", "13800000004", "华北区", "director", "区域经理", True),
    ("rep_sh", "上海销售 刘洋", "13800000005", "上海分公司", "manager_east", "销售代表", False),
    ("rep_sh2", "上海销售 孙悦", "13800000010", "上海分公司", "manager_east", "销售代表", False),
    ("rep_hz", "杭州销售 周婷", "13800000006", "杭州分公司", "manager_east", "销售代表", False),
    ("rep_bj", "北京销售 吴昊", "13800000007", "北京分公司", "manager_north", "销售代表", False),
    ("service", "客服 郑欣", "13800000008", "上海分公司", "manager_east", "客服专员", False),
    ("marketing", "市场 何方", "13800000009", "总部", "director", "市场专员", False),
    ("it", "数据管理员 马骏", "13800000011", "总部", "director", "数据管理员/IT", False),
]

# Customers the browser tests and the README refer to by name, with their owners.
CUSTOMERS = {
    "rep_sh": ["上海浦东华信科技有限公司", "上海申通物流有限公司", "上海明德教育咨询有限公司", "上海锦江餐饮管理有限公司"],
    "rep_sh2": ["上海东方医疗器械有限公司", "上海星辰建筑设计院"],
    "rep_hz": ["杭州西湖软件有限公司", "杭州钱塘电子商务有限公司", "杭州绿源茶业有限公司"],
    "rep_bj": ["北京华信信息技术有限公司", "北京中关村创新科技有限公司", "北京燕京建材有限公司", "北京首都医科设备有限公司"],
    "manager_east": ["江苏苏州工业园区制造有限公司"],
    "director": ["深圳南山智能硬件有限公司"],
}

# Which cities each demo owner (and pool) works in.
OWNER_CITIES = {
    "rep_sh": ["上海"] * 9 + ["苏州"], "rep_sh2": ["上海"] * 4 + ["无锡"],
    "rep_hz": ["杭州"] * 6 + ["宁波", "绍兴", "温州"], "rep_bj": ["北京"] * 5 + ["天津"],
    "manager_east": ["南京", "苏州", "无锡", "常州", "合肥"], "manager_north": ["天津", "石家庄", "济南", "青岛"],
    "director": ["深圳", "广州", "成都", "武汉"],
}
# owner: (customers in all, of which today / overdue / later next follow-ups)
OWNER_BOOK = {
    "rep_sh": (72, 4, 2, 24), "rep_sh2": (40, 3, 2, 12), "rep_hz": (54, 4, 3, 16), "rep_bj": (58, 4, 2, 18),
    "manager_east": (18, 1, 1, 6), "manager_north": (12, 1, 1, 4), "director": (16, 0, 1, 5),
}
# pool: (member team, is default, customers, cities)
POOLS = {
    "华东公海": ("华东区", False, 15, ["上海", "杭州", "南京", "苏州"]),
    "华北公海": ("华北区", False, 8, ["北京", "天津", "济南"]),
    "公海": (None, True, 7, ["广州", "深圳", "成都", "西安"]),
}
POOL_RULES = {
    "idle_days_a": 15, "idle_days_b": 30, "idle_days_c": 60, "daily_claim_limit": 5, "reclaim_block_days": 7,
    "owner_cap": 200,
}
# Days between two follow-ups in a customer's history, by tier; the share of customers whose last
# follow-up is older than the reminder allows (never older than the pool's rule: the nightly pool run
# would have taken them back).
CADENCE = {"A": (5, 15), "B": (10, 28), "C": (20, 50)}
LAPSED = 0.02
MOST_FOLLOWUPS = 40  # per customer
# Times of day (hour, minute) of today's follow-ups, so My day looks like a working day.
TODAY_SLOTS = [(9, 30), (10, 0), (10, 30), (11, 0), (14, 0), (15, 0), (15, 30), (16, 30), (17, 0)]
SEED = 20260301


def reminder_days(tier):
    """Days without a follow-up before the "not followed up" reminder says so (its default)."""
    return rule_for("not_followed_up").defaults[f"days_{tier.lower()}"]


def pool_days(tier):
    """Days without a follow-up before the demo company's pools take a customer back."""
    return POOL_RULES[f"idle_days_{tier.lower()}"]


def demo_is_loaded():
    return User.objects.filter(username="admin").exists()


def seed_demo():
    """Create the demo company if it is not there. Safe to run twice: nothing is duplicated.
    Returns True when anything was added."""
    added = False
    seed_choices(Choice)
    with audited(None, "seed_demo"):
        if not demo_is_loaded():
            _seed_people()
            added = True
        if not Pool.objects.filter(name__in=POOLS).exists():
            _seed_company()
            added = True
    return added


def seed_demo_reminders():
    """The reminders of the demo company as the first login finds them: one scan, once everything is
    loaded (each app's demo data included). Returns what the scan raised per rule."""
    return {key: counts["raised"] for key, counts in notifications_scan().items()}


def _seed_people():
    teams = {}
    for name, parent in TEAMS:
        teams[name] = account_services.team_create(name=name, parent=teams.get(parent))
    roles = {r.name: r for r in Role.objects.all()}
    users = {}
    for username, display, mobile, team, manager, role, lead in PERSONAS:
        users[username] = account_services.user_create(
            username=username, display_name=display, mobile=mobile, team=teams[team],
            manager=users.get(manager), email=f"{username}@demo.invalid", password=None, roles=[roles[role]],
        )
        if lead:
            Team.objects.filter(pk=teams[team].pk).update(lead=users[username])
    # One hash of the (public) demo password for everyone: hashing it per user took most of the seed.
    User.objects.filter(pk__in=[u.pk for u in users.values()]).update(password=make_password(DEMO_PASSWORD))


def _seed_company():
    users = {u.username: u for u in User.objects.select_related("team").filter(username__in=[p[0] for p in PERSONAS])}
    teams = {u.team.name: u.team for u in users.values() if u.team}
    choices = {(c.kind, c.code): c for c in Choice.objects.all()}
    pools = _seed_pools(teams)
    # A company loaded by an earlier version of this command already has the named customers.
    existing = set(Customer.objects.filter(name__in=[n for names in CUSTOMERS.values() for n in names])
                   .values_list("name", flat=True))
    company = DemoCompany(random.Random(SEED), users, choices, existing)
    for owner, (count, *_plan) in OWNER_BOOK.items():
        company.add_book(owner, count)
    for pool_name, (team, _default, count, cities) in POOLS.items():
        company.add_pool_customers(pools[pool_name], teams.get(team), count, cities)
    company.save()
    _seed_shares(users)


def _seed_pools(teams):
    pools = {}
    for name, (team, is_default, _count, _cities) in POOLS.items():
        pool = Pool.objects.create(name=name, is_default=is_default, **POOL_RULES)
        if team:
            pool.teams.set([teams[team]])
        pools[name] = pool
    return pools


# customer name, shared with, can edit, days until it ends (None: no end), shared by
SHARES = [
    ("杭州西湖软件有限公司", "rep_sh", False, None, "rep_hz"),
    ("上海申通物流有限公司", "rep_hz", True, 30, "rep_sh"),
    ("深圳南山智能硬件有限公司", "manager_north", False, None, "director"),
]


def _seed_shares(users):
    """A few records shared by hand inside 华东区 and with the north, as people do."""
    by_name = {c.name: c for c in Customer.objects.filter(name__in=[s[0] for s in SHARES])}
    ct = ContentType.objects.get_for_model(Customer)
    now = timezone.now()
    Share.objects.bulk_create([
        Share(content_type=ct, object_id=by_name[name].pk, user=users[to], can_edit=can_edit, created_by=users[by],
              expires_at=now + datetime.timedelta(days=days) if days else None)
        for name, to, can_edit, days, by in SHARES if name in by_name
    ])


def _local_today():
    return timezone.localdate()


def _at(day, hour, minute=0):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


class DemoCompany:
    """Draws customers, contacts and follow-ups, then writes them with a handful of bulk inserts."""

    def __init__(self, rng, users, choices, existing=()):
        self.rng, self.users, self.choices, self.existing = rng, users, choices, set(existing)
        self.today = _local_today()
        self.now = timezone.now()
        self.customers, self.named = [], []
        self.names = {name for names in CUSTOMERS.values() for name in names}
        self.mobiles = set()
        kinds = list(FOLLOWUP_KIND_WEIGHTS)
        self.kind_pool = [k for k in kinds for _ in range(FOLLOWUP_KIND_WEIGHTS[k])]

    # Drawing --------------------------------------------------------------------------------------

    def pick(self, items):
        return self.rng.choice(items)

    def mobile(self):
        while True:
            number = f"{self.pick(MOBILE_PREFIXES)}{self.rng.randrange(10 ** 8):08d}"
            if number not in self.mobiles:
                self.mobiles.add(number)
                return normalise_phone(number)

    def landline(self, city):
        area = CITIES[city][1]
        return normalise_phone(f"{area}-{self.pick(LANDLINE_FIRST_DIGITS)}{self.rng.randrange(10 ** 7):07d}")

    def person_name(self):
        return self.pick(SURNAMES) + self.pick(GIVEN_NAMES)

    def company_name(self, city, kind):
        """(name, industry code, trade name) of a new customer in `city`, unique in the company."""
        while True:
            if kind == CustomerKind.PERSON:
                name = trade = self.person_name()
                industry = None
            elif kind == CustomerKind.GOVERNMENT:
                trade = self.pick(CITIES[city][2])
                name = f"{city}市{trade}{self.pick(BUREAUS)}"
                industry = "government"
            else:
                word, trade = self.pick(list(INDUSTRY_WORDS)), self.pick(TRADE_NAMES)
                form = self.rng.choices(list(LEGAL_FORMS), weights=LEGAL_FORMS.values())[0]
                name = f"{city}{trade}{word}{form}"
                industry = INDUSTRY_WORDS[word]
            if name not in self.names:
                self.names.add(name)
                return name, industry, trade

    def draw_kind(self):
        roll = self.rng.random()
        return CustomerKind.PERSON if roll < 0.03 else CustomerKind.GOVERNMENT if roll < 0.06 else CustomerKind.COMPANY

    def new_customer(self, name, city, kind, industry, trade):
        rng = self.rng
        province, _area, districts = CITIES[city]
        slug = f"{trade}{rng.randrange(100, 999)}"
        customer = Customer(
            kind=kind, name=name, tier=rng.choices([Tier.A, Tier.B, Tier.C], weights=[15, 50, 35])[0],
            industry=self.choices.get(("industry", industry)) if industry else None,
            source=self.choices[("source", self.pick(["referral", "website", "exhibition", "cold_call", "campaign",
                                                       "partner", "referral", "website"]))],
            province=province, city=city, district=self.pick(districts),
            address=f"{self.pick(ROADS)}{rng.randrange(1, 999)}号",
            phone=self.landline(city) if kind != CustomerKind.PERSON and rng.random() < 0.85 else "",
            mobile=self.mobile() if kind == CustomerKind.PERSON or rng.random() < 0.4 else "",
            email=self._email(kind, slug), website=f"www.{_ascii(slug)}.com" if kind == CustomerKind.COMPANY else "",
            tags=sorted(set(rng.sample(TAGS, k=rng.choice([0, 0, 0, 1, 1, 2])))),
            notes=self.pick(NOTES) if rng.random() < 0.15 else "",
        )
        customer._slug = _ascii(slug)
        return customer

    def _email(self, kind, slug):
        if kind == CustomerKind.PERSON:
            return f"{self.rng.randrange(10 ** 5, 10 ** 9)}@qq.com"
        if kind == CustomerKind.GOVERNMENT:
            return ""
        return f"{self.pick(['info', 'sales', 'contact', 'office', 'service'])}@{_ascii(slug)}.com"

    # Books ----------------------------------------------------------------------------------------

    def add_book(self, username, count):
        """`count` customers owned by `username` (the named ones first), with their follow-up plan:
        some due today, some overdue, some later, the rest without a next follow-up."""
        owner = self.users[username]
        _count, today, overdue, later = OWNER_BOOK[username]
        plan = ["today"] * today + ["overdue"] * overdue + ["later"] * later
        plan += [None] * (count - len(plan))
        self.rng.shuffle(plan)
        named = CUSTOMERS.get(username, [])
        drawn = []
        for i, due in enumerate(plan):
            city = self.pick(OWNER_CITIES[username])
            kind = CustomerKind.COMPANY if i < len(named) else self.draw_kind()
            if i < len(named):
                name, industry = named[i], _industry_of(named[i])
                city = next((c for c in CITIES if c in name[:4]), city)
                trade = name[name.index(city) + len(city):][:2]
            else:
                name, industry, trade = self.company_name(city, kind)
            customer = self.new_customer(name, city, kind, industry, trade)
            customer.owner, customer.team, customer.created_by = owner, owner.team, owner
            self._history(customer, owner, due, slot=len(drawn) % len(TODAY_SLOTS), rich=i < len(named))
            drawn.append((i < len(named), customer))
        self.customers += [c for is_named, c in drawn if not is_named]
        self.named += [c for is_named, c in drawn if is_named and c.name not in self.existing]

    def add_pool_customers(self, pool, team, count, cities):
        """Customers waiting in `pool`: released by, or returned by rule from, a former owner, after
        their last follow-up (months ago)."""
        owners = [u for u in self.users.values() if u.username.startswith("rep_")
                  and (team is None or u.team.path.startswith(team.path))] or [self.users["director"]]
        for i in range(count):
            city = self.pick(cities)
            kind = self.draw_kind()
            name, industry, trade = self.company_name(city, kind)
            customer = self.new_customer(name, city, kind, industry, trade)
            former = self.pick(owners)
            customer.pool, customer.team, customer.created_by = pool, former.team if team else None, former
            self._history(customer, former, None, slot=0, idle=True)
            latest = customer.last_followup_at
            if i % 2:  # released by the owner some weeks after the last follow-up
                event = (PoolEvent.Kind.RELEASE, self.at_work(latest + datetime.timedelta(days=self.rng.uniform(3, 40))))
            else:  # taken back by the nightly pool run once the tier's days had passed
                night = timezone.localdate(latest) + datetime.timedelta(days=pool_days(customer.tier) + 1)
                event = (PoolEvent.Kind.RETURN, _at(night, 2))
            customer._event = (pool, former, *event)
            self.customers.append(customer)

    def at_work(self, moment):
        """`moment`'s day at a working hour (9:00 to 18:00 local time), but never later than now."""
        day = timezone.localdate(moment)
        at = _at(day, self.rng.randrange(9, 18), self.pick([0, 5, 10, 15, 20, 30, 40, 45, 50]))
        return min(at, self.now - datetime.timedelta(minutes=self.rng.randrange(5, 90)))

    def _contacts(self, customer):
        rng = self.rng
        contacts = [Contact(
            name=self.person_name(), title=self.pick(TITLES), mobile=self.mobile(),
            phone=self.landline(customer.city) if rng.random() < 0.3 else "",
            wechat=f"wx_{rng.randrange(10 ** 6, 10 ** 8)}" if rng.random() < 0.5 else "",
            is_primary=(n == 0),
        ) for n in range(rng.choice([1, 1, 2, 2, 2, 3]))]
        for contact in contacts:
            if customer.kind == CustomerKind.COMPANY and rng.random() < 0.7:
                contact.email = f"{pinyin_forms(contact.name)[0]}@{customer._slug}.com"
        return contacts

    def _next_followup(self, tier, due, slot):
        rng = self.rng
        if due == "today":
            return _at(self.today, *TODAY_SLOTS[slot])
        if due == "overdue":  # missed, but not so long ago that the pool rule would have struck
            return _at(self.today - datetime.timedelta(days=rng.randrange(1, min(12, pool_days(tier) - 6))), 10)
        if due == "later":
            return _at(self.today + datetime.timedelta(days=rng.randrange(1, 30)), rng.choice([9, 10, 14, 15, 16]))
        return None

    def _latest(self, customer, idle):
        """The time of the customer's last follow-up: months ago for one waiting in a pool; before the
        next planned one; else within the reminder's days for most, a little past them for a few."""
        rng, tier, planned = self.rng, customer.tier, customer.next_followup_at
        if idle:
            return self.at_work(self.now - datetime.timedelta(days=rng.uniform(70, 200)))
        if planned:  # a missed plan may have lapsed; one still ahead was made at a follow-up in time
            latest = min(planned - datetime.timedelta(days=rng.uniform(3, 21)),
                         self.now - datetime.timedelta(days=rng.uniform(1, 5)))
            limit = pool_days(tier) - 2 if timezone.localdate(planned) < self.today else reminder_days(tier) - 0.5
            return self.at_work(max(latest, self.now - datetime.timedelta(days=limit)))
        limit = reminder_days(tier)
        days = (rng.uniform(limit, pool_days(tier) - 2) if rng.random() < LAPSED else rng.uniform(0.2, limit - 0.5))
        return self.at_work(self.now - datetime.timedelta(days=days))

    def _times(self, tier, created, latest):
        """Follow-up times from soon after the customer was created up to `latest`, at the tier's pace."""
        low, high = CADENCE[tier]
        at, times = created + datetime.timedelta(days=self.rng.uniform(1, 6)), []
        while at < latest - datetime.timedelta(days=low / 2):
            times.append(self.at_work(at))
            at += datetime.timedelta(days=self.rng.uniform(low, high))
        return [*times, latest][-MOST_FOLLOWUPS:]

    def _history(self, customer, owner, due, slot, idle=False, rich=False):
        """Contacts, follow-ups from its creation on (oldest first), status and the next follow-up.
        A few new customers (created this week) have no follow-up yet; `rich` customers (the named
        ones people open first) are over a year old."""
        rng = self.rng
        customer._contacts = self._contacts(customer)
        customer.next_followup_at = self._next_followup(customer.tier, due, slot)
        if not rich and not idle and due != "overdue" and rng.random() < 0.08:
            times = []
            customer._created_at = self.at_work(self.now - datetime.timedelta(days=rng.uniform(0.5, 5)))
        else:
            latest = self._latest(customer, idle)
            age = rng.uniform(420, 540) if rich else rng.uniform(15, 600)
            customer._created_at = self.at_work(latest - datetime.timedelta(days=age))
            times = self._times(customer.tier, customer._created_at, latest)
        followups = []
        for n, at in enumerate(times):
            kind = self.pick(self.kind_pool)
            nxt = times[n + 1] if n + 1 < len(times) else customer.next_followup_at
            followups.append(FollowUp(
                kind=self.choices[("followup_kind", kind)], at=at, summary=self.pick(SUMMARIES[kind]),
                outcome=self.pick(OUTCOMES), next_step=self.pick(NEXT_STEPS) if nxt else "",
                next_followup_at=nxt, created_by=owner, contact=self.pick(customer._contacts),
            ))
        customer._followups = followups
        customer.last_followup_at = times[-1] if times else None
        customer.claimed_at = None if idle else customer._created_at
        self._status(customer, bool(times), idle)

    def _status(self, customer, followed, idle):
        """Prospects have no follow-up yet; lost customers have nothing planned (so every planned
        follow-up stays on My day). Won customers are those with a won deal (the sales demo)."""
        if not followed:
            customer.status = CustomerStatus.PROSPECT
        elif not idle and customer.next_followup_at is None and self.rng.random() < 0.08:
            customer.status = CustomerStatus.LOST
        else:
            customer.status = CustomerStatus.FOLLOWING
        if customer.tier == Tier.A and not idle and self.rng.random() < 0.2:
            customer.locked = True

    # Writing --------------------------------------------------------------------------------------

    def save(self):
        # In the order they were created, the named customers last, so they are the newest in every
        # list (the browser tests open them).
        self.customers.sort(key=lambda c: c._created_at)
        self.customers += self.named
        self.named = []
        Customer.objects.bulk_create(self.customers)
        for customer in self.customers:
            for contact in customer._contacts:
                contact.customer = customer
            for followup in customer._followups:
                followup.customer = customer
        Contact.objects.bulk_create([c for customer in self.customers for c in customer._contacts])
        followups = FollowUp.objects.bulk_create([f for customer in self.customers for f in customer._followups])
        waiting = [c for c in self.customers if c.pool_id]
        events = PoolEvent.objects.bulk_create([
            PoolEvent(customer=c, pool=c._event[0], owner=c._event[1], kind=c._event[2],
                      by=c._event[1] if c._event[2] == PoolEvent.Kind.RELEASE else None,
                      reason=RETURN_REASONS["idle"] if c._event[2] == PoolEvent.Kind.RETURN else "")
            for c in waiting])
        customers_refresh_search([c.pk for c in self.customers])
        # Creation times in the past (auto_now_add set them to now); the "created" entry of each
        # customer's history dates from its creation too.
        backdate(Customer, {c.pk: (c._created_at,) for c in self.customers}, ["created_at"])
        backdate(FollowUp, {f.pk: (f.at,) for f in followups}, ["created_at"])
        backdate(PoolEvent, {e.pk: (c._event[3],) for e, c in zip(events, waiting, strict=True)}, ["at"])
        backdate_created_events(Customer, [c.pk for c in self.customers])


def backdate(model, values, columns):
    """Give rows just written their times in the past, in one UPDATE: `values` is {pk: (value of
    each of `columns`, ...)}. Dating a record is not a change of it, so no trigger runs for it
    (pgtrigger.ignore() without names ignores them all, the history's included)."""
    if not values:
        return
    fields = [model._meta.get_field(name) for name in columns]
    names = ", ".join(f'"{f.column}"' for f in fields)
    arrays = ", ".join(f"%s::{f.db_type(connection)}[]" for f in fields)
    sets = ", ".join(f'"{f.column}" = v."{f.column}"' for f in fields)
    pks = list(values)
    with pgtrigger.ignore(), connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE "{model._meta.db_table}" t SET {sets} FROM unnest(%s::bigint[], {arrays}) AS v(id, {names}) '
            f'WHERE t."{model._meta.pk.column}" = v.id',
            [pks, *([values[pk][i] for pk in pks] for i in range(len(fields)))])


def backdate_created_events(model, pks):
    """The "created" entry of each record's history dates from its creation (its created_at)."""
    table, events = model._meta.db_table, event_model(model)._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE "{events}" e SET pgh_created_at = r.created_at FROM "{table}" r
                WHERE e.pgh_obj_id = r.id AND e.pgh_label = 'insert' AND r.id = ANY(%s)""", [list(pks)])


def _ascii(text):
    """A stable ASCII slug for a trade name (for e-mail domains and websites): its pinyin."""
    return pinyin_forms(text)[0]


def _industry_of(name):
    return next((code for word, code in INDUSTRY_WORDS.items() if word in name), None)
