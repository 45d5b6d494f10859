"""Volume for benchmarks: a large organisation and up to millions of customers, contacts and
follow-ups, written with set-based SQL (INSERT … SELECT over generate_series), never a Python loop
of ORM calls per row.

Every value of customer number g (1, 2, …) is drawn from a hash of g (PostgreSQL's
hashint8extended), so a run is repeatable and a second run adds only what is missing. Names are
city + trade name + industry word + legal form from the demo word lists (`crm.demo`); the pinyin
of every word is computed here in Python once, so that SQL can assemble `search_text` and
`name_key` exactly as `crm.lib.text.search_text` and `crm.lib.text.name_key` would for the row (the test
checks every row of a small run)."""
import time
from dataclasses import dataclass, field
from functools import cached_property

from django.db import connection, transaction
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Role, Team, User

from . import demo
from .lib.audit import triggers_skipped
from .lib.text import name_key, pinyin_forms
from .models import Choice, Contact, Customer, CustomerSearch, FollowUp, Pool
from .seed import seed_choices
from .services.customers import customers_search_copy

SCALE_ROOT = "规模测试总部"
SEARCH_INDEX = "customer_search_trgm"
BATCH = 100_000  # customers per transaction (with their contacts and follow-ups)
FREE_MAIL = ["qq.com", "163.com", "126.com", "139.com", "sina.com"]
MAIL_BOXES = ["info", "sales", "contact", "office", "service", "hr", "market"]


# Organisation -------------------------------------------------------------------------------------

def _scale_org(regions, branches, reps):
    """Regions × branches × reps under one root team, a 销售总监 over all of them, and one pool per
    region (its member team). Returns the root team."""
    root = Team.objects.filter(name=SCALE_ROOT, parent=None).first()
    if root is None:
        root = _create_org(regions, branches, reps)
    if not User.objects.filter(username="scale_director").exists():
        director = User.objects.create(username="scale_director", display_name="规模测试销售总监", team=root)
        director.roles.set([Role.objects.get(name="销售总监")])
    for region in Team.objects.filter(parent=root).order_by("name"):
        pool, created = Pool.objects.get_or_create(name=f"{region.name}公海", defaults=demo.POOL_RULES)
        if created:
            pool.teams.set([region])
    return root


def _create_org(regions, branches, reps):
    rep_role = Role.objects.get(name="销售代表")
    manager_role = Role.objects.get(name="区域经理")
    root = account_services.team_create(name=SCALE_ROOT)
    for r in range(regions):
        region = account_services.team_create(name=f"区域{r:02d}", parent=root)
        manager = User.objects.create(username=f"scale_mgr_{r:02d}", display_name=f"区域经理{r:02d}", team=region)
        manager.roles.set([manager_role])
        for b in range(branches):
            branch = account_services.team_create(name=f"分公司{r:02d}-{b:02d}", parent=region)
            users = User.objects.bulk_create([
                User(username=f"scale_rep_{r:02d}_{b:02d}_{i:02d}", display_name=f"销售{r:02d}{b:02d}{i:02d}",
                     team=branch, manager=manager)
                for i in range(reps)
            ])
            User.roles.through.objects.bulk_create([
                User.roles.through(user_id=u.pk, role_id=rep_role.pk) for u in users
            ])
    return root


def scale_reps():
    """(user id, team id, pool id of the region) of every generated rep, in a stable order."""
    pools = dict(Pool.teams.through.objects.filter(pool__name__endswith="公海", team__parent__name=SCALE_ROOT)
                 .values_list("team_id", "pool_id"))
    rows = (User.objects.filter(username__startswith="scale_rep_").order_by("pk")
            .values_list("pk", "team_id", "team__parent_id"))
    return [(pk, team_id, pools.get(region_id)) for pk, team_id, region_id in rows]


# Words with their pinyin --------------------------------------------------------------------------

@dataclass
class Vocabulary:
    """The demo word lists as SQL arrays, each word with its full pinyin and initials."""

    cities: list = field(default_factory=lambda: list(demo.CITIES))
    trades: list = field(default_factory=lambda: list(demo.TRADE_NAMES))
    industries: list = field(default_factory=lambda: list(demo.INDUSTRY_WORDS))
    bureaus: list = field(default_factory=lambda: list(demo.BUREAUS))
    surnames: list = field(default_factory=lambda: list(demo.SURNAMES))
    given: list = field(default_factory=lambda: list(demo.GIVEN_NAMES))

    @cached_property
    def forms(self):
        """The legal forms repeated by weight (100 slots), so a uniform pick follows the weights."""
        return [form for form, weight in demo.LEGAL_FORMS.items() for _ in range(weight)]

    @cached_property
    def districts(self):
        """(all districts in one list, 0-based offset of each city's, count of each city's)."""
        flat, offsets, counts = [], [], []
        for city in self.cities:
            offsets.append(len(flat))
            counts.append(len(demo.CITIES[city][2]))
            flat.extend(demo.CITIES[city][2])
        return flat, offsets, counts

    @staticmethod
    def form_key(form):
        """What a legal form leaves in `crm.lib.text.name_key` after a Chinese prefix ("" for 有限公司)."""
        return name_key("甲" + form)[1:]

    def params(self):
        districts, offsets, counts = self.districts
        p = {}
        for key, words in (("city", self.cities), ("trade", self.trades), ("ind", self.industries),
                           ("form", self.forms), ("district", districts), ("bureau", self.bureaus),
                           ("surname", self.surnames), ("given", self.given)):
            pinyin = [pinyin_forms(w) for w in words]
            p[key], p[f"{key}_py"], p[f"{key}_ini"] = words, [f for f, _i in pinyin], [i for _f, i in pinyin]
        p["form_key"] = [self.form_key(f) for f in self.forms]
        p["district_off"], p["district_cnt"] = offsets, counts
        p["province"] = [demo.CITIES[c][0] for c in self.cities]
        p["area"] = [demo.CITIES[c][1][1:] for c in self.cities]  # without the trunk 0
        p["shi_py"], p["shi_ini"] = pinyin_forms("市")
        return p


# Generation ---------------------------------------------------------------------------------------

def _h(salt, g="g"):
    """A non-negative pseudo-random int from the row number `g` and a salt."""
    return f"(hashint8extended({g}, {salt}) & 2147483647)"


def _int(salt, size, start=0, g="g"):
    """An int in start … start + size - 1 drawn from row `g`."""
    return f"({start} + mod({_h(salt, g)}, {size}))::int"


def _pick(array, salt, size, g="g"):
    return f"(%({array})s::text[])[1 + mod({_h(salt, g)}, {size})]"


def _cumulative(g, total, count, salt, spread):
    """SQL for how many rows of a child table belong to customers 1..g: `total` spread over `count`
    customers, each getting total/count ± `spread` (exact total; 0 for g = 0 and g = count)."""
    wobble = f"CASE WHEN {g} <= 0 OR {g} >= {count} THEN 0 ELSE mod({_h(salt, g)}, {spread + 1}) END"
    return f"(({g})::bigint * {total} / {count} + {wobble})"


def _bigrams(word):
    """The two-character words of a Chinese `word` as one space-separated text (crm.lib.text.cjk_bigrams)."""
    return (f"(SELECT string_agg(substr({word}, i, 2), ' ' ORDER BY i) "
            f"FROM generate_series(1, char_length({word}) - 1) AS i)")


def _dedup_words(text):
    """Space-separated words de-duplicated in order of first appearance, padded with a space."""
    return (f"(' ' || (SELECT string_agg(w, ' ' ORDER BY o) FROM ("
            f"SELECT w, min(o) AS o FROM unnest(string_to_array({text}, ' ')) WITH ORDINALITY AS u(w, o) "
            f"WHERE w <> '' GROUP BY w) AS d) || ' ')")


@dataclass
class Plan:
    customers: int
    contacts: int
    followups: int

    @property
    def contact_spread(self):
        return max(self.contacts // self.customers - 1, 0)

    @property
    def followup_spread(self):
        return self.followups // self.customers

    def contacts_upto(self, g):
        return _cumulative(g, self.contacts, self.customers, 50, self.contact_spread)

    def followups_upto(self, g):
        return _cumulative(g, self.followups, self.customers, 51, self.followup_spread)


def _customer_sql(plan, vocab):
    """The temporary table of one batch of customers: every column, plus what their contacts and
    follow-ups are derived from."""
    size = {key: len(getattr(vocab, key)) for key in ("cities", "trades", "industries", "forms", "bureaus",
                                                      "surnames", "given")}
    city, trade, ind = (f"(%({a})s::text[])[{i}]" for a, i in (("city", "ci"), ("trade", "ti"), ("ind", "ii")))
    dist = "(%(district)s::text[])[di]"
    return f"""
    CREATE TEMP TABLE scale_customer AS
    WITH p AS (
        SELECT g,
               %(base)s + g - %(first)s + 1 AS id,
               CASE WHEN mod({_h(1)}, 100) < 94 THEN 'company'
                    WHEN mod({_h(1)}, 100) < 97 THEN 'person' ELSE 'government' END AS kind,
               1 + mod({_h(2)}, {size['cities']}) AS ci,
               1 + mod({_h(3)}, {size['trades']}) AS ti,
               1 + mod({_h(4)}, {size['industries']}) AS ii,
               1 + mod({_h(5)}, {size['forms']}) AS fi,
               1 + mod({_h(7)}, {size['bureaus']}) AS bi,
               1 + mod({_h(8)}, {size['surnames']}) AS si,
               1 + mod({_h(9)}, {size['given']}) AS gi,
               1 + mod({_h(10)}, %(reps)s) AS ri,
               mod({_h(11)}, 100) < 5 AS in_pool,
               mod({_h(30)}, 100) AS due,
               {plan.contacts_upto("g - 1")} AS c_from, {plan.contacts_upto("g")} AS c_to,
               {plan.followups_upto("g - 1")} AS f_from, {plan.followups_upto("g")} AS f_to
        FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS g
    ), q AS (
        SELECT p.*,
               (%(district_off)s::int[])[ci] + 1 + mod({_h(6)}, (%(district_cnt)s::int[])[ci]) AS di,
               CASE WHEN in_pool THEN NULL
                    WHEN due < 8 THEN %(today)s::timestamptz - make_interval(days => {_int(31, 30, 1)})
                                      + make_interval(hours => {_int(32, 9, 9)})
                    WHEN due < 11 THEN %(today)s::timestamptz + make_interval(hours => {_int(32, 9, 9)})
                    WHEN due < 20 THEN %(today)s::timestamptz + make_interval(days => {_int(31, 21, 1)},
                                                                           hours => {_int(32, 9, 9)})
               END AS next_at,
               make_interval(days => {_int(36, 40, 5)}) AS gap,
               f_to - f_from AS kf, c_to - c_from AS kc,
               (%(trade_py)s::text[])[ti] || (100 + mod({_h(22)}, 900)) || '.com' AS domain
        FROM p
    ), r AS (
        SELECT q.*,
               CASE WHEN next_at IS NOT NULL
                    THEN least(next_at - make_interval(days => {_int(33, 25, 3)}),
                               %(now)s::timestamptz - make_interval(days => {_int(34, 10, 1)}, secs => mod({_h(35)}, 86400)))
                    ELSE %(now)s::timestamptz - make_interval(
                        days => CASE WHEN in_pool THEN {_int(34, 240, 60)} ELSE {_int(34, 300, 1)} END,
                        secs => mod({_h(35)}, 86400))
               END AS latest,
               CASE kind WHEN 'company' THEN {city} || {trade} || {ind} || (%(form)s::text[])[fi]
                         WHEN 'person' THEN (%(surname)s::text[])[si] || (%(given)s::text[])[gi]
                         ELSE {city} || '市' || {dist} || (%(bureau)s::text[])[bi] END AS name,
               CASE kind WHEN 'company' THEN {city} || {trade} || {ind} || (%(form_key)s::text[])[fi]
                         WHEN 'person' THEN (%(surname)s::text[])[si] || (%(given)s::text[])[gi]
                         ELSE {city} || '市' || {dist} || (%(bureau)s::text[])[bi] END AS name_key,
               CASE kind WHEN 'company' THEN (%(city_py)s::text[])[ci] || (%(trade_py)s::text[])[ti]
                                             || (%(ind_py)s::text[])[ii] || (%(form_py)s::text[])[fi]
                         WHEN 'person' THEN (%(surname_py)s::text[])[si] || (%(given_py)s::text[])[gi]
                         ELSE (%(city_py)s::text[])[ci] || %(shi_py)s || (%(district_py)s::text[])[di]
                              || (%(bureau_py)s::text[])[bi] END AS pinyin,
               CASE kind WHEN 'company' THEN (%(city_ini)s::text[])[ci] || (%(trade_ini)s::text[])[ti]
                                             || (%(ind_ini)s::text[])[ii] || (%(form_ini)s::text[])[fi]
                         WHEN 'person' THEN (%(surname_ini)s::text[])[si] || (%(given_ini)s::text[])[gi]
                         ELSE (%(city_ini)s::text[])[ci] || %(shi_ini)s || (%(district_ini)s::text[])[di]
                              || (%(bureau_ini)s::text[])[bi] END AS initials,
               CASE WHEN kind <> 'person' AND mod({_h(20)}, 100) < 85
                    THEN '+86' || (%(area)s::text[])[ci] || {_pick("landline_first", 21, 4)}
                         || lpad(mod({_h(27)}, 10000000)::text, 7, '0') ELSE '' END AS phone,
               CASE WHEN kind = 'person' OR (kind = 'company' AND mod({_h(23)}, 100) < 60)
                    THEN '+86' || {_pick("mobile_prefix", 24, "%(mobile_prefixes)s")}
                         || lpad(mod(g * 48271 + 12345, 100000000)::text, 8, '0') ELSE '' END AS mobile,
               CASE WHEN kind = 'company' AND mod({_h(25)}, 100) < 85
                    THEN {_pick("mail_box", 26, len(MAIL_BOXES))} || '@' || domain
                    WHEN kind = 'person' AND mod({_h(25)}, 100) < 60
                    THEN (%(surname_py)s::text[])[si] || (%(given_py)s::text[])[gi] || mod(g, 1000) || '@'
                         || {_pick("free_mail", 26, len(FREE_MAIL))}
                    ELSE '' END AS email
        FROM q
    )
    SELECT r.*,
           CASE WHEN kf > 0 THEN latest END AS last_at,
           latest - (greatest(kf, 1) - 1) * gap - make_interval(days => {_int(37, 60, 1)}) AS created_at,
           CASE WHEN kf = 0 THEN 'prospect'
                WHEN mod({_h(40)}, 100) < 14 AND NOT in_pool THEN 'won'
                WHEN mod({_h(40)}, 100) < 22 AND next_at IS NULL THEN 'lost'
                ELSE 'following' END AS status,
           (%(owners)s::bigint[])[ri] AS rep_id,
           %(contact_base)s + (c_from - %(c_first)s) + 1 AS first_contact_id
    FROM r
    """


def _contact_sql(plan):
    """One batch of contacts: customer g owns contacts c_from … c_to - 1 (0-based numbers n)."""
    return f"""
    CREATE TEMP TABLE scale_contact AS
    SELECT s.g, s.id AS customer_id, n, s.first_contact_id + (n - s.c_from) AS id, n = s.c_from AS is_primary,
           drawn.name, drawn.py, drawn.ini, drawn.title, drawn.mobile, drawn.phone, mail.email, drawn.wechat
    FROM scale_customer AS s
    CROSS JOIN LATERAL generate_series(s.c_from, s.c_to - 1) AS n
    CROSS JOIN LATERAL (SELECT
        (%(surname)s::text[])[1 + mod({_h(70, "n")}, {len(demo.SURNAMES)})]
            || (%(given)s::text[])[1 + mod({_h(71, "n")}, {len(demo.GIVEN_NAMES)})] AS name,
        (%(surname_py)s::text[])[1 + mod({_h(70, "n")}, {len(demo.SURNAMES)})]
            || (%(given_py)s::text[])[1 + mod({_h(71, "n")}, {len(demo.GIVEN_NAMES)})] AS py,
        (%(surname_ini)s::text[])[1 + mod({_h(70, "n")}, {len(demo.SURNAMES)})]
            || (%(given_ini)s::text[])[1 + mod({_h(71, "n")}, {len(demo.GIVEN_NAMES)})] AS ini,
        {_pick("title", 72, len(demo.TITLES), "n")} AS title,
        '+86' || {_pick("mobile_prefix", 73, "%(mobile_prefixes)s", "n")}
            || lpad(mod(n * 69621 + 777, 100000000)::text, 8, '0') AS mobile,
        CASE WHEN mod({_h(74, "n")}, 100) < 30 THEN '+86' || (%(area)s::text[])[s.ci]
            || {_pick("landline_first", 75, 4, "n")} || lpad(mod({_h(79, "n")}, 10000000)::text, 7, '0')
            ELSE '' END AS phone,
        CASE WHEN mod({_h(76, "n")}, 100) < 30 THEN 'wx_' || (100000 + mod({_h(77, "n")}, 900000)) ELSE '' END
            AS wechat
    ) AS drawn
    CROSS JOIN LATERAL (SELECT CASE WHEN s.kind = 'company' AND mod({_h(78, "n")}, 100) < 60
                                    THEN drawn.py || '@' || s.domain ELSE '' END AS email) AS mail
    """


def _customer_insert_sql():
    """Customers with their search text: name, name without spaces, pinyin, initials, the name's
    two-character words, contact names with their pinyin, initials and two-character words, phone
    digits, e-mails (crm.lib.text.search_text)."""
    words = ("concat_ws(' ', s.name, s.pinyin, s.initials, " + _bigrams("s.name") + ", c.words, "
             "CASE WHEN s.phone <> '' THEN '0' || substr(s.phone, 4) END, substr(s.mobile, 4), "
             "c.mobiles, c.phones, s.email, c.emails)")
    return f"""
    INSERT INTO {Customer._meta.db_table} (
        id, kind, name, industry_id, tier, source_id, status, tags, phone, mobile, email, website, province,
        city, district, address, notes, owner_id, team_id, pool_id, created_by_id, claimed_at,
        last_followup_at, next_followup_at, deal_status, deal_date, locked, archived_at, name_key,
        search_text, version, created_at, updated_at)
    SELECT s.id, s.kind, s.name,
           CASE s.kind WHEN 'company' THEN (%(ind_choice)s::bigint[])[s.ii]
                       WHEN 'government' THEN %(government)s END,
           CASE WHEN mod({_h(43)}, 100) < 15 THEN 'A' WHEN mod({_h(43)}, 100) < 60 THEN 'B' ELSE 'C' END,
           (%(sources)s::bigint[])[1 + mod({_h(44)}, cardinality(%(sources)s::bigint[]))],
           s.status,
           CASE WHEN mod({_h(45)}, 100) < 60 THEN '{{}}'::varchar[]
                WHEN mod({_h(45)}, 100) < 85 THEN ARRAY[{_pick("tags", 46, "%(tag_count)s")}]::varchar[]
                ELSE ARRAY(SELECT (%(tags)s::text[])[t] FROM unnest(ARRAY[
                     1 + mod({_h(46)}, %(tag_count)s),
                     1 + mod(mod({_h(46)}, %(tag_count)s) + 1 + mod({_h(47)}, %(tag_count)s - 1), %(tag_count)s)])
                     AS t ORDER BY t)::varchar[] END,
           s.phone, s.mobile, s.email,
           CASE WHEN s.kind = 'company' AND mod({_h(48)}, 100) < 70 THEN 'www.' || s.domain ELSE '' END,
           (%(province)s::text[])[s.ci], (%(city)s::text[])[s.ci], (%(district)s::text[])[s.di],
           (%(district)s::text[])[s.di] || {_pick("road", 49, len(demo.ROADS))} || (1 + mod({_h(52)}, 998)) || '号',
           CASE WHEN mod({_h(53)}, 100) < 10 THEN {_pick("notes", 54, len(demo.NOTES))} ELSE '' END,
           CASE WHEN NOT s.in_pool THEN s.rep_id END, (%(teams)s::bigint[])[s.ri],
           CASE WHEN s.in_pool THEN (%(pools)s::bigint[])[s.ri] END, s.rep_id,
           CASE WHEN NOT s.in_pool THEN s.created_at END,
           s.last_at, s.next_at,
           CASE WHEN s.status = 'won' THEN 'won' ELSE 'none' END,
           CASE WHEN s.status = 'won' THEN (s.latest AT TIME ZONE 'Asia/Shanghai')::date END,
           NOT s.in_pool AND mod({_h(55)}, 100) < 3,
           CASE WHEN mod({_h(56)}, 1000) < 5 THEN %(now)s::timestamptz - interval '10 days' END,
           s.name_key, {_dedup_words(words)}, 1, s.created_at, %(now)s
    FROM scale_customer AS s
    LEFT JOIN (
        SELECT g, string_agg(concat_ws(' ', name, py, ini, {_bigrams("name")}), ' ' ORDER BY n) AS words,
               string_agg(substr(mobile, 4), ' ' ORDER BY n) AS mobiles,
               string_agg(CASE WHEN phone <> '' THEN '0' || substr(phone, 4) ELSE '' END, ' ' ORDER BY n) AS phones,
               string_agg(email, ' ' ORDER BY n) AS emails
        FROM scale_contact GROUP BY g
    ) AS c USING (g)
    ORDER BY s.id
    """


def _contact_insert_sql():
    return f"""
    INSERT INTO {Contact._meta.db_table} (id, customer_id, name, title, mobile, phone, email, wechat, is_primary,
                                          notes, created_at, updated_at)
    SELECT c.id, c.customer_id, c.name, c.title, c.mobile, c.phone, c.email, c.wechat, c.is_primary, '',
           s.created_at, s.created_at
    FROM scale_contact AS c JOIN scale_customer AS s USING (g)
    ORDER BY c.id
    """


def _followup_insert_sql():
    """Follow-ups i = 0 (the newest, at the customer's last follow-up time) … kf - 1, `gap` apart;
    each names the next one's time as its next follow-up, the newest the customer's."""
    return f"""
    INSERT INTO {FollowUp._meta.db_table} (customer_id, contact_id, kind_id, at, summary, outcome, next_step,
                                           next_followup_at, created_by_id, created_at)
    SELECT s.id,
           CASE WHEN s.kc > 0 THEN s.first_contact_id + mod({_h(60, "f.n")}, s.kc) END,
           (%(kind_ids)s::bigint[])[f.k],
           f.at,
           (%(summaries)s::text[])[(%(summary_off)s::int[])[f.k] + 1
                                   + mod({_h(61, "f.n")}, (%(summary_cnt)s::int[])[f.k])],
           {_pick("outcomes", 62, len(demo.OUTCOMES), "f.n")},
           CASE WHEN f.next_at IS NOT NULL THEN {_pick("next_steps", 63, len(demo.NEXT_STEPS), "f.n")} ELSE '' END,
           f.next_at, s.rep_id, f.at
    FROM scale_customer AS s
    CROSS JOIN LATERAL generate_series(0, s.kf - 1) AS i
    CROSS JOIN LATERAL (SELECT s.f_from + i AS n,
                               (%(kind_slots)s::int[])[1 + mod({_h(64, "s.f_from + i")}, %(kind_slot_count)s)] AS k,
                               s.latest - i * s.gap AS at,
                               CASE WHEN i = 0 THEN s.next_at ELSE s.latest - (i - 1) * s.gap END AS next_at) AS f
    """


class ScaleSeeder:
    """Writes customers first..last of a plan, in batches, each batch in one transaction."""

    def __init__(self, plan, stdout=None):
        self.plan, self.stdout = plan, stdout
        self.vocab = Vocabulary()
        self.timings = {"customers": [0, 0.0], "contacts": [0, 0.0], "followups": [0, 0.0]}

    def say(self, message):
        if self.stdout is not None:
            self.stdout.write(message)

    @cached_property
    def params(self):
        seed_choices(Choice)
        choices = {(c.kind, c.code): c.pk for c in Choice.objects.all()}
        reps = scale_reps()
        kinds = list(demo.FOLLOWUP_KIND_WEIGHTS)
        slots = [i + 1 for i, k in enumerate(kinds) for _ in range(demo.FOLLOWUP_KIND_WEIGHTS[k])]
        summaries, offsets, counts = [], [], []
        for kind in kinds:
            offsets.append(len(summaries))
            counts.append(len(demo.SUMMARIES[kind]))
            summaries.extend(demo.SUMMARIES[kind])
        now = timezone.now()
        today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
        tags = sorted(demo.TAGS)
        return {
            **self.vocab.params(),
            "ind_choice": [choices[("industry", demo.INDUSTRY_WORDS[w])] for w in self.vocab.industries],
            "government": choices[("industry", "government")],
            "sources": [pk for (kind, _code), pk in sorted(choices.items()) if kind == "source"],
            "kind_ids": [choices[("followup_kind", k)] for k in kinds],
            "kind_slots": slots, "kind_slot_count": len(slots),
            "summaries": summaries, "summary_off": offsets, "summary_cnt": counts,
            "outcomes": demo.OUTCOMES, "next_steps": demo.NEXT_STEPS, "notes": demo.NOTES, "road": demo.ROADS,
            "title": demo.TITLES, "tags": tags, "tag_count": len(tags),
            "mobile_prefix": demo.MOBILE_PREFIXES, "mobile_prefixes": len(demo.MOBILE_PREFIXES),
            "landline_first": list(demo.LANDLINE_FIRST_DIGITS), "mail_box": MAIL_BOXES, "free_mail": FREE_MAIL,
            "owners": [r[0] for r in reps], "teams": [r[1] for r in reps], "pools": [r[2] for r in reps],
            "reps": len(reps), "now": now, "today": today,
        }

    def run(self, first, last):
        for start in range(first, last + 1, BATCH):
            self.batch(start, min(start + BATCH - 1, last))

    def batch(self, first, last):
        started = time.perf_counter()
        sql = {"customer": _customer_sql(self.plan, self.vocab), "contact": _contact_sql(self.plan)}
        # No history entry nor search row per generated row: the search rows are written in one
        # statement below.
        skipped = ("crm.Customer:insert_insert", "crm.Contact:insert_insert", "crm.FollowUp:insert_insert",
                   "crm.Customer:search_copy_insert")
        with transaction.atomic(), triggers_skipped(*skipped), connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO off")
            cursor.execute("SET LOCAL work_mem TO '256MB'")
            params = {**self.params, "first": first, "last": last,
                      "base": self._reserve(cursor, Customer, last - first + 1)}
            cursor.execute("DROP TABLE IF EXISTS scale_customer, scale_contact")
            c_first, c_last = self._contact_range(cursor, first, last)
            params.update(c_first=c_first, contact_base=self._reserve(cursor, Contact, c_last - c_first))
            cursor.execute(sql["customer"], params)
            cursor.execute(sql["contact"], params)
            self._timed(cursor, "customers", _customer_insert_sql(), params)
            # Their search rows in one statement (the per-row copy trigger is off, as above).
            customers_search_copy(cursor, "c.id IN (SELECT id FROM scale_customer)")
            self._timed(cursor, "contacts", _contact_insert_sql(), params)
            self._timed(cursor, "followups", _followup_insert_sql(), params)
            cursor.execute("DROP TABLE scale_customer, scale_contact")
        done = self.timings["customers"][0]
        self.say(f"  customers up to #{last:,}: {done:,} written in this run; batch {time.perf_counter() - started:.0f} s"
                 f" (customers {self.timings['customers'][1]:.0f} s, contacts {self.timings['contacts'][1]:.0f} s,"
                 f" follow-ups {self.timings['followups'][1]:.0f} s in all so far)")

    def _contact_range(self, cursor, first, last):
        cursor.execute(f"SELECT {self.plan.contacts_upto('%(g0)s')}, {self.plan.contacts_upto('%(g1)s')}",
                       {"g0": first - 1, "g1": last})
        return cursor.fetchone()

    def _reserve(self, cursor, model, count):
        """Take `count` ids from the table's sequence; returns the id before the first one."""
        table = model._meta.db_table
        cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        sequence = cursor.fetchone()[0]
        cursor.execute("SELECT nextval(%s)", [sequence])
        base = cursor.fetchone()[0] - 1
        if count > 0:
            cursor.execute("SELECT setval(%s, %s)", [sequence, base + count])
        return base

    def _timed(self, cursor, table, sql, params):
        started = time.perf_counter()
        cursor.execute(sql, params)
        self.timings[table][0] += cursor.rowcount
        self.timings[table][1] += time.perf_counter() - started


# Indexes ----------------------------------------------------------------------------------------------

def load_indexes():
    """{name: CREATE INDEX statement} of the secondary indexes of the loaded tables, exactly as the
    migrations create them (foreign-key indexes and Meta.indexes, the trigram search index among them).
    Unique and primary-key indexes stay: they back constraints."""
    with connection.schema_editor(collect_sql=True, atomic=False) as editor:
        # A private helper, but the one `migrate` itself uses to create these indexes.
        statements = [st for model in (Customer, CustomerSearch, Contact, FollowUp)
                      for st in editor._model_indexes_sql(model)]
    return {str(st.parts["name"]).strip('"'): str(st) for st in statements}


def existing_indexes(names):
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname = ANY(%s)", [list(names)])
        return {name for (name,) in cursor.fetchall()}


def search_index_exists():
    return bool(existing_indexes([SEARCH_INDEX]))


def drop_indexes():
    """Drop the secondary indexes before a bulk load: building each once afterwards is much faster
    than updating it row by row (the trigram index most of all)."""
    with connection.cursor() as cursor:
        for name in existing_indexes(load_indexes()):
            cursor.execute(f'DROP INDEX "{name}"')


def create_indexes():
    """(Re)create whichever of those indexes is missing, with the migration's name and definition."""
    indexes = load_indexes()
    missing = [sql for name, sql in indexes.items() if name not in existing_indexes(indexes)]
    if missing:
        with connection.cursor() as cursor:
            if connection.in_atomic_block:
                # Inside an outer transaction (the tests) the deferred foreign-key checks of the load
                # are still pending, and PostgreSQL builds no index on a table with pending checks.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            cursor.execute("SET maintenance_work_mem TO '1GB'")
            for sql in missing:
                cursor.execute(sql)
            cursor.execute("RESET maintenance_work_mem")
    return len(missing)


# Entry point ----------------------------------------------------------------------------------------

def generated_customers():
    """How many customers the generator has written (all of them were created by a scale rep)."""
    return Customer.objects.filter(created_by__username__startswith="scale_rep_").count()


def seed_scale(*, customers, contacts=None, followups=None, regions=10, branches=10, reps=10, drop_index=None,
               stdout=None):
    """Make sure the scale organisation exists and holds `customers` generated customers, with
    `contacts` contacts and `followups` follow-ups in all (defaults: 2 and 5 per customer).
    Running it again adds only what is missing. When many rows are added (drop_index=None decides
    by size) the secondary indexes, the trigram search index among them, are dropped for the load and
    rebuilt after it; then the tables are analysed. Returns {table: (rows added, seconds)}."""
    plan = Plan(customers, 2 * customers if contacts is None else contacts,
                5 * customers if followups is None else followups)
    _scale_org(regions, branches, reps)
    done = generated_customers()
    missing = customers - done
    if missing <= 0:
        return {}
    if drop_index is None:
        drop_index = missing >= 20_000 and missing * 2 >= Customer.objects.count()
    seeder = ScaleSeeder(plan, stdout=stdout)
    started = time.perf_counter()
    if drop_index:
        drop_indexes()
    try:
        seeder.run(done + 1, customers)
    finally:
        index_started = time.perf_counter()
        create_indexes()
        index_seconds = time.perf_counter() - index_started
    analyse_started = time.perf_counter()
    _analyse()
    result = {table: (rows, seconds) for table, (rows, seconds) in seeder.timings.items()}
    result["indexes"] = (0, index_seconds)
    result["analyse"] = (0, time.perf_counter() - analyse_started)
    result["total"] = (sum(r for r, _s in seeder.timings.values()), time.perf_counter() - started)
    return result


def _analyse():
    """Statistics for the planner (the organisation's tables too: with a thousand users where
    the statistics say fifty, the planner picks the wrong joins); outside a transaction also the
    visibility map of the big tables (VACUUM), which index-only scans need."""
    big = [m._meta.db_table for m in (Customer, CustomerSearch, Contact, FollowUp)]
    small = [m._meta.db_table for m in (User, User.roles.through, Team, Pool, Pool.teams.through)]
    command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
    with connection.cursor() as cursor:
        for table in big:
            cursor.execute(f"{command} {table}")
        for table in small:
            cursor.execute(f"ANALYZE {table}")
