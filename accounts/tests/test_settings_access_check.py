"""Settings › Access check: an admin asks why a user can (or cannot) see a record; customers are the kind
crm registers (accounts.access_check). `?customer=…` is the old links' spelling of `?kind=customer&record=…`."""
import pytest
from django.urls import reverse

from accounts import services
from accounts.capabilities import Capability, Scope
from accounts.tests.factories import RoleFactory, UserFactory
from crm.tests.factories import CustomerFactory

ACCESS = reverse("settings:accounts:access_check")


@pytest.fixture
def english_admin(client_for, admin):
    client = client_for(admin)
    client.cookies["django_language"] = "en"
    return client


@pytest.fixture
def customers(rep_east, rep_west):
    return {
        "sh": CustomerFactory(name="上海电气", owner=rep_east),
        "bj": CustomerFactory(name="北京电气", owner=rep_west),
    }


def test_it_shows_an_empty_form_with_the_user_preselected(english_admin, rep_east):
    response = english_admin.get(ACCESS, {"user": rep_east.pk})
    assert response.status_code == 200
    assert not response.context["form"].is_bound
    assert response.context["form"]["user"].value() == str(rep_east.pk)


def test_it_explains_a_visible_customer_by_id(english_admin, rep_east2, customers):
    response = english_admin.get(ACCESS, {"user": rep_east2.pk, "customer": customers["sh"].pk})
    answer = response.context["explanation"]
    assert (answer.can_see, answer.can_edit) == (True, True)
    content = response.content.decode()
    assert "Can see" in content and "Can edit" in content
    assert "Role 销售代表 grants “Own team” on Customers: the customer&#x27;s team 上海分公司 is the user&#x27;s team." in content


def test_it_explains_a_customer_out_of_reach(english_admin, rep_west, customers):
    response = english_admin.get(ACCESS, {"user": rep_west.pk, "customer": "上海电气"})
    answer = response.context["explanation"]
    assert (answer.can_see, answer.can_edit) == (False, False)
    content = response.content.decode()
    assert "Cannot see" in content
    assert "Nothing grants this user access to this record." in content


def test_it_explains_a_read_only_share(english_admin, director, rep_west, customers):
    services.share_create(obj=customers["sh"], by=director, user=rep_west)
    response = english_admin.get(ACCESS, {"user": rep_west.pk, "customer": customers["sh"].pk})
    content = response.content.decode()
    assert "Can see" in content and "Cannot edit" in content
    assert f"Shared with the user by {director.name} (read-only, no end date)." in content


def test_it_lets_the_admin_pick_among_several_matches(english_admin, rep_east, customers):
    response = english_admin.get(ACCESS, {"user": rep_east.pk, "customer": "电气"})
    assert "explanation" not in response.context
    assert set(response.context["matches"]) == set(customers.values())
    assert f"kind=customer&amp;record={customers['bj'].pk}" in response.content.decode()


def test_it_takes_the_kind_and_the_record(english_admin, rep_east2, customers):
    response = english_admin.get(ACCESS, {"user": rep_east2.pk, "kind": "customer", "record": customers["sh"].pk})
    assert response.context["explanation"].obj == customers["sh"]
    assert f"{rep_east2.name} and the customer 上海电气" in response.content.decode()


def test_it_offers_the_kinds_apps_registered(english_admin):
    form = english_admin.get(ACCESS).context["form"]
    assert [key for key, _label in form.fields["kind"].choices] == ["customer"]
    assert form["kind"].is_hidden and form.fields["record"].label == "Customer"


def test_it_says_when_no_customer_matches(english_admin, rep_east, customers):
    response = english_admin.get(ACCESS, {"user": rep_east.pk, "customer": "不存在"})
    assert b'data-testid="no-match"' in response.content


def test_it_reveals_nothing_of_a_customer_the_asker_cannot_see(client_for, teams, roles, rep_east, customers):
    """The lookup reads through the access layer too: a MANAGE_USERS role without customer scope
    learns nothing about a customer, not even that it exists."""
    user_admin = UserFactory(username="hr", roles=[RoleFactory(
        capabilities=[Capability.MANAGE_USERS], customers_scope=Scope.NONE)])
    response = client_for(user_admin).get(ACCESS, {"user": rep_east.pk, "customer": customers["sh"].pk})
    assert response.status_code == 200
    assert response.context.get("explanation") is None
    assert customers["sh"].name not in response.content.decode()


def test_it_refuses_a_rep(client_for, rep_east, customers):
    response = client_for(rep_east).get(ACCESS, {"user": rep_east.pk, "customer": customers["sh"].pk})
    assert response.status_code == 403


def test_it_says_a_rep_sees_the_pool_customer_he_opens(english_admin, client_for, teams, rep_east, admin):
    """rep_sh opened a 华东公海 customer (200) that the access check said he could not see."""
    from crm.models import Pool

    pool = Pool.objects.create(name="华东公海")
    pool.teams.add(teams["east"])
    waiting = CustomerFactory(name="公海里的客户", pool=pool)
    english_admin.cookies["django_language"] = "en"
    content = english_admin.get(ACCESS, {"user": rep_east.pk, "customer": waiting.pk}).content.decode()
    assert "Can see" in content and "Cannot edit" in content and "It waits in the pool 华东公海" in content
    rep = client_for(rep_east)
    assert rep.get(reverse("crm:customer_detail", args=[waiting.pk])).status_code == 200
    assert rep.get(reverse("crm:customer_edit", args=[waiting.pk])).status_code == 403
