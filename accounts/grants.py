"""Who may hand a record on: give it to another owner, give it up, lock it, share it.

Reading and changing a record are the access layer's (`accounts.access.visible` / `editable`), and a
share can give both. Handing a record on moves it across those rules, so edit access is not enough.
Two things count here, each one SQL condition like the access layer's:

- *within scope*: the record is inside one of the user's role scopes for its module (their own,
  their reports', their team's, ...), never merely through a share or a pool;
- *owner chain*: the user owns the record, or is above its owner in the manager chain.

A capability (assign, lock) together with "within scope" lets a manager act on the records of their
area; the owner chain lets owners (and their managers) share or give up what is theirs.
"""
from django.db.models import Q

from .access import _as_queryset, _rule, _scope_q, _user_team_ancestor_ids, access_q, subordinate_ids_sql, user_access
from .capabilities import Capability, Scope

__all__ = [
    "assignable", "can", "handable", "lockable", "scope_q", "share_recipients_q", "teams_within_scope",
    "within_scope",
]


def scope_q(user, model):
    """A Q keeping the rows of `model` within `user`'s role scopes (shares and pools do not count);
    an empty Q for every row; None for none."""
    rule = _rule(model)
    if rule.parent:
        raise TypeError(f"{model.__name__} is decided by its {rule.parent}; ask about that record.")
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    access = user_access(user)
    if access.is_superuser:
        return Q()
    conditions = [_scope_q(user, s, rule) for s in sorted(access.scopes.get(rule.module, ())) if s]
    conditions = [c for c in conditions if c is not None]
    if not conditions:
        return None
    if any(len(c) == 0 for c in conditions):  # ALL
        return Q()
    combined = conditions[0]
    for condition in conditions[1:]:
        combined |= condition
    return combined


def _filtered(qs, condition):
    return qs.none() if condition is None else qs.filter(condition)


def within_scope(user, model_or_qs):
    """The rows `user` reaches through their roles alone."""
    qs = _as_queryset(model_or_qs)
    return _filtered(qs, scope_q(user, qs.model))


def _owner_chain_q(user, model):
    rule = _rule(model)
    return Q(**{f"{rule.owner}_id": user.pk}) | Q(**{f"{rule.owner}_id__any_of": subordinate_ids_sql(user)})


def _capability_and_scope(user, qs, capability):
    if not user_access(user).has(capability):
        return qs.none()
    return within_scope(user, qs)


def assignable(user, model_or_qs):
    """The rows `user` may give to another owner: with the assign capability, those within their scope."""
    return _capability_and_scope(user, _as_queryset(model_or_qs), Capability.ASSIGN_FROM_POOL)


def lockable(user, model_or_qs):
    """The rows `user` may lock or unlock: with the lock capability, those within their scope."""
    return _capability_and_scope(user, _as_queryset(model_or_qs), Capability.LOCK_CUSTOMERS)


def handable(user, model_or_qs):
    """The rows `user` may share or give up: those they may assign, and those of their owner chain
    that they may see. A share (even an editable one) never lets its recipient pass the record on."""
    qs = _as_queryset(model_or_qs)
    seen = access_q(user, qs.model)
    if seen is None:
        return qs.none()
    condition = _owner_chain_q(user, qs.model) & seen
    if user_access(user).has(Capability.ASSIGN_FROM_POOL):
        scope = scope_q(user, qs.model)
        if scope is not None and len(scope) == 0:  # ALL: every row (an empty Q would drop out of the OR)
            return qs.all()
        if scope is not None:
            condition |= scope
    return qs.filter(condition)


def can(rows, user, obj):
    """Whether `obj` is among `rows(user, ...)`, e.g. can(handable, user, customer). One query."""
    return rows(user, type(obj)).filter(pk=obj.pk).exists()


def teams_within_scope(user, module):
    """The teams whose records are all within `user`'s scope for `module`: every team for ALL, their
    team and its sub-teams, their team alone, or none (for scopes of own records or reports)."""
    from .models import Team

    scope = user_access(user).scope(module) if user.is_active else Scope.NONE
    if scope == Scope.ALL:
        return Team.objects.all()
    if user.team_id is None or scope < Scope.TEAM:
        return Team.objects.none()
    if scope == Scope.TEAM:
        return Team.objects.filter(pk=user.team_id)
    return Team.objects.filter(path__startswith=user.team.path)


def share_recipients_q(user):
    """A Q on Share for the shares that reach `user`: made to them, or to their team or a team above
    it (as the access layer reads them)."""
    recipients = Q(user_id=user.pk)
    team_ids = _user_team_ancestor_ids(user)
    if team_ids:
        recipients |= Q(team_id__in=team_ids)
    return recipients
