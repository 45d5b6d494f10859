"""The access layer: five scopes × the team tree × manual shares, in SQL and over HTTP."""
import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.access import access_q, can_edit, editable, get_visible_or_404, visible
from accounts.capabilities import Scope
from accounts.tests.factories import RoleFactory, UserFactory
from crm.models import Customer

ALL = {"c_sh", "c_sh2", "c_hz", "c_bj", "c_east", "c_hq", "c_pool"}  # see the `book` fixture


def seen_by(user, book):
    ids = set(visible(user, Customer).values_list("pk", flat=True))
    return {key for key, customer in book.items() if customer.pk in ids}


def with_scope(user, scope):
    user.roles.set([RoleFactory(customers_scope=scope)])
    user.refresh_from_db()
    return user


# The seed roles as the demo company uses them --------------------------------------------------

@pytest.mark.parametrize("persona, expected", [
    ("rep_east", {"c_sh", "c_sh2"}),            # 销售代表: the branch shares its customers
    ("rep_hz", {"c_hz"}),
    ("rep_west", {"c_bj"}),                      # other branches see nothing of 上海
    ("manager_east", {"c_sh", "c_sh2", "c_hz", "c_east"}),  # 区域经理: 华东区 and below
    ("manager_west", {"c_bj"}),
    ("director", ALL),                           # 销售总监: all
    ("it_importer", ALL),
    ("admin", ALL),
])
def test_it_scopes_seed_roles_over_the_team_tree(person, book, persona, expected):
    user = person(persona)
    assert seen_by(user, book) == expected
    assert {k for k, c in book.items() if editable(user, Customer).filter(pk=c.pk).exists()} == expected


# Each of the five scopes, for a manager and for a rep -------------------------------------------

@pytest.mark.parametrize("scope, expected", [
    (Scope.NONE, set()),
    (Scope.OWN, {"c_east"}),
    (Scope.OWN_AND_SUBORDINATES, {"c_east", "c_sh", "c_sh2", "c_hz"}),
    (Scope.TEAM, {"c_east"}),
    (Scope.TEAM_AND_SUBTEAMS, {"c_east", "c_sh", "c_sh2", "c_hz"}),
    (Scope.ALL, ALL),
])
def test_it_applies_each_scope_to_a_manager(book, manager_east, scope, expected):
    assert seen_by(with_scope(manager_east, scope), book) == expected


@pytest.mark.parametrize("scope, expected", [
    (Scope.NONE, set()),
    (Scope.OWN, {"c_sh"}),
    (Scope.OWN_AND_SUBORDINATES, {"c_sh"}),
    (Scope.TEAM, {"c_sh", "c_sh2"}),
    (Scope.TEAM_AND_SUBTEAMS, {"c_sh", "c_sh2"}),
    (Scope.ALL, ALL),
])
def test_it_applies_each_scope_to_a_rep(book, rep_east, scope, expected):
    assert seen_by(with_scope(rep_east, scope), book) == expected


def test_it_follows_the_manager_chain_at_any_depth(book, director):
    """own + subordinates reaches the reps below the regional managers too (not the pool)."""
    assert seen_by(with_scope(director, Scope.OWN_AND_SUBORDINATES), book) == ALL - {"c_pool"}


def test_it_survives_a_cycle_in_the_manager_chain(book, manager_east, rep_east):
    manager_east.manager = rep_east
    manager_east.save()
    user = with_scope(manager_east, Scope.OWN_AND_SUBORDINATES)
    assert seen_by(user, book) == {"c_east", "c_sh", "c_sh2", "c_hz"}


def test_it_unions_the_scopes_of_several_roles(book, manager_east):
    manager_east.roles.set([RoleFactory(customers_scope=Scope.OWN), RoleFactory(customers_scope=Scope.TEAM_AND_SUBTEAMS)])
    manager_east.refresh_from_db()
    assert seen_by(manager_east, book) == {"c_east", "c_sh", "c_sh2", "c_hz"}


def test_it_moves_visibility_with_the_team_tree(book, teams, manager_east, admin):
    """Moving 杭州分公司 under 华北区 takes its customers out of the 华东区 manager's view."""
    services.team_update(team=teams["hangzhou"], name="杭州分公司", parent=teams["north"], lead=None, by=admin)
    assert seen_by(manager_east, book) == {"c_sh", "c_sh2", "c_east"}


def test_it_sees_nothing_when_inactive_or_anonymous(book, rep_east):
    from django.contrib.auth.models import AnonymousUser

    assert seen_by(AnonymousUser(), book) == set()
    rep_east.is_active = False
    assert seen_by(rep_east, book) == set()


def test_it_compiles_to_one_query(book, rep_east, django_assert_num_queries):
    user = type(rep_east).objects.get(pk=rep_east.pk)
    with django_assert_num_queries(3):  # roles, the user's team, then the scoped list itself
        names = list(visible(user, Customer).values_list("name", flat=True))
    assert sorted(names) == sorted(["上海客户甲", "上海客户乙"])
    assert access_q(user, Customer) is not None


# Manual shares ---------------------------------------------------------------------------------

def test_it_grants_a_read_only_share_until_revoked(book, rep_east, rep_west):
    share = services.share_create(obj=book["c_bj"], by=rep_west, user=rep_east)
    assert "c_bj" in seen_by(rep_east, book)
    assert not can_edit(rep_east, book["c_bj"])
    services.share_revoke(share=share, by=rep_west)
    assert "c_bj" not in seen_by(rep_east, book)


def test_it_grants_a_team_share_to_sub_teams(book, teams, rep_east, rep_hz, rep_west, director):
    # A team outside the sharer's own scope takes someone whose scope holds it (crm/tests/test_share_rules.py).
    services.share_create(obj=book["c_bj"], by=director, team=teams["east"], can_edit_record=True)
    assert "c_bj" in seen_by(rep_east, book) and "c_bj" in seen_by(rep_hz, book)
    assert can_edit(rep_hz, book["c_bj"])


def test_it_ignores_an_expired_share(book, rep_east, rep_west):
    share = services.share_create(obj=book["c_bj"], by=rep_west, user=rep_east,
                                  expires_at=timezone.now() + datetime.timedelta(hours=1))
    assert "c_bj" in seen_by(rep_east, book)
    type(share).objects.filter(pk=share.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert "c_bj" not in seen_by(rep_east, book)
    assert services.shares_expire() == 1
    assert services.shares_expire() == 0


def test_it_refuses_a_share_from_someone_who_cannot_edit(book, rep_east, rep_west):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.share_create(obj=book["c_bj"], by=rep_east, user=rep_east)
    services.share_create(obj=book["c_bj"], by=rep_west, user=rep_east)  # read-only
    with pytest.raises(PermissionDenied):  # a read-only recipient cannot pass it on
        services.share_create(obj=book["c_bj"], by=rep_east, user=UserFactory())


def test_it_raises_404_then_403(book, rep_east, rep_west):
    from django.core.exceptions import PermissionDenied
    from django.http import Http404

    with pytest.raises(Http404):
        get_visible_or_404(rep_east, Customer, book["c_bj"].pk)
    with pytest.raises(Http404):
        get_visible_or_404(rep_east, Customer, "not-a-number")
    services.share_create(obj=book["c_bj"], by=rep_west, user=rep_east)
    assert get_visible_or_404(rep_east, Customer, book["c_bj"].pk) == book["c_bj"]
    with pytest.raises(PermissionDenied):
        get_visible_or_404(rep_east, Customer, book["c_bj"].pk, write=True)


# Over HTTP: detail, edit, list -----------------------------------------------------------------

GRID = [  # persona, customers with 200 on detail and edit; every other one is 404
    ("rep_east", {"c_sh", "c_sh2"}),
    ("rep_west", {"c_bj"}),
    ("manager_east", {"c_sh", "c_sh2", "c_hz", "c_east"}),
    ("director", ALL),
]


@pytest.mark.parametrize("persona, allowed", GRID)
@pytest.mark.parametrize("url_name", ["crm:customer_detail", "crm:customer_edit"])
def test_it_answers_404_outside_scope(person, client, book, persona, allowed, url_name):
    client.force_login(person(persona))
    for key, customer in book.items():
        response = client.get(reverse(url_name, args=[customer.pk]))
        assert response.status_code == (200 if key in allowed else 404), (persona, key, url_name)
        if key not in allowed:
            assert customer.name not in response.content.decode()


@pytest.mark.parametrize("persona, allowed", GRID)
def test_it_lists_only_what_is_in_scope(person, client, book, persona, allowed):
    client.force_login(person(persona))
    page = client.get(reverse("crm:customer_list")).content.decode()
    for key, customer in book.items():
        assert (customer.name in page) == (key in allowed), (persona, key)


def test_it_answers_200_on_view_and_403_on_edit_for_a_read_only_share(client, book, rep_east, rep_west):
    c_bj = book["c_bj"]
    share = services.share_create(obj=c_bj, by=rep_west, user=rep_east)
    client.force_login(rep_east)
    assert client.get(reverse("crm:customer_detail", args=[c_bj.pk])).status_code == 200
    assert client.get(reverse("crm:customer_edit", args=[c_bj.pk])).status_code == 403
    response = client.post(reverse("crm:customer_edit", args=[c_bj.pk]), {"name": "被改名", "owner": rep_east.pk})
    assert response.status_code == 403
    c_bj.refresh_from_db()
    assert (c_bj.name, c_bj.owner_id) == ("北京客户", rep_west.pk)
    services.share_revoke(share=share, by=rep_west)
    assert client.get(reverse("crm:customer_detail", args=[c_bj.pk])).status_code == 404


def test_it_leaves_the_row_unchanged_when_a_write_is_denied(client, book, rep_east):
    c_bj = book["c_bj"]
    client.force_login(rep_east)
    response = client.post(reverse("crm:customer_edit", args=[c_bj.pk]), {"name": "被改名", "owner": rep_east.pk})
    assert response.status_code == 404
    c_bj.refresh_from_db()
    assert c_bj.name == "北京客户"


def test_it_lets_an_edit_share_change_the_record(client, book, rep_east, rep_west):
    c_bj = book["c_bj"]
    services.share_create(obj=c_bj, by=rep_west, user=rep_east, can_edit_record=True)
    client.force_login(rep_east)
    response = client.post(reverse("crm:customer_edit", args=[c_bj.pk]),
                           {"name": "北京客户（改）", "owner": rep_west.pk, "team": c_bj.team_id, "kind": "company",
                            "tier": "B", "status": "prospect", "deal_status": "none"})
    assert response.status_code == 302
    c_bj.refresh_from_db()
    assert c_bj.name == "北京客户（改）"  # stored as written (the match key folds the brackets)
