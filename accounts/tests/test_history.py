"""Users, teams, roles and shares in the history: deletions, and roles granted and taken away, with
who and why."""
import pytest
from django.utils import translation

from accounts import services
from accounts.history import audit_log
from accounts.models import Role, Team, UserRole
from accounts.tests.factories import RoleFactory
from crm.lib.audit import event_model

pytestmark = pytest.mark.django_db


def said(model, label, **row):
    """(user, action) of the last event of that label of the rows of `model` matching `row`."""
    events = (event_model(model).objects.filter(pgh_label=label, **row).select_related("pgh_context")
              .order_by("-pgh_id"))
    assert events, f"no {label} event of {model.__name__} {row}"
    return events[0].pgh_context.metadata.get("user"), events[0].pgh_context.metadata.get("action")


def test_a_deleted_team_and_role_leave_who_deleted_them(admin, teams):
    team = services.team_create(name="深圳分公司", parent=teams["hq"], by=admin)
    role = services.role_save(name="临时角色", by=admin)
    team_pk, role_pk = team.pk, role.pk

    services.team_delete(team=team, by=admin)
    services.role_delete(role=role, by=admin)

    assert not Team.objects.filter(pk=team_pk).exists() and not Role.objects.filter(pk=role_pk).exists()
    assert said(Team, "delete", pgh_obj_id=team_pk) == (admin.pk, "team_delete")
    assert said(Role, "delete", pgh_obj_id=role_pk) == (admin.pk, "role_delete")
    with translation.override("en"):
        titles = {str(e["title"]) for e in audit_log(admin, kind="delete")}
    assert {"deleted team 深圳分公司", "deleted role 临时角色"} <= titles


def test_roles_granted_and_taken_away_are_recorded(admin, rep_east):
    auditor = RoleFactory(name="审计员")

    services.user_update(user=rep_east, roles=[*rep_east.roles.all(), auditor], by=admin)
    services.user_update(user=rep_east, roles=[r for r in rep_east.roles.all() if r != auditor], by=admin)

    assert said(UserRole, "insert", user_id=rep_east.pk, role_id=auditor.pk) == (admin.pk, "user_update")
    assert said(UserRole, "delete", user_id=rep_east.pk, role_id=auditor.pk) == (admin.pk, "user_update")
