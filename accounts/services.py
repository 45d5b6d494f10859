"""Every write to users, teams, roles and shares. Each runs in one transaction and leaves an
audit trace (django-pghistory triggers, with who and why attached through `audited`).

Users, teams and roles are changed by holders of MANAGE_USERS (`by=None` is the system itself: seed
data and management commands), and nobody gives rights they do not hold: a user is changed only by
someone who holds every right they hold (`may_manage`), a role is granted, created or changed only
within the actor's own capabilities and data scopes, and nobody widens their own reach by moving
themselves, a team or a subordinate in the tree."""
import uuid

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import ProtectedError, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.lib.audit import audited  # noqa: F401 - services of every app import it from here
from crm.lib.queue import enqueue_on_commit

from .access import _rule, can_edit, forget_access, may_manage, user_access
from .capabilities import Capability, Scope
from .grants import can, handable, share_recipients_q, teams_within_scope, within_scope
from .models import Role, Share, Team, User

# Who may change users, teams and roles -------------------------------------------------------

def _require_manage_users(by):
    if by is not None and not user_access(by).has(Capability.MANAGE_USERS):
        raise PermissionDenied


def _require_may_manage(by, user):
    """`by` may change `user`'s account only when holding every right `user` holds (a superuser
    only by a superuser), so no one can lock out, take over or demote someone above them."""
    _require_manage_users(by)
    if by is not None and not may_manage(by, user):
        raise PermissionDenied(_("%(name)s holds rights you do not have.") % {"name": user.name})


def _require_roles_held(by, roles):
    """Every capability and data scope of each role must be one `by` holds."""
    if by is None:
        return
    access = user_access(by)
    beyond = [role.name for role in roles if not access.holds_role(role)]
    if beyond:
        raise PermissionDenied(_("You cannot grant rights you do not hold yourself: %(roles)s.")
                               % {"roles": "、".join(beyond)})


def _reaches_by(access, *kinds):
    """Whether `access` holds one of the tree-relative scope `kinds` in a module where it does not
    see everything anyway (so where the tree decides what it reaches)."""
    if access.is_superuser:
        return False
    return any(held & set(kinds) and Scope.ALL not in held for held in access.scopes.values())


def _reports_to(user, boss):
    """Whether `user` is `boss` or below them in the manager chain."""
    seen, current = set(), user
    while current is not None and current.pk not in seen:
        if current.pk == boss.pk:
            return True
        seen.add(current.pk)
        current = current.manager
    return False


# Teams -----------------------------------------------------------------------------------------

def _team_path(parent, team_id):
    return f"{parent.path if parent else '/'}{team_id}/"


def team_create(*, name, parent=None, lead=None, by=None):
    """A new team under `parent` (None: a root). Its path is set in the same transaction."""
    _require_manage_users(by)
    with audited(by, "team_create"):
        team = Team.objects.create(name=name, parent=parent, lead=lead)
        team.path = _team_path(parent, team.pk)
        team.save(update_fields=["path"])
    return team


def team_update(*, team, name, parent, lead, by=None):
    """Rename, re-lead or move a team. Moving rewrites the paths of its whole subtree in one
    UPDATE; a team cannot move under itself or its own descendants, nor into the subtree of
    someone whose own reach would grow with it (their team-and-sub-teams scope)."""
    _require_manage_users(by)
    if parent is not None and parent.path.startswith(team.path):
        raise ValidationError(_("A team cannot be moved under itself or one of its sub-teams."))
    if by is not None and by.team_id and parent is not None and parent != team.parent:
        mine = by.team.path
        if (_reaches_by(user_access(by), Scope.TEAM_AND_SUBTEAMS) and parent.path.startswith(mine)
                and not team.path.startswith(mine)):
            raise ValidationError({"parent": _("You cannot move a team under your own team: you would see its "
                                               "records. Ask someone who sees all records.")})
    with audited(by, "team_update"):
        old_path = team.path
        team.name, team.lead = name, lead
        if parent != team.parent:
            team.parent = parent
            new_path = _team_path(parent, team.pk)
            Team.objects.filter(path__startswith=old_path).update(
                path=Concat(Value(new_path), Substr("path", len(old_path) + 1)))
            team.path = new_path
        team.save(update_fields=["name", "lead", "parent"])
    return team


def team_delete(*, team, by=None):
    """Remove an empty team. Teams with members, sub-teams or records (customers…) stay."""
    _require_manage_users(by)
    if team.children.exists() or team.members.exists():
        raise ValidationError(_("Only a team without members and sub-teams can be deleted."))
    try:
        with audited(by, "team_delete"):
            team.delete()
    except ProtectedError:
        raise ValidationError(_("This team still has records (such as customers) assigned to it. "
                                "Move them to another team first.")) from None


# Users -----------------------------------------------------------------------------------------

USER_FIELDS = ("username", "display_name", "email", "mobile", "team", "manager",
               "preferred_language", "time_zone", "is_active")


def _check_manager(user, manager):
    seen, current = set(), manager
    while current is not None:
        if current.pk == user.pk:
            raise ValidationError(_("A user cannot report to themselves, directly or through others."))
        if current.pk in seen:
            break
        seen.add(current.pk)
        current = current.manager


def user_create(*, by=None, password, roles=(), **fields):
    """A new user with a password they must change at first sign-in, holding only roles within
    `by`'s own rights."""
    _require_manage_users(by)
    _require_roles_held(by, roles)
    with audited(by, "user_create"):
        user = User(**{k: v for k, v in fields.items() if k in USER_FIELDS})
        user.mobile = user.mobile or None
        user.set_password(password)
        user.must_change_password = by is not None
        user.full_clean()
        user.save()
        user.roles.set(roles)
    return user


def _check_own_reach(by, user, *, was):
    """Nobody widens their own reach: not by moving themselves to another team while a team scope
    decides what they see, nor by placing someone below themselves while "own and subordinates" does.
    `was` holds the user's team and manager ids before the change."""
    access = user_access(by)
    if (user.pk == by.pk and user.team_id != was["team_id"]
            and _reaches_by(access, Scope.TEAM, Scope.TEAM_AND_SUBTEAMS)):
        raise ValidationError({"team": _("You cannot move yourself to another team: what you see follows "
                                         "your team. Ask another administrator.")})
    if (user.manager_id != was["manager_id"] and user.manager_id and _reaches_by(access, Scope.OWN_AND_SUBORDINATES)
            and _reports_to(user.manager, by)
            and not (was["manager"] is not None and _reports_to(was["manager"], by))):
        raise ValidationError({"manager": _("You cannot place %(name)s below yourself: you would see their "
                                            "records. Ask another administrator.") % {"name": user.name}})


def user_update(*, user, by=None, roles=None, **fields):
    """Change a user's profile, team, manager, roles or active flag. Only someone who holds every
    right the user holds may, granting only roles within their own rights; nobody deactivates their
    own account (an admin could lock everyone out) or widens their own reach (`_check_own_reach`)."""
    _require_may_manage(by, user)
    if roles is not None:
        _require_roles_held(by, roles)
    if fields.get("is_active") is False and by is not None and by.pk == user.pk:
        raise ValidationError(_("You cannot deactivate your own account."))
    # A bound form has already written its values onto `user`: read what was saved.
    was = User.objects.select_related("manager").filter(pk=user.pk).first()
    was = {"team_id": was.team_id, "manager_id": was.manager_id, "manager": was.manager}
    for key, value in fields.items():
        if key in USER_FIELDS:
            setattr(user, key, value)
    user.mobile = user.mobile or None
    if user.manager_id:
        _check_manager(user, user.manager)
    if by is not None:
        _check_own_reach(by, user, was=was)
    with audited(by, "user_update"):
        user.full_clean()
        user.save()
        if roles is not None:
            user.roles.set(roles)
    forget_access(user)
    return user


def user_reset_password(*, user, password, by):
    """An admin sets a temporary password; the user must choose a new one at next sign-in and
    is told by email (after commit) that it happened. Only for users `by` may manage."""
    from .tasks import notify_password_reset

    _require_may_manage(by, user)
    with audited(by, "user_reset_password"):
        user.set_password(password)
        user.must_change_password = True
        user.save(update_fields=["password", "must_change_password"])
        enqueue_on_commit(notify_password_reset, user_id=user.pk, event_id=str(uuid.uuid4()))
    return user


def user_change_own_password(*, user, password):
    with audited(user, "user_change_password"):
        user.set_password(password)
        user.must_change_password = False
        user.save(update_fields=["password", "must_change_password"])
    return user


def user_set_preferences(*, user, preferred_language=None, time_zone=None):
    with audited(user, "user_preferences"):
        if preferred_language:
            user.preferred_language = preferred_language
        if time_zone:
            user.time_zone = time_zone
        user.save(update_fields=["preferred_language", "time_zone"])
    return user


# Roles -----------------------------------------------------------------------------------------

ROLE_FIELDS = ("name", "description", "capabilities", "customers_scope", "sales_scope",
               "service_scope", "marketing_scope", "landing_page", "priority")


def _require_role_held(by, role, message):
    if by is not None and not user_access(by).holds_role(role):
        raise PermissionDenied(message)


def role_save(*, role=None, by=None, **fields):
    """Create (role=None) or change a role: its capabilities and a data scope per module. `by` may
    change only a role within their own rights, and only to one within them."""
    _require_manage_users(by)
    if role is not None and role.pk:
        # A bound form has already written its values onto `role`: judge the role as saved.
        saved = Role.objects.get(pk=role.pk)
        _require_role_held(by, saved, _("Role %(name)s holds rights you do not have.") % {"name": saved.name})
    role = role or Role()
    for key, value in fields.items():
        if key in ROLE_FIELDS:
            setattr(role, key, value)
    role.capabilities = sorted(set(role.capabilities))
    _require_role_held(by, role, _("You cannot give a role rights you do not hold yourself."))
    with audited(by, "role_save"):
        role.full_clean()
        role.save()
    return role


def role_delete(*, role, by=None):
    _require_manage_users(by)
    _require_role_held(by, role, _("Role %(name)s holds rights you do not have.") % {"name": role.name})
    if role.users.exists():
        raise ValidationError(_("A role still held by users cannot be deleted."))
    with audited(by, "role_delete"):
        role.delete()


# Shares ----------------------------------------------------------------------------------------

def share_create(*, obj, by, user=None, team=None, can_edit_record=False, expires_at=None):
    """Share one record with a user or a team (and its sub-teams). Only someone who may pass the
    record on may share it (`accounts.grants.handable`: its owner chain, or the assign capability with
    the record within their scope), and nobody grants more, or for longer, than they hold: edit
    rights only to one who may change the record, a team only within their own scope, and no end
    later than their own access's (which, when it comes from a share, ends with that share).
    Sharing again with the same recipient replaces the earlier share."""
    from .capabilities import Module

    _require_handable(by, obj)
    if (user is None) == (team is None):
        raise ValidationError(_("Choose either a user or a team to share with."))
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError(_("The end date of a share must be in the future."))
    module = _rule(type(obj)).module
    if team is not None and not teams_within_scope(by, Module(module)).filter(pk=team.pk).exists():
        raise ValidationError({"team": _("You can share only with teams within your own scope.")})
    if can_edit_record and not can_edit(by, obj):
        raise ValidationError({"can_edit": _("You may not change this record yourself, so you cannot let others "
                                             "change it.")})
    held_until = _access_ends(by, obj, write=can_edit_record)
    if held_until is not None and (expires_at is None or expires_at > held_until):
        raise ValidationError({"expires_at": _("Your own access ends on %(date)s: a share you make cannot last "
                                               "longer.") % {"date": timezone.localdate(held_until).isoformat()}})
    ct = ContentType.objects.get_for_model(obj)
    with audited(by, "share_create"):
        Share.objects.filter(content_type=ct, object_id=obj.pk, user=user, team=team).delete()
        return Share.objects.create(
            content_type=ct, object_id=obj.pk, user=user, team=team,
            can_edit=can_edit_record, expires_at=expires_at, created_by=by,
        )


def _require_handable(by, obj):
    if not can(handable, by, obj):
        raise PermissionDenied


def _access_ends(by, obj, *, write):
    """When `by`'s own access to `obj` (edit access with write=True) ends: None when their roles
    reach it; else the latest end of the shares that give it to them (None when one has none)."""
    if can(within_scope, by, obj):
        return None
    shares = Share.objects.active().filter(
        share_recipients_q(by), content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk)
    if write:
        shares = shares.filter(can_edit=True)
    ends = list(shares.values_list("expires_at", flat=True))
    if not ends or None in ends:
        return None
    return max(ends)


def share_revoke(*, share, by):
    """Withdraw a share. Allowed to whoever may share the record (see share_create)."""
    obj = share.content_type.get_object_for_this_type(pk=share.object_id)
    _require_handable(by, obj)
    with audited(by, "share_revoke"):
        share.delete()


def shares_expire(*, now=None):
    """Delete every share whose end date has passed, in one statement. Running it twice
    deletes nothing more. Returns how many were removed."""
    with audited(None, "shares_expire"):
        deleted, _detail = Share.objects.filter(expires_at__lte=now or timezone.now()).delete()
    return deleted
