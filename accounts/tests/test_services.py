import pytest
from django.core.exceptions import ValidationError

from accounts import services
from accounts.models import Team


def test_it_queues_the_reset_mail_only_on_commit(django_capture_on_commit_callbacks, admin, rep_east):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.user_reset_password(user=rep_east, password="Tmp-pass-2026!", by=admin)
    assert len(callbacks) == 1
    rep_east.refresh_from_db()
    assert rep_east.must_change_password and rep_east.check_password("Tmp-pass-2026!")


def test_it_rewrites_the_subtree_paths_when_a_team_moves(teams, admin):
    services.team_update(team=teams["east"], name="华东区", parent=teams["north"], lead=None, by=admin)
    shanghai = Team.objects.get(pk=teams["shanghai"].pk)
    assert shanghai.ancestor_ids == [teams["hq"].pk, teams["north"].pk, teams["east"].pk, shanghai.pk]


def test_it_refuses_to_move_a_team_under_its_own_child(teams, admin):
    with pytest.raises(ValidationError):
        services.team_update(team=teams["east"], name="华东区", parent=teams["shanghai"], lead=None, by=admin)
    assert Team.objects.get(pk=teams["east"].pk).parent_id == teams["hq"].pk


def test_it_refuses_a_manager_cycle(manager_east, rep_east, admin):
    with pytest.raises(ValidationError):
        services.user_update(user=manager_east, manager=rep_east, by=admin)
    manager_east.refresh_from_db()
    assert manager_east.manager_id != rep_east.pk


def test_it_records_who_changed_what(client, admin, rep_east):
    from accounts.history import record_history as history_of
    from crm.services import customer_update
    from crm.tests.factories import CustomerFactory

    customer = CustomerFactory(name="旧名称", owner=rep_east)
    customer_update(customer=customer, by=rep_east, name="新名称")
    latest = history_of(customer)[0]
    assert latest["who"] == rep_east.name
    assert any(old == "旧名称" and new == "新名称" for _label, old, new in latest["changes"])
