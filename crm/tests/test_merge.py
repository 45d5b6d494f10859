"""Merging duplicate customers (crm.services.merge), its undo, the merge chooser page and the merge
history partial."""
import datetime

import pghistory.models
import pytest
from django.contrib.contenttypes.models import ContentType
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.safestring import SafeData

from accounts import services as account_services
from accounts.history import record_history as history_of
from accounts.models import Share
from crm.models import Contact, Customer, CustomerMerge, FollowUp, Pool, PoolEvent
from crm.selectors import customers_visible_to, merges_of
from crm.services import customer_merge_undo, customer_update, customers_merge
from crm.services.customers import EditConflict
from crm.services.merge import MERGE_CONCAT, merge_relations
from crm.tests.factories import ContactFactory, CustomerFactory, FollowUpFactory

MERGE = reverse("crm:customer_merge")


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def pair(rep_east, rep_east2, rep_hz):
    """Two records of one company in 华东区: `a` (rep_east's) and `b` (rep_east2's), each with a primary
    contact, follow-ups; `b` also with a second contact, a pool event and a share."""
    a = CustomerFactory(name="北京华信科技有限公司", owner=rep_east, email="a@huaxin.com", tags=["重点"],
                        notes="老客户", tier="A")
    b = CustomerFactory(name="北京华信科技有限责任公司", owner=rep_east2, mobile="+8613812345678", tags=["IT", "重点"],
                        notes="新录入", tier="B", last_followup_at=timezone.now() - datetime.timedelta(days=1))
    zhang = ContactFactory(customer=a, name="张三", is_primary=True)
    li = ContactFactory(customer=b, name="李四", is_primary=True, mobile="+8613900001111")
    wang = ContactFactory(customer=b, name="王五")
    FollowUpFactory(customer=a)
    FollowUpFactory(customer=b, contact=li)
    FollowUpFactory(customer=b)
    PoolEvent.objects.create(customer=b, kind=PoolEvent.Kind.CLAIM, owner=rep_east2, by=rep_east2)
    share = account_services.share_create(obj=b, by=rep_east2, user=rep_hz)
    return {"a": a, "b": b, "zhang": zhang, "li": li, "wang": wang, "share": share}


def rows_of(ids):
    """Every row of the customers and of what hangs off them, minus the counters a save moves on."""
    customer_type = ContentType.objects.get_for_model(Customer)
    customers = [{k: v for k, v in row.items() if k not in ("version", "updated_at")}
                 for row in Customer.objects.filter(pk__in=ids).order_by("pk").values()]
    return {
        "customers": customers,
        "contacts": list(Contact.objects.filter(customer_id__in=ids).order_by("pk").values()),
        "followups": list(FollowUp.objects.filter(customer_id__in=ids).order_by("pk").values()),
        "pool_events": list(PoolEvent.objects.filter(customer_id__in=ids).order_by("pk").values()),
        "shares": list(Share.objects.filter(content_type=customer_type, object_id__in=ids).order_by("pk").values()),
    }


# The service -----------------------------------------------------------------------------------

def test_it_moves_everything_to_the_survivor_and_archives_the_other(pair, manager_east):
    a, b = pair["a"], pair["b"]

    merge = customers_merge(survivor=a, others=[b], values={"mobile": b.pk, "tier": a.pk}, by=manager_east)

    assert set(Contact.objects.filter(customer=a).values_list("name", flat=True)) == {"张三", "李四", "王五"}
    assert list(Contact.objects.filter(customer=a, is_primary=True).values_list("name", flat=True)) == ["张三"]
    assert FollowUp.objects.filter(customer=a).count() == 3
    assert PoolEvent.objects.filter(customer=a).count() == 1
    pair["share"].refresh_from_db()
    assert pair["share"].object_id == a.pk
    b.refresh_from_db()
    assert b.merged_into_id == a.pk and b.archived_at is not None
    assert not Contact.objects.filter(customer=b).exists() and not FollowUp.objects.filter(customer=b).exists()
    assert b not in customers_visible_to(manager_east)
    assert merge.merged_ids == [b.pk]
    moved = {entry["model"]: entry["from"] for entry in merge.snapshot["moved"]}
    assert sorted(moved["crm.contact"][str(b.pk)]) == sorted([pair["li"].pk, pair["wang"].pk])
    assert moved["accounts.share"] == {str(b.pk): [pair["share"].pk]}


def test_it_keeps_the_chosen_values(pair, manager_east):
    a, b = pair["a"], pair["b"]

    customers_merge(survivor=a, others=[b], values={"mobile": b.pk, "tier": a.pk, "notes": MERGE_CONCAT},
                    by=manager_east)

    a.refresh_from_db()
    assert a.mobile == "+8613812345678"
    assert a.tier == "A"
    assert a.email == "a@huaxin.com"
    assert a.tags == ["IT", "重点"]  # the union by default
    assert a.notes == "老客户\n\n新录入"
    assert a.last_followup_at == FollowUp.objects.filter(customer=a).latest("at").at  # the latest of all
    assert a.owner_id == pair["a"].owner_id
    assert " 李四 " in a.search_text and "13812345678" in a.search_text


def test_it_takes_the_owner_with_its_pool_and_claim_time(pair, manager_east, rep_east2):
    a, b = pair["a"], pair["b"]

    customers_merge(survivor=a, others=[b], values={"owner": b.pk, "team": b.pk}, by=manager_east)

    a.refresh_from_db()
    assert a.owner == rep_east2 and a.claimed_at == b.claimed_at


def test_it_records_the_merge_on_the_survivors_history(pair, manager_east):
    a, b = pair["a"], pair["b"]

    customers_merge(survivor=a, others=[b], values={"mobile": b.pk}, by=manager_east)

    event = history_of(a)[0]
    assert event["action"] == "customer_merge"
    assert event["who"] == str(manager_east)
    assert any(old in ("", None) and new == "+8613812345678" for _label, old, new in event["changes"])
    # (history_of(b) itself trips over merged_into going from None to an id: see crm/audit.py _resolve_names)
    latest = pghistory.models.Events.objects.tracks(b).order_by("-pgh_created_at", "-pgh_id").first()
    assert latest.pgh_context["action"] == "customer_merge"
    assert latest.pgh_diff["merged_into_id"] == [None, a.pk]


def test_it_makes_a_merged_contact_primary_when_the_survivor_has_none(pair, manager_east):
    a, b = pair["a"], pair["b"]
    Contact.objects.filter(pk=pair["zhang"].pk).update(is_primary=False)

    customers_merge(survivor=a, others=[b], by=manager_east)

    assert list(Contact.objects.filter(customer=a, is_primary=True).values_list("name", flat=True)) == ["李四"]


def test_it_merges_several_at_once(pair, manager_east, rep_hz):
    a, b = pair["a"], pair["b"]
    c = CustomerFactory(name="华信", owner=rep_hz)
    ContactFactory(customer=c, name="赵六", is_primary=True)
    before = rows_of([a.pk, b.pk, c.pk])

    merge = customers_merge(survivor=a, others=[b, c], by=manager_east)

    assert Contact.objects.filter(customer=a).count() == 4
    assert Contact.objects.filter(customer=a, is_primary=True).count() == 1
    assert sorted(merge.merged_ids) == sorted([b.pk, c.pk])
    customer_merge_undo(merge=merge, by=manager_east)
    assert rows_of([a.pk, b.pk, c.pk]) == before


def test_it_undoes_exactly(pair, manager_east):
    a, b = pair["a"], pair["b"]
    ids = [a.pk, b.pk]
    before = rows_of(ids)
    merge = customers_merge(survivor=a, others=[b], values={"mobile": b.pk, "tier": b.pk, "notes": MERGE_CONCAT},
                            by=manager_east)
    assert rows_of(ids) != before

    undone = customer_merge_undo(merge=merge, by=manager_east)

    assert rows_of(ids) == before
    assert undone.undone_at is not None and undone.undone_by == manager_east
    assert undone.kept_fields == []
    assert history_of(a)[0]["action"] == "customer_merge_undo"


def test_it_refuses_to_undo_twice(pair, manager_east):
    merge = customers_merge(survivor=pair["a"], others=[pair["b"]], by=manager_east)
    customer_merge_undo(merge=merge, by=manager_east)
    after_first = rows_of([pair["a"].pk, pair["b"].pk])

    with pytest.raises(ValidationError, match="already been undone"):
        customer_merge_undo(merge=merge, by=manager_east)
    assert rows_of([pair["a"].pk, pair["b"].pk]) == after_first


def test_it_refuses_to_undo_when_the_survivor_was_merged_again(pair, manager_east, rep_east):
    a, b = pair["a"], pair["b"]
    c = CustomerFactory(name="华信集团", owner=rep_east)
    first = customers_merge(survivor=a, others=[b], by=manager_east)
    customers_merge(survivor=c, others=[a], by=manager_east)

    with pytest.raises(ValidationError, match="merged into another customer after this merge"):
        customer_merge_undo(merge=first, by=manager_east)
    first.refresh_from_db()
    assert first.undone_at is None


def test_it_keeps_a_value_changed_after_the_merge(pair, manager_east):
    a, b = pair["a"], pair["b"]
    merge = customers_merge(survivor=a, others=[b], values={"mobile": b.pk, "tier": b.pk}, by=manager_east)
    customer_update(customer=a, by=manager_east, mobile="+8613700000000")

    undone = customer_merge_undo(merge=merge, by=manager_east)

    a.refresh_from_db()
    assert a.mobile == "+8613700000000" and a.tier == "A"
    assert undone.kept_fields == ["mobile"]


@pytest.mark.parametrize("who", ["rep_east", "manager_west", "rep_west"])
def test_it_refuses_someone_who_may_not_merge_them_and_changes_nothing(pair, person, who):
    before = rows_of([pair["a"].pk, pair["b"].pk])

    with pytest.raises(PermissionDenied):
        customers_merge(survivor=pair["a"], others=[pair["b"]], by=person(who))

    assert rows_of([pair["a"].pk, pair["b"].pk]) == before
    assert not CustomerMerge.objects.exists()


def test_it_refuses_the_whole_merge_if_one_customer_is_out_of_reach(pair, manager_east, rep_west):
    west = CustomerFactory(name="北京华信", owner=rep_west)
    before = rows_of([pair["a"].pk, pair["b"].pk, west.pk])

    with pytest.raises(PermissionDenied):
        customers_merge(survivor=pair["a"], others=[pair["b"], west], by=manager_east)

    assert rows_of([pair["a"].pk, pair["b"].pk, west.pk]) == before


def test_it_refuses_an_undo_by_someone_out_of_reach(pair, manager_east, manager_west):
    merge = customers_merge(survivor=pair["a"], others=[pair["b"]], by=manager_east)

    with pytest.raises(PermissionDenied):
        customer_merge_undo(merge=merge, by=manager_west)


def test_it_refuses_archived_customers_and_stale_versions(pair, manager_east):
    a, b = pair["a"], pair["b"]
    with pytest.raises(EditConflict):
        customers_merge(survivor=a, others=[b], by=manager_east, versions={a.pk: a.version, b.pk: b.version - 1})
    Customer.objects.filter(pk=b.pk).update(archived_at=timezone.now())
    with pytest.raises(ValidationError):
        customers_merge(survivor=a, others=[b], by=manager_east)
    with pytest.raises(ValidationError):
        customers_merge(survivor=a, others=[a], by=manager_east)
    assert not CustomerMerge.objects.exists()


def test_it_refuses_a_value_from_a_customer_outside_the_merge(pair, manager_east, rep_east):
    stranger = CustomerFactory(owner=rep_east)

    with pytest.raises(ValidationError):
        customers_merge(survivor=pair["a"], others=[pair["b"]], values={"mobile": stranger.pk}, by=manager_east)


def test_it_finds_every_relation_but_the_audit_trail():
    relations = {(model._meta.label_lower, field.name) for model, field in merge_relations()}

    assert {("crm.contact", "customer"), ("crm.followup", "customer"), ("crm.poolevent", "customer")} <= relations
    assert not any(label.endswith("event") and label != "crm.poolevent" for label, _field in relations)
    assert ("crm.customermerge", "survivor") not in relations


def test_it_leaves_behind_a_row_whose_twin_already_hangs_off_the_survivor(pair):
    """A unique rule that includes the customer (here: one primary contact per customer) is kept by
    leaving the clashing row with its archived customer rather than failing the merge."""
    from crm.services.merge import _rows_to_move

    rows = _rows_to_move(Contact, Contact._meta.get_field("customer"), pair["a"].pk, [pair["b"].pk])

    assert list(rows.values_list("name", flat=True)) == ["王五"]  # 李四 is primary, like a's 张三


def test_it_merges_with_a_constant_number_of_queries(manager_east, rep_east, django_assert_max_num_queries):
    def scene(children):
        a, b = CustomerFactory(owner=rep_east), CustomerFactory(owner=rep_east)
        for i in range(children):
            ContactFactory(customer=b, is_primary=(i == 0))
            FollowUpFactory(customer=b)
        return a, b

    a, b = scene(1)
    # The imported values not stored move too (lock, update); so do tickets and surveys (one update each).
    with django_assert_max_num_queries(26) as few:
        merge = customers_merge(survivor=a, others=[b], by=manager_east)
    a, b = scene(15)
    with django_assert_max_num_queries(len(few.captured_queries)):
        merge = customers_merge(survivor=a, others=[b], by=manager_east)
    with django_assert_max_num_queries(len(few.captured_queries)):
        customer_merge_undo(merge=merge, by=manager_east)


# Merge history ---------------------------------------------------------------------------------

def test_it_lists_merges_with_who_may_undo(pair, manager_east, rep_east, django_assert_max_num_queries):
    a, b = pair["a"], pair["b"]
    merge = customers_merge(survivor=a, others=[b], by=manager_east)

    with django_assert_max_num_queries(5):
        merges = merges_of(a, user=manager_east)
    assert merges == [merge] and merges[0].can_undo and merges[0].merged == [b]
    assert merges_of(a, user=rep_east)[0].can_undo is False  # no right to merge
    assert merges_of(b, user=manager_east)[0].survivor_visible
    html = render_to_string("crm/partials/merge_history.html", {"customer": a, "merges": merges})
    assert reverse("crm:customer_merge_undo", args=[merge.pk]) in html and b.name in html
    customer_merge_undo(merge=merge, by=manager_east)
    assert merges_of(a, user=manager_east)[0].can_undo is False


def test_it_hides_the_names_of_merged_customers_the_viewer_may_not_see(pair, manager_east, rep_hz):
    a, b = pair["a"], pair["b"]
    merge = customers_merge(survivor=a, others=[b], by=manager_east)  # b's share with rep_hz moves to a

    merges = merges_of(a, user=rep_hz)

    html = render_to_string("crm/partials/merge_history.html", {"customer": a, "merges": merges})
    assert merges == [merge] and merges[0].merged == [] and merges[0].hidden_count == 1
    assert b.name not in html
    assert "1 customer you cannot open" in html


def test_it_renders_no_history_for_a_customer_never_merged(pair):
    assert render_to_string("crm/partials/merge_history.html", {"customer": pair["a"], "merges": []}).strip() == ""


# Pages -----------------------------------------------------------------------------------------

def merge_url(*customers):
    return MERGE + "?" + "&".join(f"ids={c.pk}" for c in customers)


def test_it_shows_the_chooser_with_only_the_fields_that_differ(english_client_for, pair, manager_east):
    response = english_client_for(manager_east).get(merge_url(pair["a"], pair["b"]))

    page = response.content.decode()
    assert response.status_code == 200
    assert pair["a"].name in page and pair["b"].name in page
    assert 'name="value_mobile"' in page and 'name="value_tags"' in page and 'name="value_notes"' in page
    assert 'name="value_website"' not in page  # the same (empty) everywhere
    assert "Keep this record" in page


@pytest.mark.parametrize("who", ["rep_west", "manager_west"])
def test_it_answers_404_to_someone_who_may_not_see_them(client_for, pair, person, who):
    client = client_for(person(who))

    response = client.get(merge_url(pair["a"], pair["b"]))
    posted = client.post(MERGE, {"ids": [pair["a"].pk, pair["b"].pk], "survivor": pair["a"].pk})

    assert response.status_code == 404 and posted.status_code == 404
    for text in (pair["a"].name, pair["b"].name, "华信"):
        assert text not in response.content.decode()
    assert not CustomerMerge.objects.exists()


def test_it_answers_404_if_one_id_is_out_of_reach(client_for, pair, manager_east, rep_west):
    west = CustomerFactory(name="北京分公司的客户", owner=rep_west)

    response = client_for(manager_east).get(merge_url(pair["a"], west))

    assert response.status_code == 404
    assert west.name not in response.content.decode() and pair["a"].name not in response.content.decode()


def test_it_answers_403_to_a_rep_without_the_right_to_merge(client_for, pair, rep_east2):
    response = client_for(rep_east2).get(merge_url(pair["a"], pair["b"]))

    assert response.status_code == 403


def test_it_answers_403_for_a_read_only_pool_customer(client_for, pair, manager_east, teams):
    pool = Pool.objects.create(name="华东公海")
    pool.teams.add(teams["east"])
    pooled = CustomerFactory(name="公海里的华信", pool=pool)

    response = client_for(manager_east).get(merge_url(pair["a"], pooled))

    assert response.status_code == 403


def test_it_merges_and_offers_an_undo(client_for, pair, manager_east):
    a, b = pair["a"], pair["b"]
    client = client_for(manager_east)
    data = {"ids": [a.pk, b.pk], "survivor": b.pk, "value_mobile": b.pk, "value_tier": a.pk,
            "value_tags": "union", "value_notes": "concat", "value_name": a.pk, "value_owner": b.pk,
            "value_email": a.pk, **{f"version_{c.pk}": c.version for c in (a, b)}}

    response = client.post(MERGE, data)

    assert response.status_code == 302 and response.url == b.get_absolute_url()
    merge = CustomerMerge.objects.get()
    assert merge.survivor == b and merge.merged_ids == [a.pk]
    b.refresh_from_db()
    assert (b.name, b.tier, b.email, b.notes) == (a.name, "A", "a@huaxin.com", "新录入\n\n老客户")
    stored = CookieStorage(HttpRequest())._decode(response.cookies["messages"].value)
    message = stored[0].message
    assert isinstance(message, SafeData)  # the undo button survives the trip through the cookie
    assert f'action="{reverse("crm:customer_merge_undo", args=[merge.pk])}"' in message
    assert "csrfmiddlewaretoken" in message and 'data-testid="merge-undo"' in message


def test_it_shows_the_errors_of_a_bad_choice_and_merges_nothing(client_for, pair, manager_east):
    response = client_for(manager_east).post(
        MERGE, {"ids": [pair["a"].pk, pair["b"].pk], "survivor": pair["a"].pk, "value_mobile": "999"})

    assert response.status_code == 422
    assert not CustomerMerge.objects.exists()


def test_it_refuses_to_merge_a_customer_with_itself(client_for, pair, manager_east):
    response = client_for(manager_east).get(merge_url(pair["a"], pair["a"]))

    assert response.status_code == 302 and response.url == pair["a"].get_absolute_url()


def test_it_renders_the_chooser_with_a_fixed_number_of_queries(client_for, pair, manager_east,
                                                               django_assert_max_num_queries):
    client = client_for(manager_east)
    with django_assert_max_num_queries(10) as few:
        client.get(merge_url(pair["a"], pair["b"]))
    for _ in range(10):
        ContactFactory(customer=pair["b"])
        FollowUpFactory(customer=pair["a"])
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(merge_url(pair["a"], pair["b"]))
    assert "12 个联系人" in response.content.decode()


def test_it_undoes_from_the_button(client_for, pair, manager_east):
    a, b = pair["a"], pair["b"]
    merge = customers_merge(survivor=a, others=[b], by=manager_east)
    client = client_for(manager_east)

    response = client.post(reverse("crm:customer_merge_undo", args=[merge.pk]))
    again = client.post(reverse("crm:customer_merge_undo", args=[merge.pk]))

    assert response.status_code == 302 and response.url == a.get_absolute_url()
    b.refresh_from_db()
    assert b.merged_into_id is None and b.archived_at is None
    assert again.status_code == 302
    stored = CookieStorage(HttpRequest())._decode(again.cookies["messages"].value)
    assert "该合并已撤销过" in stored[-1].message


@pytest.mark.parametrize("who, status", [("rep_west", 404), ("manager_west", 404), ("rep_east2", 403)])
def test_it_refuses_an_undo_from_the_wrong_people(client_for, pair, manager_east, person, who, status):
    merge = customers_merge(survivor=pair["a"], others=[pair["b"]], by=manager_east)

    response = client_for(person(who)).post(reverse("crm:customer_merge_undo", args=[merge.pk]))

    assert response.status_code == status
    assert pair["a"].name not in response.content.decode()
    merge.refresh_from_db()
    assert merge.undone_at is None


def test_it_undoes_only_by_post(client_for, pair, manager_east):
    merge = customers_merge(survivor=pair["a"], others=[pair["b"]], by=manager_east)

    assert client_for(manager_east).get(reverse("crm:customer_merge_undo", args=[merge.pk])).status_code == 405
