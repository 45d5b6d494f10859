"""The demo company (seed_demo) and the volume generator (seed_scale)."""
import random
from itertools import pairwise, product

import pytest
from django.core.validators import validate_email
from django.db import connection
from django.db.models import Count, Max, Q
from django.utils import timezone

from accounts.models import Share, User
from crm import demo, scale
from crm.lib.text import name_key, normalise_phone, pinyin_forms, search_text
from crm.models import (
    Choice,
    Contact,
    Customer,
    CustomerKind,
    CustomerSearch,
    CustomerStatus,
    DealStatus,
    FollowUp,
    Pool,
    PoolEvent,
)


def _table_counts():
    return {m.__name__: m.objects.count() for m in (User, Customer, Contact, FollowUp, Pool, PoolEvent, Share)}


def _expected_search_text(customer, contacts):
    """What crm.services.customers.customers_refresh_search stores for a customer."""
    return search_text(
        customer.name,
        phones=[customer.phone, customer.mobile, *(c.mobile for c in contacts), *(c.phone for c in contacts)],
        emails=[customer.email, *(c.email for c in contacts)],
        contact_names=[c.name for c in contacts],
    )


def _contacts_by_customer(customers):
    by_customer = {}
    for contact in Contact.objects.filter(customer__in=customers).order_by("-is_primary", "id"):
        by_customer.setdefault(contact.customer_id, []).append(contact)
    return by_customer


def _assert_phones_are_e164(customers, contacts):
    numbers = [n for c in customers for n in (c.phone, c.mobile) if n]
    numbers += [n for c in contacts for n in (c.mobile, c.phone) if n]
    assert numbers
    assert all(normalise_phone(n) == n for n in numbers)


def _index_definitions():
    """{name: definition} of every index of the customer, search, contact and follow-up tables."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s)",
                       [[m._meta.db_table for m in (Customer, CustomerSearch, Contact, FollowUp)]])
        return dict(cursor.fetchall())


# The demo company ---------------------------------------------------------------------------------

# The demo's dates are relative to today: its tests are marked `dates` (CI runs them at fixed moments too).
@pytest.fixture
def demo_company(roles):
    demo.seed_demo()
    return {u.username: u for u in User.objects.all()}


@pytest.mark.dates
def test_it_keeps_the_personas_and_their_passwords(demo_company):
    for username, display, mobile, team, manager, role, _lead in demo.PERSONAS:
        user = demo_company[username]
        assert (user.display_name, user.mobile, user.team.name) == (display, mobile, team)
        assert user.manager == (demo_company[manager] if manager else None)
        assert [r.name for r in user.roles.all()] == [role]
        assert user.check_password(demo.DEMO_PASSWORD)


@pytest.mark.dates
def test_it_loads_a_few_hundred_customers_with_the_named_ones(demo_company):
    assert Customer.objects.count() == 300
    for username, names in demo.CUSTOMERS.items():
        owners = dict(Customer.objects.filter(name__in=names).values_list("name", "owner__username"))
        assert owners == {name: username for name in names}
    named = Customer.objects.filter(name__in=[n for names in demo.CUSTOMERS.values() for n in names])
    assert min(c.n for c in named.annotate(n=Count("followups"))) >= 5  # a history worth opening
    kinds = dict(Customer.objects.values_list("kind").annotate(n=Count("pk")))
    assert kinds[CustomerKind.COMPANY] > 250
    assert kinds[CustomerKind.PERSON] >= 3 and kinds[CustomerKind.GOVERNMENT] >= 3
    assert Customer.objects.values("name").distinct().count() == 300


@pytest.mark.dates
def test_it_files_customers_under_picklists_and_places_of_their_teams(demo_company):
    customers = list(Customer.objects.select_related("owner__team", "industry", "source"))
    assert all(c.source and c.source.kind == Choice.Kind.SOURCE for c in customers)
    assert all(c.industry.kind == Choice.Kind.INDUSTRY for c in customers if c.industry)
    assert {c.tier for c in customers} == {"A", "B", "C"}
    # Won customers are those with a won deal: the sales demo makes them (crm/tests/test_demo_year.py).
    assert {c.status for c in customers} == {CustomerStatus.PROSPECT, CustomerStatus.FOLLOWING, CustomerStatus.LOST}
    assert any(c.tags for c in customers)
    assert all(set(c.tags) <= set(demo.TAGS) and c.tags == sorted(c.tags) for c in customers)
    assert all(c.province == demo.CITIES[c.city][0] and c.district in demo.CITIES[c.city][2] for c in customers)
    shanghai = [c for c in customers if c.owner and c.owner.username == "rep_sh"]
    assert sum(c.city == "上海" for c in shanghai) > len(shanghai) / 2
    beijing = [c for c in customers if c.owner and c.owner.username == "rep_bj"]
    assert {c.city for c in beijing} <= {"北京", "天津"}
    for c in customers:
        if c.email:
            validate_email(c.email)


@pytest.mark.dates
def test_it_stores_phones_as_e164_and_makes_every_customer_searchable(demo_company):
    customers = list(Customer.objects.all())
    contacts = _contacts_by_customer(customers)
    _assert_phones_are_e164(customers, [c for cs in contacts.values() for c in cs])
    assert any(c.phone.startswith("+8621") for c in customers)  # Shanghai landlines with their area code
    for customer in customers:
        assert customer.search_text == _expected_search_text(customer, contacts.get(customer.pk, []))
        assert customer.name_key == name_key(customer.name)
    shentong = Customer.objects.get(name="上海申通物流有限公司")
    assert " shanghaishentongwuliuyouxiangongsi " in shentong.search_text
    assert " 申通 " in shentong.search_text


@pytest.mark.dates
def test_it_gives_every_customer_one_to_three_contacts_one_of_them_primary(demo_company):
    per_customer = Customer.objects.annotate(
        n=Count("contacts"), primary=Count("contacts", filter=Q(contacts__is_primary=True)))
    assert {c.n for c in per_customer} == {1, 2, 3}
    assert {c.primary for c in per_customer} == {1}
    assert Contact.objects.exclude(title="").count() == Contact.objects.count()


@pytest.mark.dates
def test_it_spreads_follow_ups_over_the_last_year(demo_company):
    now = timezone.now()
    followups = list(FollowUp.objects.select_related("kind", "customer"))
    assert len(followups) > 1000
    assert {f.kind.code for f in followups} == set(demo.FOLLOWUP_KIND_WEIGHTS)
    assert min(f.at for f in followups) < now - timezone.timedelta(days=300)
    assert all(f.summary in demo.SUMMARIES[f.kind.code] for f in followups)
    assert all(f.next_followup_at is None or f.next_followup_at > f.at for f in followups)
    assert all(f.created_at == f.at for f in followups)
    last = dict(FollowUp.objects.values_list("customer").annotate(last=Max("at")))
    for customer in Customer.objects.all():
        assert customer.last_followup_at == last.get(customer.pk)
        assert customer.created_at < (customer.last_followup_at or now)
    # Customers without any follow-up yet are prospects.
    assert not Customer.objects.filter(last_followup_at__isnull=True).exclude(status=CustomerStatus.PROSPECT).exists()


@pytest.mark.dates
def test_it_fills_my_day_for_rep_sh(demo_company):
    rep_sh = demo_company["rep_sh"]
    today = timezone.localdate()
    mine = Customer.objects.filter(owner=rep_sh, next_followup_at__isnull=False)
    due = [timezone.localdate(c.next_followup_at) for c in mine]
    assert sum(d == today for d in due) == 4
    assert sum(d < today for d in due) == 2
    assert sum(d > today for d in due) == 24
    # The customers the browser tests open are among the newest of rep_sh's branch.
    newest = Customer.objects.filter(team=rep_sh.team).order_by("-id").values_list("name", flat=True)[:10]
    assert "上海申通物流有限公司" in newest


@pytest.mark.dates
def test_it_sets_up_three_pools_with_rules_and_waiting_customers(demo_company):
    pools = {p.name: p for p in Pool.objects.prefetch_related("teams")}
    assert set(pools) == {"华东公海", "华北公海", "公海"}
    assert [t.name for t in pools["华东公海"].teams.all()] == ["华东区"]
    assert [t.name for t in pools["华北公海"].teams.all()] == ["华北区"]
    assert pools["公海"].is_default and not pools["公海"].teams.exists()
    for pool in pools.values():
        assert (pool.idle_days_a, pool.idle_days_b, pool.idle_days_c) == (15, 30, 60)
        assert (pool.daily_claim_limit, pool.reclaim_block_days, pool.owner_cap) == (5, 7, 200)
    waiting = Customer.objects.filter(owner__isnull=True)
    assert waiting.count() == 30
    assert not waiting.filter(pool__isnull=True).exists()
    assert not Customer.objects.filter(owner__isnull=False, pool__isnull=False).exists()
    assert waiting.filter(pool=pools["华东公海"]).count() == 15
    # Each came there by a release or a return long enough ago not to block a claim today.
    events = PoolEvent.objects.filter(customer__in=waiting)
    assert events.count() == 30
    assert not events.filter(at__gte=timezone.now() - timezone.timedelta(days=7)).exists()
    assert not PoolEvent.objects.filter(kind=PoolEvent.Kind.CLAIM).exists()


@pytest.mark.dates
def test_it_has_locked_customers_and_shares(demo_company):
    assert not Customer.objects.filter(deal_status=DealStatus.WON).exists()  # the sales demo's deals make them
    assert Customer.objects.filter(locked=True, owner__isnull=False).count() >= 3
    shares = Share.objects.select_related("user")
    assert {s.user.username for s in shares} == {"rep_sh", "rep_hz", "manager_north"}


@pytest.mark.dates
def test_it_keeps_owned_customers_followed_up_as_the_company_rules_ask(demo_company):
    """Within the pool's days for all (the nightly pool run would have taken the others back), within
    the reminder's days for most; customers come over the whole year and a half."""
    now = timezone.now()
    owned = list(Customer.objects.filter(owner__isnull=False))
    idle = {c.pk: (now - (c.last_followup_at or c.claimed_at)).days for c in owned}
    assert [c.name for c in owned if idle[c.pk] >= demo.pool_days(c.tier)] == []
    lapsed = [c for c in owned if idle[c.pk] >= demo.reminder_days(c.tier)]
    assert 0 < len(lapsed) < len(owned) / 8
    assert all(c.claimed_at == c.created_at for c in owned)
    ages = [(now - c.created_at).days for c in Customer.objects.all()]
    assert min(ages) < 7 and 450 < max(ages)


@pytest.mark.dates
def test_it_adds_nothing_when_run_twice(demo_company):
    before = _table_counts()

    assert demo.seed_demo() is False

    assert _table_counts() == before


@pytest.mark.dates
def test_it_draws_the_same_company_every_time(demo_company):
    choices = {(c.kind, c.code): c for c in Choice.objects.all()}

    def draw():
        company = demo.DemoCompany(random.Random(demo.SEED), demo_company, choices)
        company.add_book("rep_sh", 72)
        drawn = company.customers + company.named
        return [(c.name, c.phone, c.mobile, c.next_followup_at, len(c._followups)) for c in drawn]

    assert draw() == draw()


# The volume generator -----------------------------------------------------------------------------

@pytest.fixture
def small_scale(roles):
    """A small generated company: 2 regions × 2 branches × 3 reps, 300 customers."""
    before = _index_definitions()
    result = scale.seed_scale(customers=300, contacts=600, followups=1500, regions=2, branches=2, reps=3,
                              drop_index=True)
    return {"result": result, "index_before": before}


def _generated():
    return Customer.objects.filter(created_by__username__startswith="scale_rep_")


def test_it_builds_search_text_and_name_key_in_sql_exactly_as_crm_text(small_scale):
    customers = list(_generated())
    contacts = _contacts_by_customer(customers)
    assert len(customers) == 300
    mismatches = [c.name for c in customers
                  if c.search_text != _expected_search_text(c, contacts.get(c.pk, []))
                  or c.name_key != name_key(c.name)]
    assert mismatches == []
    # Every generated customer has its search row, with the same text (written in one statement).
    searches = dict(CustomerSearch.objects.filter(customer__in=customers).values_list("customer_id", "text"))
    assert searches == {c.pk: c.search_text for c in customers}
    kinds = {c.kind for c in customers}
    assert kinds == set(CustomerKind.values)  # companies, people and government bodies are all checked


def test_it_writes_exactly_the_rows_asked_for(small_scale):
    result = small_scale["result"]
    assert (result["customers"][0], result["contacts"][0], result["followups"][0]) == (300, 600, 1500)
    generated = _generated()
    assert Contact.objects.filter(customer__in=generated).count() == 600
    assert FollowUp.objects.filter(customer__in=generated).count() == 1500
    per_customer = generated.annotate(n=Count("contacts"), primary=Count("contacts", filter=Q(contacts__is_primary=True)))
    assert {c.n for c in per_customer} == {1, 2, 3}
    assert {c.primary for c in per_customer} == {1}


def test_it_rebuilds_the_indexes_it_dropped_as_the_migrations_define_them(small_scale):
    before = small_scale["index_before"]
    assert before[scale.SEARCH_INDEX].endswith("crm_customersearch USING gin (text gin_trgm_ops)")
    assert set(scale.load_indexes()) < set(before)  # the primary keys and unique indexes are never dropped
    assert _index_definitions() == before


def test_it_keeps_follow_up_times_consistent(small_scale):
    customers = {c.pk: c for c in _generated()}
    followups = {}
    for f in FollowUp.objects.filter(customer__in=customers).select_related("contact"):
        followups.setdefault(f.customer_id, []).append(f)
    for pk, customer in customers.items():
        mine = sorted(followups.get(pk, []), key=lambda f: f.at)
        assert customer.last_followup_at == (mine[-1].at if mine else None)
        if mine:
            assert mine[-1].next_followup_at == customer.next_followup_at
            assert all(a.next_followup_at == b.at for a, b in pairwise(mine))
            assert customer.created_at < mine[0].at
        assert all(f.contact is None or f.contact.customer_id == pk for f in mine)
        if not mine:
            assert customer.status == CustomerStatus.PROSPECT
        if customer.deal_status == DealStatus.WON:
            assert customer.status == CustomerStatus.WON and customer.deal_date


def test_it_spreads_customers_over_the_team_tree_with_some_in_pools(small_scale):
    reps = {u.pk: u for u in User.objects.filter(username__startswith="scale_rep_")}
    assert len(reps) == 12
    customers = list(_generated().select_related("pool"))
    owned = [c for c in customers if c.owner_id]
    assert {c.owner_id for c in owned} == set(reps)
    assert all(c.team_id == reps[c.owner_id].team_id for c in owned)
    waiting = [c for c in customers if c.owner_id is None]
    assert 3 <= len(waiting) <= 30  # about 5 %
    for customer in waiting:
        region = reps[customer.created_by_id].team.parent
        assert customer.pool.teams.get() == region
    assert User.objects.get(username="scale_director").roles.get().name == "销售总监"
    now, today = timezone.now(), timezone.localdate()
    planned = [timezone.localdate(c.next_followup_at) for c in owned if c.next_followup_at]
    assert 0.08 * len(owned) <= len(planned) <= 0.35 * len(owned)  # about 20 %
    assert any(d < today for d in planned) and any(d > today for d in planned)
    assert {c.tier for c in customers} == {"A", "B", "C"}
    assert {c.status for c in customers} == set(CustomerStatus.values)
    assert all(c.created_at < now for c in customers)


def test_it_makes_valid_phones_and_emails(small_scale):
    customers = list(_generated())
    contacts = list(Contact.objects.filter(customer__in=customers))
    _assert_phones_are_e164(customers, contacts)
    mobiles = [c.mobile for c in customers if c.mobile] + [c.mobile for c in contacts]
    assert len(set(mobiles)) == len(mobiles)
    for email in [c.email for c in customers] + [c.email for c in contacts]:
        if email:
            validate_email(email)
    assert sum(bool(c.email) for c in customers) > len(customers) / 2


def test_it_adds_nothing_when_run_again(small_scale):
    before = _table_counts()

    assert scale.seed_scale(customers=300, contacts=600, followups=1500, regions=2, branches=2, reps=3) == {}

    assert _table_counts() == before


def test_it_continues_where_it_stopped(roles):
    scale.seed_scale(customers=100, regions=1, branches=1, reps=2, drop_index=False)

    result = scale.seed_scale(customers=150, regions=1, branches=1, reps=2, drop_index=False)

    assert result["customers"][0] == 50
    generated = _generated()
    assert generated.count() == 150
    assert generated.values("name").count() == 150
    assert scale.search_index_exists()


def test_it_precomputes_each_words_pinyin_so_that_words_join_as_whole_names_do():
    """The SQL joins the pinyin of the words; that equals the pinyin of the joined name only if no
    word reads differently next to its neighbour. Checked for every pair of neighbours."""
    def joins(a, b):
        full, initials = pinyin_forms(a + b)
        return (full, initials) == tuple(x + y for x, y in zip(pinyin_forms(a), pinyin_forms(b)))

    pairs = list(product(demo.CITIES, demo.TRADE_NAMES)) + list(product(demo.TRADE_NAMES, demo.INDUSTRY_WORDS))
    pairs += list(product(demo.INDUSTRY_WORDS, demo.LEGAL_FORMS))
    pairs += [(city + "市", district) for city, (_p, _a, districts) in demo.CITIES.items() for district in districts]
    pairs += [(city, "市") for city in demo.CITIES]
    pairs += list(product({d for _p, _a, ds in demo.CITIES.values() for d in ds}, demo.BUREAUS))
    pairs += list(product(demo.SURNAMES, demo.GIVEN_NAMES))
    assert [pair for pair in pairs if not joins(*pair)] == []
    for form in demo.LEGAL_FORMS:
        assert all(name_key(word + form) == word + scale.Vocabulary.form_key(form) for word in demo.INDUSTRY_WORDS)
