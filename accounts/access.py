"""The access layer: the one way to read business records.

Every queryset of customer data is narrowed here to what a user may see (`visible`) or change
(`editable`). The narrowing is a SQL condition built from the user's roles (one data scope per
module) and the manual shares that reach the user, so lists stay one query at any size.

A model takes part by declaring `access_rule = AccessRule(module=...)`; child records (a contact, a
follow-up) declare `parent=` and are visible exactly when their parent is.
"""
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.http import Http404

from . import lookups  # noqa: F401 - registers the any_of lookup
from .capabilities import Capability, LandingPage, Module, Scope


@dataclass(frozen=True)
class AccessRule:
    """How a model's rows map to owners and teams. `parent` names a FK whose target decides.
    `pool` names a FK to a customer pool: unowned rows in a pool are visible (read-only) to the
    members of the pool's teams and their sub-teams."""

    module: str = ""
    owner: str = "owner"
    team: str = "team"
    parent: str | None = None
    pool: str | None = None


@dataclass(frozen=True)
class UserAccess:
    """What one user may do: capabilities and the scopes held per module, from all roles."""

    capabilities: frozenset = frozenset()
    scopes: dict = field(default_factory=dict)
    landing_page: str = LandingPage.CUSTOMERS
    is_superuser: bool = False

    def has(self, capability):
        return self.is_superuser or capability in self.capabilities

    def scope(self, module):
        """The widest scope held for a module."""
        if self.is_superuser:
            return Scope.ALL
        return max(self.scopes.get(module, ()), default=Scope.NONE)

    def can_open(self, module):
        return self.scope(module) > Scope.NONE


def user_access(user):
    """Capabilities and scopes of `user`, computed once per user object (one query)."""
    cached = getattr(user, "_crm_access", None)
    if cached is not None:
        return cached
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        access = UserAccess()
    else:
        roles = list(user.roles.all())
        scopes = {m: frozenset(r.scope_for(m) for r in roles) for m in Module.values}
        access = UserAccess(
            capabilities=frozenset(c for r in roles for c in r.capabilities),
            scopes=scopes,
            landing_page=roles[0].landing_page if roles else LandingPage.CUSTOMERS,
            is_superuser=user.is_superuser,
        )
    if getattr(user, "is_authenticated", False):
        user._crm_access = access
    return access


def forget_access(user):
    """Drop the cached access of a user object (after its roles change)."""
    user.__dict__.pop("_crm_access", None)


def subordinate_ids_sql(user):
    """SQL for the ids of everyone below `user` in the manager chain, at any depth."""
    from .models import User

    table = User._meta.db_table
    sql = (
        f'WITH RECURSIVE subs(id) AS ('
        f'SELECT id FROM "{table}" WHERE manager_id = %s '
        f'UNION SELECT u.id FROM "{table}" u JOIN subs ON u.manager_id = subs.id'
        f') SELECT id FROM subs'
    )
    return RawSQL(sql, [user.pk])


def _scope_q(user, scope, rule):
    """The condition one scope adds for a model with owner/team fields."""
    from .models import Team

    own = Q(**{f"{rule.owner}_id": user.pk})
    if scope == Scope.ALL:
        return Q()
    if scope == Scope.OWN:
        return own
    if scope == Scope.OWN_AND_SUBORDINATES:
        return own | Q(**{f"{rule.owner}_id__any_of": subordinate_ids_sql(user)})
    if user.team_id is None:  # team scopes without a team fall back to own records
        return own
    if scope == Scope.TEAM:
        return own | Q(**{f"{rule.team}_id": user.team_id})
    if scope == Scope.TEAM_AND_SUBTEAMS:
        subtree = Team.objects.filter(path__startswith=user.team.path).values("id")
        return own | Q(**{f"{rule.team}_id__any_of": subtree})
    return None


def _user_team_ancestor_ids(user):
    if user.team_id is None:
        return []
    return user.team.ancestor_ids


def _shares_q(user, model, *, write):
    from .models import Share

    ct = ContentType.objects.get_for_model(model)
    recipients = Q(user_id=user.pk)
    team_ids = _user_team_ancestor_ids(user)
    if team_ids:
        recipients |= Q(team_id__in=team_ids)
    shares = Share.objects.active().filter(recipients, content_type=ct)
    if write:
        shares = shares.filter(can_edit=True)
    return Q(pk__any_of=shares.values("object_id"))


def _pool_q(user, model, rule):
    """Unowned rows in a pool one of the user's teams (or an ancestor team) is a member of."""
    team_ids = _user_team_ancestor_ids(user)
    if not team_ids:
        return Q(pk__in=[])
    pool_model = model._meta.get_field(rule.pool).related_model
    pools = pool_model.objects.filter(teams__in=team_ids).values("pk")
    return Q(**{f"{rule.owner}__isnull": True, f"{rule.pool}_id__any_of": pools})


def _rule(model):
    rule = getattr(model, "access_rule", None)
    if rule is None:
        raise TypeError(f"{model.__name__} has no access_rule; it cannot be read through the access layer.")
    return rule


def access_q(user, model, *, write=False):
    """A Q that keeps the rows of `model` that `user` may see (or change, with write=True).
    Returns None when nothing is allowed."""
    rule = _rule(model)
    if rule.parent:
        parent_model = model._meta.get_field(rule.parent).related_model
        parent_q = access_q(user, parent_model, write=write)
        if parent_q is None:
            return None
        return Q(**{f"{rule.parent}__in": parent_model.objects.filter(parent_q).values("pk")})
    access = user_access(user)
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if access.is_superuser:
        return Q()
    conditions = [_scope_q(user, s, rule) for s in sorted(access.scopes.get(rule.module, ())) if s]
    conditions = [c for c in conditions if c is not None]
    if any(len(c) == 0 for c in conditions):  # ALL: no narrowing
        return Q()
    combined = _shares_q(user, model, write=write)
    if rule.pool and not write and conditions:
        combined |= _pool_q(user, model, rule)
    for condition in conditions:
        combined |= condition
    return combined


def _as_queryset(model_or_qs):
    if isinstance(model_or_qs, models.QuerySet):
        return model_or_qs
    if isinstance(model_or_qs, models.Manager):
        return model_or_qs.all()
    return model_or_qs._default_manager.all()


def visible(user, model_or_qs):
    """The rows of a model or queryset that `user` may see."""
    qs = _as_queryset(model_or_qs)
    condition = access_q(user, qs.model)
    return qs.none() if condition is None else qs.filter(condition)


def editable(user, model_or_qs):
    """The rows of a model or queryset that `user` may change."""
    qs = _as_queryset(model_or_qs)
    condition = access_q(user, qs.model, write=True)
    return qs.none() if condition is None else qs.filter(condition)


def can_edit(user, obj):
    return editable(user, type(obj)).filter(pk=obj.pk).exists()


def get_visible_or_404(user, model_or_qs, pk, *, write=False):
    """The row `pk` if `user` may see it, else 404 (never revealing that it exists).
    With write=True a row that is visible but not editable raises PermissionDenied (403)."""
    try:
        obj = visible(user, model_or_qs).get(pk=pk)
    except (ValueError, TypeError):
        raise Http404 from None
    except _as_queryset(model_or_qs).model.DoesNotExist:
        raise Http404 from None
    if write and not can_edit(user, obj):
        raise PermissionDenied
    return obj


__all__ = [
    "AccessRule", "Capability", "Module", "Scope", "UserAccess", "access_q", "can_edit",
    "editable", "forget_access", "get_visible_or_404", "user_access", "visible",
]
