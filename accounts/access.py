"""The access layer: the one way to read business records.

Every queryset of customer data is narrowed here to what a user may see (`visible`) or change
(`editable`). The narrowing is a SQL condition built from the user's roles (one data scope per
module) and the manual shares that reach the user, so lists stay one query at any size.

A model takes part by declaring `access_rule = AccessRule(module=...)`; child records (a contact, a
follow-up) declare `parent=` and are visible exactly when their parent is.
"""
from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.http import Http404

from crm.lib import lookups  # noqa: F401 - registers the `like` and `any_of` lookups

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

    # Comparing rights: who may grant what, and who may manage whom (accounts.services).

    def holds_scope(self, module, scope):
        """Whether a scope of `module` is within what this user holds: some scope they hold
        reaches every record it reaches (see `scope_within`)."""
        if self.is_superuser:
            return True
        return any(scope_within(scope, held) for held in self.scopes.get(module, frozenset()) | {Scope.NONE})

    def holds_role(self, role):
        """Whether every capability and every data scope of `role` is one this user holds."""
        if self.is_superuser:
            return True
        return (set(role.capabilities) <= self.capabilities
                and all(self.holds_scope(m, role.scope_for(m)) for m in Module.values))

    def covers(self, other):
        """Whether this user holds every right of `other` (a UserAccess): a superuser only by a
        superuser, each capability, and each data scope per module."""
        if self.is_superuser:
            return True
        if other.is_superuser or not other.capabilities <= self.capabilities:
            return False
        return all(self.holds_scope(m, s) for m, held in other.scopes.items() for s in held)


# A narrower scope reaches no record a wider one misses, except that subordinates may sit in other
# teams: "own and subordinates" is within "all" only, and the team scopes do not include it.
_WITHIN = {
    Scope.NONE: set(Scope),
    Scope.OWN: {Scope.OWN, Scope.OWN_AND_SUBORDINATES, Scope.TEAM, Scope.TEAM_AND_SUBTEAMS, Scope.ALL},
    Scope.OWN_AND_SUBORDINATES: {Scope.OWN_AND_SUBORDINATES, Scope.ALL},
    Scope.TEAM: {Scope.TEAM, Scope.TEAM_AND_SUBTEAMS, Scope.ALL},
    Scope.TEAM_AND_SUBTEAMS: {Scope.TEAM_AND_SUBTEAMS, Scope.ALL},
    Scope.ALL: {Scope.ALL},
}


def scope_within(scope, held):
    """Whether every record `scope` reaches is reached by `held` too (for the same user)."""
    return held in _WITHIN[Scope(scope)]


def scopes_within(held_access, module):
    """The scopes of `module` a user with `held_access` holds (the ones they may grant)."""
    return [s for s in Scope if held_access.holds_scope(module, s)]


def _access_of(user, roles):
    scopes = {m: frozenset(r.scope_for(m) for r in roles) for m in Module.values}
    return UserAccess(
        capabilities=frozenset(c for r in roles for c in r.capabilities),
        scopes=scopes,
        landing_page=roles[0].landing_page if roles else LandingPage.CUSTOMERS,
        is_superuser=user.is_superuser,
    )


def user_access(user):
    """Capabilities and scopes of `user`, computed once per user object (one query)."""
    cached = getattr(user, "_crm_access", None)
    if cached is not None:
        return cached
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        access = UserAccess()
    else:
        access = _access_of(user, list(user.roles.all()))
    if getattr(user, "is_authenticated", False):
        user._crm_access = access
    return access


def held_rights(user):
    """The rights `user`'s roles (and superuser flag) give, whether or not the account is active
    now: what a deactivated user would get back on reactivation. Uses prefetched roles."""
    return _access_of(user, list(user.roles.all()))


def may_manage(by, user):
    """Whether `by` holds every right `user` holds, so may change `user`'s account (a user holding
    the same rights included, themselves too)."""
    return user_access(by).covers(held_rights(user))


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


@dataclass(frozen=True)
class Grant:
    """One way a user reaches rows of a model: superuser, one data scope of their roles (reading and
    changing alike), the manual shares that reach them (only the editable ones for changing), or a
    customer pool (reading only). `condition(write=...)` is its SQL condition, built when asked;
    None when it gives nothing for that. `access_q` joins them; the access explainer
    (accounts.selectors.access_explain) weighs each against one record, so the two cannot disagree."""

    source: str  # "superuser", "scope", "shares" or "pool"
    build: Callable = field(repr=False, compare=False)
    scope: int | None = None

    def condition(self, *, write=False):
        return self.build(write)


def access_grants(user, model):
    """Every Grant that may let `user` reach rows of `model` (a model with its own owner and team,
    not a child), in the order access_q weighs them: superuser, then each scope, the shares and the
    pool. A deactivated or anonymous user has none."""
    rule = _rule(model)
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    access = user_access(user)
    if access.is_superuser:
        return [Grant("superuser", lambda write: Q())]
    scopes = [Grant("scope", lambda write, s=s: _scope_q(user, s, rule), scope=s)
              for s in sorted(access.scopes.get(rule.module, ())) if s]
    grants = [*scopes, Grant("shares", lambda write: _shares_q(user, model, write=write))]
    if rule.pool and scopes:  # a pool is open to those who work in the module at all
        grants.append(Grant("pool", lambda write: None if write else _pool_q(user, model, rule)))
    return grants


def access_q(user, model, *, write=False):
    """A Q that keeps the rows of `model` that `user` may see (or change, with write=True): the
    conditions of the user's grants (`access_grants`) joined by OR. Returns None when nothing is
    allowed."""
    rule = _rule(model)
    if rule.parent:
        parent_model = model._meta.get_field(rule.parent).related_model
        parent_q = access_q(user, parent_model, write=write)
        if parent_q is None:
            return None
        return Q(**{f"{rule.parent}__in": parent_model.objects.filter(parent_q).values("pk")})
    grants = access_grants(user, model)
    scoped = [g.condition(write=write) for g in grants if g.source in ("superuser", "scope")]
    scoped = [c for c in scoped if c is not None]
    if any(len(c) == 0 for c in scoped):  # superuser or ALL: no narrowing (and no shares to look up)
        return Q()
    others = [g.condition(write=write) for g in grants if g.source not in ("superuser", "scope")]
    conditions = [c for c in others if c is not None] + scoped
    if not conditions:
        return None
    combined = conditions[0]
    for condition in conditions[1:]:
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
    "AccessRule", "Capability", "Grant", "Module", "Scope", "UserAccess", "access_grants", "access_q", "can_edit",
    "editable", "forget_access", "get_visible_or_404", "held_rights", "may_manage", "scope_within", "scopes_within",
    "user_access", "visible",
]
