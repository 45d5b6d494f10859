"""Likely duplicates while a customer is typed in: by name key, mobile and email, within what the
user may see, and the htmx alert of the customer form (crm:duplicate_check)."""
import pytest
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone, translation

from crm.models import Customer
from crm.selectors import duplicate_warning, duplicates_for
from crm.tests.factories import ContactFactory, CustomerFactory

CHECK = reverse("crm:duplicate_check")


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def names_of(duplicates):
    return [d["customer"].name for d in duplicates if d["visible"]]


@pytest.fixture
def huaxin(rep_east):
    return CustomerFactory(name="北京华信科技有限公司", owner=rep_east, mobile="+8613812345678",
                           email="Sales@HuaXin.com")


@pytest.mark.parametrize("typed", [
    "北京华信科技有限公司",
    "北京华信科技有限责任公司",  # the other legal form
    "北京华信科技",  # without it
    "北京 华信　科技 有限公司",  # spaces, the full-width one too
    "北京（华信）科技有限公司",  # punctuation of either width
    "北京华信科技有限公司。",
])
def test_it_finds_the_same_name_after_normalising(rep_east, huaxin, typed):
    found = duplicates_for(rep_east, name=typed)

    assert names_of(found) == [huaxin.name]
    assert found[0]["reasons"] == ["same name"]


def test_it_finds_a_full_width_latin_name(rep_east):
    customer = CustomerFactory(name="ABC Trading Co., Ltd.", owner=rep_east)

    assert names_of(duplicates_for(rep_east, name="ＡＢＣ　ｔｒａｄｉｎｇ")) == [customer.name]


@pytest.mark.parametrize("typed", ["13812345678", "+86 138 1234 5678", "0086-138-1234-5678", "１３８１２３４５６７８"])
def test_it_finds_the_same_mobile_in_any_notation(rep_east, huaxin, typed):
    found = duplicates_for(rep_east, mobile=typed)

    assert names_of(found) == [huaxin.name]
    assert found[0]["reasons"] == ["same mobile"]


def test_it_finds_a_contacts_mobile(rep_east):
    customer = CustomerFactory(name="上海远景", owner=rep_east)
    ContactFactory(customer=customer, mobile="+8613900001111")

    assert names_of(duplicates_for(rep_east, mobile="139 0000 1111")) == [customer.name]


def test_it_does_not_count_a_landline_field_holding_the_number(rep_east):
    CustomerFactory(name="上海远景", owner=rep_east, phone="+8613900001111")

    assert duplicates_for(rep_east, mobile="13900001111") == []


@pytest.mark.parametrize("typed", ["sales@huaxin.com", "SALES@HUAXIN.COM", " Sales@HuaXin.com "])
def test_it_finds_the_same_email_in_any_case(rep_east, huaxin, typed):
    assert names_of(duplicates_for(rep_east, email=typed)) == [huaxin.name]


def test_it_finds_a_contacts_email_in_any_case(rep_east):
    customer = CustomerFactory(name="上海远景", owner=rep_east)
    ContactFactory(customer=customer, email="Li.Ming@YuanJing.cn")

    assert names_of(duplicates_for(rep_east, email="li.ming@yuanjing.CN")) == [customer.name]


def test_it_lists_every_reason_and_the_best_match_first(rep_east, huaxin):
    other = CustomerFactory(name="别的公司", owner=rep_east, email="sales@huaxin.com")

    found = duplicates_for(rep_east, name="北京华信科技", mobile="13812345678", email="sales@huaxin.com")

    assert [d["customer"] for d in found] == [huaxin, other]
    assert len(found[0]["reasons"]) == 3


def test_it_ignores_archived_merged_and_excluded_customers(rep_east, huaxin):
    CustomerFactory(name="北京华信科技", owner=rep_east, archived_at=timezone.now())
    CustomerFactory(name="北京华信科技", owner=rep_east, merged_into=huaxin)

    assert names_of(duplicates_for(rep_east, name="北京华信科技")) == [huaxin.name]
    assert duplicates_for(rep_east, name="北京华信科技", exclude_pk=huaxin.pk) == []


def test_it_returns_nothing_for_empty_or_invalid_input(rep_east, huaxin, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert duplicates_for(rep_east, name="  ", mobile="12", email="not-an-email") == []


def test_it_reports_an_invisible_duplicate_without_its_owner(rep_west, rep_east, huaxin):
    found = duplicates_for(rep_west, name="北京华信科技有限公司", mobile="13812345678")

    assert found == [{"visible": False, "customer": None, "owner_name": "", "in_pool": False,
                      "team_name": "another team", "reasons": ["same name", "same mobile"]}]


def test_it_names_the_owner_of_a_duplicate_the_user_may_see(rep_east2, rep_east, huaxin):
    found = duplicates_for(rep_east2, name="北京华信科技有限公司")

    assert (found[0]["visible"], found[0]["owner_name"]) == (True, rep_east.name)


def test_it_says_your_team_for_an_invisible_duplicate_in_the_users_team(rep_east, roles, teams):
    from accounts.tests.factories import RoleFactory, UserFactory

    own_only = UserFactory(team=teams["shanghai"], roles=[RoleFactory(customers_scope=10)])
    CustomerFactory(name="同队客户", owner=rep_east)

    found = duplicates_for(own_only, name="同队客户")

    assert found[0]["visible"] is False
    assert found[0]["team_name"] == "your team"


def test_it_keeps_a_constant_number_of_queries(rep_east, rep_west, django_assert_max_num_queries):
    CustomerFactory(name="重复公司", owner=rep_east)
    CustomerFactory(name="重复公司", owner=rep_west)
    with django_assert_max_num_queries(4) as few:
        assert len(duplicates_for(rep_east, name="重复公司", mobile="13812345678", email="a@b.cn")) == 2
    for i in range(8):
        CustomerFactory(name="重复公司", owner=rep_east if i % 2 else rep_west)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(duplicates_for(rep_east, name="重复公司", mobile="13812345678", email="a@b.cn")) == 10


FILLER = """
    INSERT INTO crm_customer (name, created_at, updated_at, address, city, deal_status, district, email, kind,
        locked, mobile, name_key, notes, phone, province, search_text, status, tags, tier, version, website)
    SELECT '客户' || i, now(), now(), '', '', 'none', '', CASE WHEN i % 3 = 0 THEN 'u' || i || '@x.cn' ELSE '' END,
        'company', false, CASE WHEN i % 2 = 0 THEN '+86138' || lpad(i::text, 8, '0') ELSE '' END, '客户' || i, '', '',
        '', ' 客户' || i || ' 138' || lpad(i::text, 8, '0') || ' u' || i || '@x.cn ', 'prospect', '{}', 'B', 1, ''
    FROM generate_series(1, 100000) AS i
"""


def test_it_uses_the_indexes(rep_east, huaxin):
    """EXPLAIN over 100,000 customers (no sequential scan, the planner's own choice): every branch of the OR is answered by an index (customer_name_key,
    customer_mobile, customer_email; contacts and other cases through the trigram index on the search text)."""
    from crm.selectors.duplicates import _candidates_q

    query = Customer.objects.live().filter(
        _candidates_q("北京华信科技", "+8613812345678", "sales@huaxin.com", "Sales@HuaXin.com"))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")  # no audit triggers for the filler rows
        # ANALYZE reads every row (300 x the target > 100,000): the same statistics, so the same plan, each run;
        # from a sample of 30,000 rows the estimates varied enough to tip one branch to a sequential scan.
        cursor.execute("SET LOCAL default_statistics_target = 400")
        cursor.execute(FILLER)
        cursor.execute("INSERT INTO crm_customersearch (customer_id, text) SELECT id, search_text FROM crm_customer "
                       "ON CONFLICT DO NOTHING")  # what the (switched off) copy trigger writes
        # The trigram index's pending list merged, as the search-index task does after a large write: what is
        # left in it (rows of earlier tests' rolled-back transactions too) raised the index's estimated cost
        # by however much was there, and one branch tipped to a sequential scan in CI.
        cursor.execute("SELECT gin_clean_pending_list('customer_search_trgm'::regclass)")
        cursor.execute("ANALYZE crm_customer")
        cursor.execute("ANALYZE crm_customersearch")
        sql, params = query.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        transaction.set_rollback(True)
    for index in ("customer_name_key", "customer_mobile", "customer_email", "customer_search_trgm"):
        assert index in plan, plan
    assert "Seq Scan" not in plan, plan


# The htmx endpoint -----------------------------------------------------------------------------

def test_it_renders_nothing_without_a_match(client_for, rep_east, huaxin):
    response = client_for(rep_east).get(CHECK, {"name": "完全不同的名字", "mobile": "", "email": ""},
                                        headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert response.content.decode().strip() == ""


def test_it_renders_a_visible_duplicate_with_a_link(english_client_for, rep_east, huaxin):
    response = english_client_for(rep_east).get(CHECK, {"name": "北京华信科技有限责任公司"})

    page = response.content.decode()
    assert huaxin.name in page
    assert huaxin.get_absolute_url() in page
    assert "same name" in page
    assert "Merge" not in page  # a rep may not merge


def test_it_reveals_only_that_another_teams_duplicate_exists(english_client_for, rep_west, rep_east, huaxin):
    response = english_client_for(rep_west).get(
        CHECK, {"name": "北京华信科技有限责任公司", "mobile": "138 1234 5678", "email": "sales@huaxin.com"})

    page = response.content.decode()
    assert response.status_code == 200
    assert "A customer of another team that you cannot open." in page
    for secret in (rep_east.name, rep_east.username, huaxin.name, "华信", f"/{huaxin.pk}/", "13812345678",
                   "138 1234 5678", "huaxin", "/customers/"):
        assert secret not in page, secret


def test_it_offers_a_merge_to_a_manager_who_may_edit_both(english_client_for, manager_east, rep_east, rep_hz, huaxin):
    editing = CustomerFactory(name="北京华信科技有限责任公司", owner=rep_hz)

    response = english_client_for(manager_east).get(
        CHECK, {"name": editing.name, "exclude": editing.pk})

    page = response.content.decode()
    assert huaxin.name in page
    assert f"{reverse('crm:customer_merge')}?ids={editing.pk}&amp;ids={huaxin.pk}" in page


def test_it_offers_no_merge_when_the_edited_customer_is_not_editable(manager_east, rep_east, rep_west, huaxin):
    foreign = CustomerFactory(name="北京华信科技", owner=rep_west)

    context = duplicate_warning(manager_east, {"name": "北京华信科技"}, foreign.pk)

    assert context["exclude"] is None  # a customer one may not see is not even excluded
    assert [(d["visible"], d["can_merge"]) for d in context["duplicates"]] == [(False, False), (True, False)]


def test_it_answers_with_a_fixed_number_of_queries(client_for, manager_east, rep_east, django_assert_max_num_queries):
    customers = [CustomerFactory(name="重复公司", owner=rep_east) for _ in range(2)]
    client = client_for(manager_east)
    with django_assert_max_num_queries(10) as few:
        client.get(CHECK, {"name": "重复公司", "exclude": customers[0].pk})
    for _ in range(8):
        CustomerFactory(name="重复公司", owner=rep_east)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(CHECK, {"name": "重复公司", "exclude": customers[0].pk})
    assert response.content.decode().count('data-testid="duplicate"') == 9


def test_it_needs_a_signed_in_user(client):
    response = client.get(CHECK, {"name": "x"})

    assert response.status_code == 302
