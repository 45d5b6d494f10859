"""The search box in the top bar: customers and contacts in the user's reach, by name fragment,
pinyin, phone or email, matched so that the trigram index can answer."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm.models import Customer
from crm.selectors import customers_matching_text, global_search
from crm.tests.factories import ContactFactory, CustomerFactory

URL = reverse("crm:global_search")


@pytest.fixture
def huaxin(rep_east):
    customer = CustomerFactory(name="北京华信科技有限公司", owner=rep_east, mobile="+8613812345678",
                               email="sales@huaxin.cn")
    ContactFactory(customer=customer, name="王芳", mobile="+8613900002222", email="wang.fang@huaxin.cn")
    ContactFactory(customer=customer, name="李雷")
    return customer


@pytest.mark.parametrize("q", ["华信", "北京华信", "beijinghuaxin", "bjhx", "huaxin", "1381234", "138 1234 5678",
                               "sales@hua", "王芳", "13900002222"])
def test_it_finds_a_customer_by_what_people_type(rep_east, huaxin, q):
    CustomerFactory(name="上海申通物流有限公司", owner=rep_east)
    result = global_search(rep_east, q)
    assert [c.name for c in result["customers"]] == ["北京华信科技有限公司"]


@pytest.mark.parametrize("q", ["wf", "wangfang", "WF", "lilei"])
def test_it_finds_a_customer_by_its_contacts_pinyin_and_lists_that_contact_first(rep_east, huaxin, q):
    CustomerFactory(name="上海申通物流有限公司", owner=rep_east)
    result = global_search(rep_east, q)
    assert [c.name for c in result["customers"]] == ["北京华信科技有限公司"]
    assert result["contacts"][0].name == {"wf": "王芳", "wangfang": "王芳", "WF": "王芳", "lilei": "李雷"}[q]


def test_it_lists_contacts_that_match_first(rep_east, huaxin):
    contacts = global_search(rep_east, "王芳")["contacts"]
    assert contacts[0].name == "王芳"
    assert global_search(rep_east, "13900002222")["contacts"][0].name == "王芳"
    assert {c.name for c in global_search(rep_east, "华信")["contacts"]} == {"王芳", "李雷"}


def test_it_leaves_out_archived_and_merged_customers(rep_east, huaxin):
    CustomerFactory(name="北京华信旧档", owner=rep_east, archived_at="2026-01-01T00:00:00Z")
    CustomerFactory(name="北京华信重复", owner=rep_east, merged_into=huaxin)
    assert [c.name for c in global_search(rep_east, "华信")["customers"]] == ["北京华信科技有限公司"]


def test_nothing_of_another_team_is_found(client_for, rep_west, huaxin):
    CustomerFactory(name="北京华信分部", owner=rep_west)
    response = client_for(rep_west).get(URL, {"q": "华信"})
    page = response.content.decode()
    assert response.status_code == 200
    assert [c.name for c in response.context["customers"]] == ["北京华信分部"]
    assert response.context["contacts"] == []
    assert "北京华信科技" not in page and "王芳" not in page and "13900002222" not in page


def test_the_page_shows_results_with_call_and_follow_up_buttons(client_for, rep_east, huaxin):
    response = client_for(rep_east).get(URL, {"q": "bjhx"})
    page = response.content.decode()
    assert response.status_code == 200
    assert huaxin.name in page and 'href="tel:+8613812345678"' in page and 'href="tel:+8613900002222"' in page
    assert f'hx-get="{reverse("crm:followup_create", args=[huaxin.pk])}"' in page
    assert 'value="bjhx"' in page


def test_typing_gets_the_results_only(client_for, rep_east, huaxin):
    response = client_for(rep_east).get(URL, {"q": "华信"}, HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert 'id="search-results"' in page and huaxin.name in page and "<html" not in page


def test_an_empty_search_finds_nothing_and_says_how_to_search(client_for, rep_east, huaxin):
    response = client_for(rep_east).get(URL, {"q": "  "})
    assert response.status_code == 200 and response.context["customers"] == []
    assert huaxin.name not in response.content.decode()


def test_it_has_a_constant_number_of_queries(client_for, rep_east, django_assert_max_num_queries):
    client = client_for(rep_east)
    customer = CustomerFactory(name="华信0号", owner=rep_east)
    ContactFactory(customer=customer, name="华信联系人")
    with django_assert_max_num_queries(9) as few:
        client.get(URL, {"q": "华信"})
    for i in range(1, 25):
        customer = CustomerFactory(name=f"华信{i}号", owner=rep_east)
        ContactFactory(customer=customer, name=f"华信联系人{i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(URL, {"q": "华信"})
    assert len(response.context["customers"]) == 20 and response.context["more_customers"]
    assert len(response.context["contacts"]) == 20


def test_it_matches_with_a_plain_like_the_trigram_index_can_answer(rep_east):
    qs = customers_matching_text(Customer.objects.all(), "bjhx")
    with CaptureQueriesContext(connection) as ctx:
        list(qs)
    sql = ctx.captured_queries[0]["sql"]
    assert '"crm_customersearch" U0 WHERE U0."text" LIKE \'%bjhx%\'' in sql and "UPPER" not in sql
    with connection.cursor() as cursor:
        # On empty tables any plan is as cheap as another: with sequential and plain index scans off,
        # only an index that can answer the LIKE is left (a walk of a primary key was picked otherwise).
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        sql, params = qs.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "customer_search_trgm" in plan


def test_an_empty_term_leaves_a_list_as_it_is(rep_east):
    qs = Customer.objects.filter(owner=rep_east)
    assert customers_matching_text(qs, "") is qs


def test_the_top_bar_has_the_search_box(client_for, rep_east):
    page = client_for(rep_east).get(reverse("crm:my_day")).content.decode()
    assert f'action="{URL}"' in page and 'data-testid="global-search"' in page
    assert 'data-testid="global-search-link"' in page  # the phone's search icon


def test_the_search_row_follows_the_customer_through_create_edit_and_delete(rep_east):
    """CustomerSearch holds what the trigram index searches; the copy trigger keeps it in step with
    the customer's search text on every ordinary write."""
    from crm.models import CustomerSearch
    from crm.services.customers import customer_create, customer_update

    customer = customer_create(by=rep_east, name="杭州西湖软件有限公司", owner=rep_east)
    assert CustomerSearch.objects.get(customer_id=customer.pk).text == customer.search_text
    assert [c.pk for c in customers_matching_text(Customer.objects.all(), "xhrj")] == [customer.pk]

    customer_update(by=rep_east, customer=customer, version=customer.version, name="杭州东湖软件有限公司")
    customer.refresh_from_db()
    assert CustomerSearch.objects.get(customer_id=customer.pk).text == customer.search_text
    assert not customers_matching_text(Customer.objects.all(), "xhrj").exists()
    assert [c.pk for c in customers_matching_text(Customer.objects.all(), "dhrj")] == [customer.pk]

    pk = customer.pk
    Customer.objects.filter(pk=pk).delete()
    assert not CustomerSearch.objects.filter(customer_id=pk).exists()
