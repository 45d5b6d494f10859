"""Reads of users, teams and roles for the settings area, and the access explainer.

The explainer (`access_explain`) answers "why can this user see this record?". It weighs each of
the access layer's own grants (`access_grants`: superuser, each data scope, the shares, the pool)
against the record in the database, the very conditions `visible()` and `editable()` join, so its
verdict is the access layer's verdict, with the reasons attached.
"""
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.db.models import BooleanField, Case, Count, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.lib.inputs import parse_id

from .access import (
    _rule,
    _user_team_ancestor_ids,
    access_grants,
    held_rights,
    scopes_within,
    user_access,
    visible,
)
from .capabilities import Module, Scope
from .models import Role, Share, Team, User

# Lists -----------------------------------------------------------------------------------------


def settings_overview():
    """The counts on the settings start page, in three queries."""
    users = User.objects.aggregate(total=Count("id"), active=Count("id", filter=Q(is_active=True)))
    return {
        "users_total": users["total"],
        "users_active": users["active"],
        "teams": Team.objects.count(),
        "roles": Role.objects.count(),
    }


def users_for_settings():
    """Every user with team, manager and roles preloaded: a page costs the same at any size."""
    return User.objects.select_related("team", "manager").prefetch_related("roles").order_by("username")


def teams_tree():
    """All teams in tree order (a parent before its children), each with `member_count`,
    `child_count` and the lead preloaded."""
    return (Team.objects.select_related("lead")
            .annotate(member_count=Count("members", distinct=True), child_count=Count("children", distinct=True))
            .order_by("path"))


def people_choices(users=None):
    """The active `users` (a User queryset; default everyone) for a <select>, grouped by team in tree order, as the
    `select_options` tag takes them: [(team name, [(pk, name), ...]), ...]. Plain tuples from one
    query: a 销售总监 picks among a thousand people, and building a model instance for each costs
    more than the page has time for."""
    groups = []
    rows = ((User.objects.all() if users is None else users).filter(is_active=True).order_by("team__path", "username")
            .values_list("pk", "display_name", "username", "team__name"))
    for pk, display_name, username, team_name in rows:
        if not groups or groups[-1][0] != (team_name or ""):
            groups.append((team_name or "", []))
        groups[-1][1].append((pk, display_name or username))  # as User.__str__
    return groups


def team_choices(teams=None):
    """The `teams` (a Team queryset; default every team) for a <select>, in tree order and indented by
    depth, as the one group the `select_options` tag takes: [("", [(pk, name), ...])]."""
    rows = (Team.objects.all() if teams is None else teams).order_by("path").values_list("pk", "name", "path")
    return [("", [(pk, "\u3000" * max(path.count("/") - 2, 0) + name) for pk, name, path in rows])]


def roles_with_counts():
    """All roles, with `user_count`: how many users hold each."""
    return Role.objects.annotate(user_count=Count("users")).order_by("priority", "name")


def roles_grantable_by(user):
    """The roles whose every capability and data scope `user` holds: the ones they may grant,
    change or delete (all of them for a superuser). One SQL condition, no per-role Python."""
    access = user_access(user)
    if access.is_superuser:
        return Role.objects.all()
    return Role.objects.filter(
        capabilities__contained_by=sorted(access.capabilities),
        **{f"{module}_scope__in": scopes_within(access, module) for module in Module.values},
    )


def mark_manageable(viewer, users):
    """Set `manageable` on each of `users` (with roles prefetched): whether `viewer` holds every
    right the user holds, so may change their account (accounts.services)."""
    access = user_access(viewer)
    for person in users:
        person.manageable = access.covers(held_rights(person))
    return users


def customers_matching(term, *, viewer, limit=20):
    """The customer whose id is `term`, else those whose name contains it (at most `limit`),
    for the admin's access check: only customers the admin (`viewer`) may see themselves, so the
    check never reveals a record outside the asker's own scope."""
    from crm.models import Customer

    term = (term or "").strip()
    if not term:
        return []
    customers = visible(viewer, Customer).select_related("owner", "team")
    pk = parse_id(term)  # ASCII digits within bigint: "²" is a name to look for, not an id
    if pk is not None:
        by_id = list(customers.filter(pk=pk))
        if by_id:
            return by_id
    return list(customers.filter(name__icontains=term).order_by("name", "pk")[:limit])


# The access explainer --------------------------------------------------------------------------

@dataclass(frozen=True)
class AccessReason:
    """One thing that was checked: a role's scope, a share, a pool, or a fact about the user.
    `grants_view`/`grants_edit` say what it gives; `text` says why, in the active language."""

    source: str  # "superuser", "inactive", "no_role", "role", "share", "pool" or "no_parent"
    text: str
    grants_view: bool = False
    grants_edit: bool = False
    role: Role | None = None
    scope: int | None = None
    share: Share | None = None


@dataclass(frozen=True)
class AccessExplanation:
    """The answer for one user and one record. `reasons` grant something; `checked` were looked
    at and grant nothing. `decided_by` is the record whose access counts (a child record is
    visible exactly when its parent is)."""

    user: User
    obj: object
    decided_by: object
    module: str
    can_see: bool
    can_edit: bool
    reasons: list = field(default_factory=list)
    checked: list = field(default_factory=list)


def access_explain(*, user, obj):
    """Why `user` may (or may not) see and change `obj`: a structured answer whose can_see and
    can_edit equal `visible(user, ...)` and `editable(user, ...)` for that record, being decided by
    the same grants."""
    decided_by = _deciding_record(obj)
    if decided_by is None:  # a child whose parent is gone is out of everyone's reach
        module, weighed = "", []
        items = [AccessReason("no_parent", _("The record it belongs to is missing."))]
    else:
        rule = _rule(type(decided_by))
        module = rule.module
        weighed = [_weigh(decided_by, grant) for grant in access_grants(user, type(decided_by))]
        items = _explain_user(user) or _explain_grants(user, decided_by, rule, weighed)
    reasons = [r for r in items if r.grants_view]
    return AccessExplanation(
        user=user, obj=obj, decided_by=decided_by, module=module,
        can_see=any(w.sees for w in weighed), can_edit=any(w.edits for w in weighed),
        reasons=reasons, checked=[r for r in items if not r.grants_view],
    )


@dataclass(frozen=True)
class Weighed:
    """One grant of the access layer and whether it reaches the record, for reading and for changing."""

    grant: object
    sees: bool
    edits: bool


def _deciding_record(obj):
    """Follow `parent` rules up to the record that carries owner and team."""
    rule = _rule(type(obj))
    while rule.parent:
        obj = getattr(obj, rule.parent)
        if obj is None:
            return None
        rule = _rule(type(obj))
    return obj


def _explain_user(user):
    """A deactivated user has no grants at all: say so before looking at roles and shares."""
    if not user.is_active:
        return [AccessReason("inactive", _("%(user)s is deactivated: a deactivated user sees nothing.")
                             % {"user": user.name})]
    return []


def _explain_grants(user, obj, rule, weighed):
    by_source = {}
    for entry in weighed:
        by_source.setdefault(entry.grant.source, []).append(entry)
    if "superuser" in by_source:
        return [AccessReason("superuser", _("%(user)s is a superuser: superusers see and change every record.")
                             % {"user": user.name}, grants_view=True, grants_edit=True)]
    scopes = {entry.grant.scope: entry for entry in by_source.get("scope", [])}
    items = _explain_roles(user, obj, rule, scopes)
    for entry in by_source.get("shares", []):
        items += _explain_shares(user, obj, entry)
    return items + _explain_pool(user, obj, rule, (by_source.get("pool") or [None])[0])


def _weigh(obj, grant):
    """Whether `grant` reaches `obj` for reading and for changing: its two conditions, asked of the
    database in one query."""
    def test(condition):
        if condition is None:
            return Value(False)
        if not condition:  # no narrowing at all
            return Value(True)
        return Case(When(condition, then=Value(True)), default=Value(False), output_field=BooleanField())

    row = (type(obj)._default_manager.filter(pk=obj.pk)
           .annotate(sees=test(grant.condition()), edits=test(grant.condition(write=True)))
           .values_list("sees", "edits").first())
    return Weighed(grant, *(row or (False, False)))


def _explain_roles(user, obj, rule, scopes):
    roles = list(user.roles.all())
    if not roles:
        return [AccessReason("no_role", _("%(user)s holds no role.") % {"user": user.name})]
    return [_explain_role(user, obj, rule, role, scopes.get(role.scope_for(rule.module))) for role in roles]


def _explain_role(user, obj, rule, role, weighed):
    scope = Scope(role.scope_for(rule.module))
    facts = _record_facts(user, obj, rule, role, scope)
    if scope == Scope.NONE or weighed is None:
        return AccessReason("role", _("Role %(role)s gives no access to %(module)s.") % facts, role=role, scope=scope)
    # A role's scope gives reading and changing alike; only shares and pools can be read-only.
    granted = weighed.sees
    text = _granted_text(user, obj, rule, scope, facts) if granted else _refused_text(user, scope, facts)
    return AccessReason("role", text, grants_view=granted, grants_edit=weighed.edits, role=role, scope=scope)


def _record_facts(user, obj, rule, role, scope):
    owner = getattr(obj, rule.owner)
    team = getattr(obj, rule.team)
    return {
        "role": role.name, "scope": scope.label, "module": Module(rule.module).label,
        "record": type(obj)._meta.verbose_name,
        "owner": owner.name if owner else _("nobody"), "team": team.name if team else _("none"),
        "user_team": user.team.name if user.team_id else _("none"),
    }


def _granted_text(user, obj, rule, scope, facts):
    prefix = _("Role %(role)s grants “%(scope)s” on %(module)s") % facts
    if scope == Scope.ALL:
        why = _("every record is included.")
    elif getattr(obj, f"{rule.owner}_id") == user.pk:
        why = _("the user owns this %(record)s.") % facts
    elif scope == Scope.OWN_AND_SUBORDINATES:
        why = _("its owner %(owner)s reports to the user, directly or through others.") % facts
    elif scope == Scope.TEAM:
        why = _("the %(record)s's team %(team)s is the user's team.") % facts
    else:
        why = _("the %(record)s's team %(team)s is the user's team %(user_team)s or one of its sub-teams.") % facts
    return _("%(prefix)s: %(why)s") % {"prefix": prefix, "why": why}


def _refused_text(user, scope, facts):
    prefix = _("Role %(role)s grants “%(scope)s” on %(module)s") % facts
    if scope in (Scope.TEAM, Scope.TEAM_AND_SUBTEAMS) and not user.team_id:
        why = _("the user has no team, so only their own records count, and %(owner)s owns this %(record)s.") % facts
    elif scope == Scope.OWN:
        why = _("the %(record)s is owned by %(owner)s, not by the user.") % facts
    elif scope == Scope.OWN_AND_SUBORDINATES:
        why = _("the owner %(owner)s is neither the user nor someone who reports to them.") % facts
    elif scope == Scope.TEAM:
        why = _("the %(record)s's team %(team)s is not the user's team %(user_team)s.") % facts
    else:
        why = _("the %(record)s's team %(team)s is outside the user's team %(user_team)s.") % facts
    return _("%(prefix)s, but it does not reach this record: %(why)s") % {"prefix": prefix, "why": why}


def _explain_shares(user, obj, weighed):
    """Every share of `obj` that reaches the user (directly or through a team above theirs),
    expired ones included as granting nothing."""
    model = type(obj)
    recipients = Q(user_id=user.pk)
    team_ids = _user_team_ancestor_ids(user)
    if team_ids:
        recipients |= Q(team_id__in=team_ids)
    shares = (Share.objects.filter(recipients, content_type=ContentType.objects.get_for_model(model),
                                   object_id=obj.pk)
              .select_related("user", "team", "created_by").order_by("-created_at"))
    # The verdict is the access layer's own share condition (`weighed`); the list says which share.
    return [_explain_share(user, share, weighed.sees, weighed.edits) for share in shares]


def _explain_pool(user, obj, rule, weighed):
    """What the customer pool says, for an unowned record waiting in one: members of the pool's teams
    (and of their sub-teams) see it, read-only, until one of them claims it."""
    if not rule.pool or getattr(obj, f"{rule.owner}_id") is not None:
        return []
    pool = getattr(obj, rule.pool)
    if pool is None:
        return []
    facts = {"pool": pool.name, "module": Module(rule.module).label,
             "user_team": user.team.name if user.team_id else _("none")}
    if weighed is None:  # pools are open only to those with a data scope in the module
        return [AccessReason("pool", _("It waits in the pool %(pool)s, but the user has no data scope on "
                                       "%(module)s, so no pool is open to them.") % facts)]
    if not weighed.sees:
        return [AccessReason("pool", _("It waits in the pool %(pool)s, which is not open to the user's team "
                                       "%(user_team)s or a team above it.") % facts)]
    member = pool.teams.filter(pk__in=_user_team_ancestor_ids(user)).order_by("-path").first()
    facts["team"] = member.name if member else facts["user_team"]
    return [AccessReason("pool", _("It waits in the pool %(pool)s, open to team %(team)s, which includes the "
                                   "user's team %(user_team)s: its members see it (read-only) and may claim it.")
                         % facts, grants_view=True, grants_edit=weighed.edits)]


def _explain_share(user, share, readable, writable):
    active = share.is_active
    facts = {
        "by": share.created_by.name if share.created_by else _("an unknown user"),
        "team": share.team.name if share.team_id else "",
        "user_team": user.team.name if user.team_id else "",
        "mode": _("may edit") if share.can_edit else _("read-only"),
        "until": (_("until %(date)s") % {"date": _local(share.expires_at)}) if share.expires_at else _("no end date"),
    }
    if share.user_id:
        text = _("Shared with the user by %(by)s (%(mode)s, %(until)s).") % facts
    elif share.team_id == user.team_id:
        text = _("Shared with the user's team %(team)s by %(by)s (%(mode)s, %(until)s).") % facts
    else:
        text = _("Shared with team %(team)s, which includes the user's team %(user_team)s, by %(by)s "
                 "(%(mode)s, %(until)s).") % facts
    if not active:
        text = _("%(share)s It has expired.") % {"share": text}
    return AccessReason(
        "share", text, share=share,
        grants_view=active and readable, grants_edit=active and share.can_edit and writable,
    )


def _local(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")
