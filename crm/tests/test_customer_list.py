"""The customer list: search, filters, saved views, keyset pages, bulk actions, and scope."""
import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.models import Customer, SavedView
from crm.tests.factories import ContactFactory, CustomerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.dates]

LIST = reverse("crm:customer_list")


def names_in(response):
    """The customer names of the result rows, in page order."""
    html = response.content.decode()
    return re.findall(r'<a href="/customers/\d+/" class="fw-semibold">([^<]+)</a>', html)


@pytest.fixture
def huaxin(rep_east):
    customer = CustomerFactory(name="北京华信科技有限公司", owner=rep_east, mobile="+8613812345678",
                               email="sales@huaxin.example", phone="+862162345678")
    ContactFactory(customer=customer, name="王建国", mobile="+8613900001111")
    return customer


@pytest.mark.parametrize("term", [
    "华信", "北京华信", "华信科技", "beijinghuaxin", "huaxin", "bjhx", "BJHX", "bj",
    "1234567", "138 1234 5678", "+86 138-1234-5678", "021-6234", "huaxin.example", "王建国", "建国",
    "北京华信科技有限责任公司",
])
def test_it_finds_a_customer_by_any_fragment(client_for, rep_east, huaxin, term):
    CustomerFactory(name="上海申通物流有限公司", owner=rep_east)
    response = client_for(rep_east).get(LIST, {"q": term})
    assert response.status_code == 200
    if term == "北京华信科技有限责任公司":
        # The legal-form variant is a duplicate check's business, not a fragment: no false hit here.
        assert names_in(response) == []
    else:
        assert names_in(response) == ["北京华信科技有限公司"]


def test_it_does_not_find_what_does_not_match(client_for, rep_east, huaxin):
    response = client_for(rep_east).get(LIST, {"q": "申通"})
    assert names_in(response) == []
    assert "没有符合搜索条件的客户" in response.content.decode()


def test_it_searches_only_within_scope(client_for, rep_west, huaxin):
    response = client_for(rep_west).get(LIST, {"q": "华信"})
    assert names_in(response) == []
    assert "北京华信" not in response.content.decode()
    assert "0 位客户" in response.content.decode()


def test_it_filters_by_tier_status_tag_city_and_overdue(client_for, rep_east):
    now = timezone.now()
    CustomerFactory(name="甲", owner=rep_east, tier="A", status="following", tags=["VIP"], city="上海",
                    next_followup_at=now - datetime.timedelta(days=2))
    CustomerFactory(name="乙", owner=rep_east, tier="B", status="following", tags=["老客户"], city="上海")
    CustomerFactory(name="丙", owner=rep_east, tier="A", status="lost", city="杭州",
                    next_followup_at=now + datetime.timedelta(days=2))
    client = client_for(rep_east)
    assert sorted(names_in(client.get(LIST, {"tier": "A"}))) == ["丙", "甲"]
    assert names_in(client.get(LIST, {"tier": "A", "status": "following"})) == ["甲"]
    assert names_in(client.get(LIST, {"tag": "老客户"})) == ["乙"]
    assert sorted(names_in(client.get(LIST, {"city": "上海"}))) == ["乙", "甲"]
    assert names_in(client.get(LIST, {"overdue": "true"})) == ["甲"]
    assert names_in(client.get(LIST, {"view": "overdue"})) == ["甲"]


def test_it_filters_by_created_and_last_follow_up_range(client_for, rep_east):
    old = CustomerFactory(name="老客户", owner=rep_east)
    Customer.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=400),
        last_followup_at=timezone.now() - datetime.timedelta(days=300))
    CustomerFactory(name="新客户", owner=rep_east, last_followup_at=timezone.now())
    client = client_for(rep_east)
    cutoff = (timezone.localdate() - datetime.timedelta(days=30)).isoformat()
    assert names_in(client.get(LIST, {"created_after": cutoff})) == ["新客户"]
    assert names_in(client.get(LIST, {"created_before": cutoff})) == ["老客户"]
    assert names_in(client.get(LIST, {"last_followup_before": cutoff})) == ["老客户"]


def test_it_offers_the_saved_views(client_for, rep_east, rep_east2, manager_east):
    today = timezone.localtime().replace(hour=15, minute=0)
    CustomerFactory(name="我的今天", owner=rep_east, next_followup_at=today)
    CustomerFactory(name="同事的", owner=rep_east2)
    CustomerFactory(name="公海里的", owner=None, team=rep_east.team)
    client = client_for(rep_east)
    assert names_in(client.get(LIST, {"view": "mine"})) == ["我的今天"]
    assert names_in(client.get(LIST, {"view": "today"})) == ["我的今天"]
    assert names_in(client.get(LIST, {"view": "pool"})) == ["公海里的"]
    manager = client_for(manager_east)
    assert sorted(names_in(manager.get(LIST, {"view": "subordinates"}))) == ["同事的", "我的今天"]


def test_it_saves_a_named_view_and_deletes_it(client_for, rep_east):
    client = client_for(rep_east)
    response = client.post(reverse("crm:saved_view_create"), {"name": "A类", "query": "?tier=A&after=xyz"})
    assert response.status_code == 302
    view = SavedView.objects.get(user=rep_east)
    assert view.query == "tier=A"
    assert 'data-saved-view="A类"' in client.get(LIST).content.decode()
    client.post(reverse("crm:saved_view_delete", args=[view.pk]))
    assert not SavedView.objects.exists()


def test_it_never_deletes_someone_elses_saved_view(client_for, rep_east, rep_west):
    view = SavedView.objects.create(user=rep_east, name="mine", query="tier=A")
    assert client_for(rep_west).post(reverse("crm:saved_view_delete", args=[view.pk])).status_code == 404
    assert SavedView.objects.filter(pk=view.pk).exists()


@pytest.mark.parametrize("sort", ["-id", "name", "next", "-last"])
def test_it_pages_through_every_row_once_in_each_sort(client_for, rep_east, sort):
    now = timezone.now()
    for i in range(23):
        CustomerFactory(
            name=f"客户{i:02d}", owner=rep_east,
            next_followup_at=None if i % 4 == 0 else now + datetime.timedelta(hours=i % 5),
            last_followup_at=None if i % 3 == 0 else now - datetime.timedelta(days=i % 6),
        )
    client = client_for(rep_east)
    seen, url, params = [], LIST, {"sort": sort}
    pages = []
    while True:
        response = client.get(url, params)
        rows = names_in(response)
        pages.append(rows)
        seen.extend(rows)
        match = re.search(r'data-testid="next-page" href="\?([^"]+)"', response.content.decode())
        if not match:
            break
        params = dict(pair.split("=", 1) for pair in match.group(1).replace("&amp;", "&").split("&"))
    assert len(seen) == 23 and len(set(seen)) == 23
    # Going back from the last page gives the page before it.
    last = client.get(url, params).content.decode()
    back = re.search(r'data-testid="prev-page" href="\?([^"]+)"', last)
    if len(pages) > 1:
        back_params = dict(pair.split("=", 1) for pair in back.group(1).replace("&amp;", "&").split("&"))
        assert names_in(client.get(url, back_params)) == pages[-2]


def test_it_caps_the_count_instead_of_counting_everything(client_for, rep_east, settings, monkeypatch):
    from crm.lib import paging

    monkeypatch.setattr(paging, "COUNT_CAP", 5)
    for i in range(7):
        CustomerFactory(name=f"客户{i}", owner=rep_east)
    body = client_for(rep_east).get(LIST).content.decode()
    assert "超过 5 位客户" in body


def test_it_keeps_the_query_count_flat(client_for, rep_east, django_assert_max_num_queries):
    for i in range(60):
        CustomerFactory(name=f"客户{i}", owner=rep_east, tags=["a", "b"])
    client = client_for(rep_east)
    client.get(LIST)
    with django_assert_max_num_queries(14):
        response = client.get(LIST, {"q": "客户", "tier": "B", "sort": "name"})
    assert len(names_in(response)) == 50


def test_it_tags_many_customers_in_one_go(client_for, rep_east, rep_east2):
    mine = [CustomerFactory(name=f"客户{i}", owner=rep_east) for i in range(3)]
    response = client_for(rep_east).post(reverse("crm:customer_bulk"), {
        "action": "tag", "tag": "重点跟进", "ids": [c.pk for c in mine]})
    assert response.status_code == 302
    assert all("重点跟进" in c.tags for c in Customer.objects.filter(pk__in=[c.pk for c in mine]))


def test_it_rejects_a_bulk_request_with_one_foreign_id_and_changes_nothing(client_for, rep_east, rep_west):
    mine = CustomerFactory(name="我的", owner=rep_east)
    theirs = CustomerFactory(name="北京的", owner=rep_west)
    client = client_for(rep_east)
    response = client.post(reverse("crm:customer_bulk"), {"action": "tag", "tag": "x", "ids": [mine.pk, theirs.pk]},
                           follow=True)
    assert "不是你可以修改的" in response.content.decode()
    assert Customer.objects.get(pk=mine.pk).tags == []
    assert Customer.objects.get(pk=theirs.pk).tags == []


def test_it_refuses_bulk_release_of_a_foreign_customer(client_for, rep_east, rep_west):
    mine = CustomerFactory(name="我的", owner=rep_east)
    theirs = CustomerFactory(name="北京的", owner=rep_west)
    client_for(rep_east).post(reverse("crm:customer_bulk"), {"action": "release", "ids": [mine.pk, theirs.pk]})
    assert Customer.objects.get(pk=mine.pk).owner == rep_east
    assert Customer.objects.get(pk=theirs.pk).owner == rep_west


def test_it_hides_the_assign_action_from_reps(client_for, rep_east, manager_east):
    assert 'value="assign"' not in client_for(rep_east).get(LIST).content.decode()
    assert 'value="assign"' in client_for(manager_east).get(LIST).content.decode()


def test_it_renders_only_the_results_for_htmx(client_for, rep_east, huaxin):
    response = client_for(rep_east).get(LIST, {"q": "华信"}, HTTP_HX_REQUEST="true",
                                        HTTP_HX_TARGET="customer-results")
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="customer-results">')
    assert "<html" not in body
    assert names_in(response) == ["北京华信科技有限公司"]


def owner_options(response, select_name_attr):
    """{team: [(value, label, selected)]} of one owner <select>, found by its opening tag."""
    html = response.content.decode()
    select = html.split(select_name_attr, 1)[1].split("</select>", 1)[0]
    groups = {}
    for team, body in re.findall(r'<optgroup label="([^"]*)">(.*?)</optgroup>', select):
        groups[team] = re.findall(r'<option value="(\d+)"( selected)?>([^<]*)</option>', body)
    return groups


def test_owner_choices_are_the_people_in_scope_grouped_by_team(client_for, manager_east, rep_east, rep_east2,
                                                               rep_hz, rep_west):
    rep_hz.display_name = "<b>杭州</b>"
    rep_hz.save()
    CustomerFactory(name="杭州的", owner=rep_hz)
    response = client_for(manager_east).get(LIST, {"owner": rep_hz.pk})
    assert names_in(response) == ["杭州的"]
    for attr in ('<select name="owner" id="id_owner"', '<select name="owner" class="form-select form-select-sm'):
        groups = owner_options(response, attr)
        assert list(groups) == ["华东区", "上海分公司", "杭州分公司"]  # tree order; 北京分公司 is out of scope
        assert [label for _pk, _sel, label in groups["上海分公司"]] == [str(rep_east), str(rep_east2)]
        assert groups["杭州分公司"][0][2] == "&lt;b&gt;杭州&lt;/b&gt;"
    filter_groups = owner_options(response, '<select name="owner" id="id_owner"')
    assert filter_groups["杭州分公司"][0] == (str(rep_hz.pk), " selected", "&lt;b&gt;杭州&lt;/b&gt;")
    assert [o for g in filter_groups.values() for o in g if o[1]] == [(str(rep_hz.pk), " selected", "&lt;b&gt;杭州&lt;/b&gt;")]
    assert str(rep_west) not in response.content.decode()


def test_team_choices_are_indented_in_tree_order(client_for, director, teams):
    html = client_for(director).get(LIST).content.decode()
    select = html.split('<select name="team" id="id_team"', 1)[1].split("</select>", 1)[0]
    labels = re.findall(r'<option value="\d+">([^<]*)</option>', select)
    assert labels == ["总部", "\u3000华东区", "\u3000\u3000上海分公司", "\u3000\u3000杭州分公司",
                      "\u3000华北区", "\u3000\u3000北京分公司"]
