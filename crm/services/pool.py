"""Writes of the customer pool (公海): claim, release, assign, the nightly return rules, and the admin
settings for pools and picklists.

Every function checks who may do it, runs in one transaction with an audit context (`audited`), and
moves many customers with one statement per pool, never a loop over rows. Each move also leaves a
`PoolEvent`, which the daily claim limit, the re-claim block and the customer's timeline read.
"""
import datetime

import pghistory
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.db.models import Case, Count, F, ProtectedError, Q, Value, When
from django.db.models.functions import Length
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from accounts.access import user_access, visible
from accounts.capabilities import Capability
from accounts.grants import assignable, handable
from accounts.models import Team, User
from accounts.services import audited

from ..lib.audit import record_inserts, trigger_ignored
from ..models import Choice, Customer, DealStatus, FollowUp, Pool, PoolEvent
from ..selectors.myday import today_bounds
from ..selectors.pool import assignable_users, member_pool_ids
from ..selectors.pool_rules import (
    POOL_MAP_CTE,
    RETURN_KINDS,
    memberships,
    pool_by_team,
    pool_map_params,
    returns_due_sql,
)

__all__ = [
    "RETURN_REASONS", "choice_delete", "choice_move", "choice_save", "pool_assign", "pool_claim", "pool_delete",
    "pool_for_team", "pool_release", "pool_rules_apply", "pool_save",
]

# Stored untranslated on the history context and the pool event; shown translated on the timeline.
RETURN_REASONS = {
    "idle": gettext_noop("Returned to the pool: no follow-up within the pool's time limit"),
    "no_deal": gettext_noop("Returned to the pool: no deal within the pool's time limit after it was claimed"),
}


def _ids(ids):
    """The distinct ids of a request, as ints (a bad id is refused before anything is read)."""
    try:
        return sorted({int(i) for i in ids})
    except (TypeError, ValueError):
        raise ValidationError(_("The selection is not valid."), code="invalid") from None


# Which pool a team belongs to --------------------------------------------------------------------

def pool_for_team(team):
    """The pool whose member teams contain `team` or its nearest ancestor, else the default pool,
    else None. `team` may be None (a customer without a team goes to the default pool)."""
    if team is not None:
        membership = (Pool.teams.through.objects.filter(team_id__in=team.ancestor_ids)
                      .select_related("pool").annotate(depth=Length("team__path"))
                      .order_by("-depth", "pool_id").first())
        if membership is not None:
            return membership.pool
    return Pool.objects.filter(is_default=True).first()


# Claim -----------------------------------------------------------------------------------------

def _claimable(by, ids):
    """The customers of `ids` that `by` may claim, as {id: (name, pool id)}; refuses the request if
    any is not (gone, owned, or in a pool `by` is not a member of), without saying more than it may."""
    rows = {pk: (name, owner_id, pool_id) for pk, name, owner_id, pool_id in
            visible(by, Customer.objects.live()).filter(pk__in=ids).values_list("pk", "name", "owner_id", "pool_id")}
    pools = set(member_pool_ids(by))
    for pk in ids:
        name, owner_id, pool_id = rows.get(pk, (None, None, None))
        if name is not None and owner_id is not None:
            raise ValidationError(_("%(name)s already has an owner.") % {"name": name}, code="taken")
        if name is None or pool_id not in pools:
            raise ValidationError(_("Some of the selected customers are no longer in a pool you belong to."),
                                  code="unavailable")
    return {pk: (name, pool_id) for pk, (name, _owner, pool_id) in rows.items()}


def _check_claim_limits(by, customers, now):
    pools = Pool.objects.in_bulk({pool_id for _name, pool_id in customers.values()})
    wanted = {}
    for _name, pool_id in customers.values():
        wanted[pool_id] = wanted.get(pool_id, 0) + 1
    today, _tomorrow = today_bounds(by, now)
    claimed = {row["pool"]: row["n"] for row in PoolEvent.objects.filter(
        by=by, kind=PoolEvent.Kind.CLAIM, at__gte=today, pool__in=list(pools)).values("pool").annotate(n=Count("pk"))}
    for pool_id, count in wanted.items():
        pool = pools[pool_id]
        left = pool.daily_claim_limit - claimed.get(pool_id, 0) if pool.daily_claim_limit is not None else None
        if left is not None and count > left:
            raise ValidationError(ngettext(
                "You may claim %(left)s more customer from %(pool)s today.",
                "You may claim %(left)s more customers from %(pool)s today.", max(left, 0),
            ) % {"left": max(left, 0), "pool": pool.name}, code="daily_limit")
    _check_owner_cap(by, customers, pools)
    _check_reclaim_block(by, customers, pools, now)


def _check_owner_cap(by, customers, pools):
    capped = [p for p in pools.values() if p.owner_cap is not None]
    if not capped:
        return
    owned = Customer.objects.live().filter(owner=by).aggregate(
        all=Count("pk"), no_deal=Count("pk", filter=~Q(deal_status=DealStatus.WON)))
    incoming = Customer.objects.filter(pk__in=customers).aggregate(
        all=Count("pk"), no_deal=Count("pk", filter=~Q(deal_status=DealStatus.WON)))
    for pool in capped:
        key = "all" if pool.cap_counts_deal else "no_deal"
        if owned[key] + incoming[key] > pool.owner_cap:
            raise ValidationError(
                _("%(pool)s lets a rep own at most %(cap)s customers; you own %(owned)s.")
                % {"pool": pool.name, "cap": pool.owner_cap, "owned": owned[key]}, code="owner_cap")


def _check_reclaim_block(by, customers, pools, now):
    longest = max((p.reclaim_block_days for p in pools.values()), default=0)
    if not longest:
        return
    since = now - datetime.timedelta(days=longest)
    recent = (PoolEvent.objects.filter(customer_id__in=customers, owner=by, at__gte=since,
                                       kind__in=[PoolEvent.Kind.RELEASE, PoolEvent.Kind.RETURN])
              .values_list("customer_id", "at").order_by("at"))
    for customer_id, at in recent:
        name, pool_id = customers[customer_id]
        until = at + datetime.timedelta(days=pools[pool_id].reclaim_block_days)
        if until > now:
            raise ValidationError(
                _("You gave up %(name)s recently; you may claim it again from %(date)s.")
                % {"name": name, "date": date_format(timezone.localtime(until), "SHORT_DATETIME_FORMAT")},
                code="reclaim_block")


def pool_claim(*, ids, by):
    """`by` takes the customers `ids` out of their pools. All or nothing: every id must be an
    unowned customer in a pool `by` is a member of, within each pool's daily limit, owner cap and
    re-claim block. Two people claiming the same customer at once: the second is refused.
    Returns how many were claimed."""
    ids = _ids(ids)
    if not ids:
        raise ValidationError(_("Select at least one customer."), code="empty")
    now = timezone.now()
    with audited(by, "pool_claim"):
        # One claim at a time per person, so two tabs cannot both pass the limits.
        User.objects.select_for_update().filter(pk=by.pk).values_list("pk").first()
        customers = _claimable(by, ids)
        _check_claim_limits(by, customers, now)
        moved = Customer.objects.filter(pk__in=ids, owner__isnull=True, pool__isnull=False).update(
            owner_id=by.pk, team_id=by.team_id, pool_id=None, claimed_at=now, updated_at=now, version=F("version") + 1)
        if moved != len(ids):
            # Someone else claimed one of them since we looked: roll everything back.
            raise ValidationError(_("Someone else claimed one of these customers a moment ago. Nothing was claimed."),
                                  code="claimed_meanwhile")
        PoolEvent.objects.bulk_create([
            PoolEvent(customer_id=pk, pool_id=pool_id, kind=PoolEvent.Kind.CLAIM, owner=by, by=by)
            for pk, (_name, pool_id) in customers.items()])
    return moved


# Release ---------------------------------------------------------------------------------------

def pool_release(*, ids, by, reason=""):
    """`by` gives the customers `ids` up: each goes, without owner, to the pool of its team (or the
    default pool). All or nothing: `by` must be in the owner chain of every one, or hold the assign
    capability with every one within their scope (`accounts.grants.handable`). Returns how many moved."""
    ids = _ids(ids)
    if not ids:
        raise ValidationError(_("Select at least one customer."), code="empty")
    reason = (reason or "").strip()[:200]
    now = timezone.now()
    with audited(by, "pool_release"), pghistory.context(reason=reason):
        # Given up by its owner chain, or by a holder of the assign capability within whose scope it is;
        # never by someone who may only edit it (a share), who could then claim it from their own pool.
        rows = list(handable(by, Customer.objects.live()).filter(pk__in=ids).select_for_update(of=("self",))
                    .values_list("pk", "name", "owner_id", "team_id"))
        if len(rows) != len(ids):
            raise PermissionDenied
        in_pool = [name for _pk, name, owner_id, _team in rows if owner_id is None]
        if in_pool:
            raise ValidationError(_("%(name)s is already in the pool.") % {"name": in_pool[0]}, code="in_pool")
        targets = _pools_for_teams({team_id for *_rest, team_id in rows})
        if None in targets.values():
            raise ValidationError(_("There is no pool to release these customers into. "
                                    "Ask an administrator to set up a default pool."), code="no_pool")
        by_pool = {}
        for pk, _name, _owner, team_id in rows:
            by_pool.setdefault(targets[team_id], []).append(pk)
        for pool_id, pks in by_pool.items():
            Customer.objects.filter(pk__in=pks).update(
                owner_id=None, pool_id=pool_id, claimed_at=None, updated_at=now, version=F("version") + 1)
        PoolEvent.objects.bulk_create([
            PoolEvent(customer_id=pk, pool_id=targets[team_id], kind=PoolEvent.Kind.RELEASE, owner_id=owner_id,
                      by=by, reason=reason)
            for pk, _name, owner_id, team_id in rows])
    return len(rows)


def _pools_for_teams(team_ids):
    """{team id (or None): pool id or None} in three queries, whatever the number of teams."""
    default_id = Pool.objects.filter(is_default=True).values_list("pk", flat=True).first()
    paths = dict(Team.objects.filter(pk__in=[t for t in team_ids if t]).values_list("pk", "path"))
    result = pool_by_team(paths, memberships(), default_id)
    if None in team_ids:
        result[None] = default_id
    return result


# Assign ----------------------------------------------------------------------------------------

def pool_assign(*, ids, owner, by):
    """A manager gives the customers `ids` (in a pool or owned) to `owner`, in `owner`'s team. Needs
    ASSIGN_FROM_POOL; every customer must be one `by` can see (an owned one: within `by`'s own scope,
    not merely shared with them), and `owner` an active user within `by`'s customer scope. All or
    nothing. Returns how many changed hands. The one way a customer's owner and team change by hand."""
    if not user_access(by).has(Capability.ASSIGN_FROM_POOL):
        raise PermissionDenied
    ids = _ids(ids)
    if not ids:
        raise ValidationError(_("Select at least one customer."), code="empty")
    if owner is None or not assignable_users(by).filter(pk=owner.pk).exists():
        raise ValidationError(_("You cannot assign customers to this person."), code="owner")
    now = timezone.now()
    with audited(by, "pool_assign"):
        rows = list(visible(by, Customer.objects.live()).filter(pk__in=ids).select_for_update(of=("self",))
                    .values_list("pk", "owner_id", "pool_id"))
        owned = [pk for pk, owner_id, _pool in rows if owner_id is not None]
        if len(rows) != len(ids) or assignable(by, Customer.objects.filter(pk__in=owned)).count() != len(owned):
            raise PermissionDenied
        changing = [pk for pk, owner_id, _pool in rows if owner_id != owner.pk]
        Customer.objects.filter(pk__in=changing).update(
            owner_id=owner.pk, team_id=owner.team_id, pool_id=None, claimed_at=now, updated_at=now,
            version=F("version") + 1)
        PoolEvent.objects.bulk_create([
            PoolEvent(customer_id=pk, pool_id=pool_id, kind=PoolEvent.Kind.ASSIGN, owner=owner, by=by)
            for pk, owner_id, pool_id in rows if owner_id is None])
    return len(changing)


# The nightly rules -----------------------------------------------------------------------------

_RETURN_SQL = """
WITH {map_cte}, due AS ({due}),
moved AS (
    UPDATE crm_customer c
    SET owner_id = NULL, pool_id = due.pool_id, claimed_at = NULL, updated_at = %(now)s, version = c.version + 1
    FROM due WHERE c.id = due.customer_id AND c.owner_id = due.owner_id
    RETURNING c.id, due.owner_id AS previous_owner, due.pool_id
)
INSERT INTO crm_poolevent (customer_id, pool_id, kind, owner_id, by_id, reason, at)
SELECT id, pool_id, 'return', previous_owner, NULL, %(reason)s, %(now)s FROM moved
RETURNING customer_id
"""


def _return_to_pools(kind, params):
    """Every pool's customers due by the rule `kind` (crm.selectors.pool_rules, the reminders' rule
    too) go back, in one statement. Returns how many."""
    sql = _RETURN_SQL.format(map_cte=POOL_MAP_CTE, due=returns_due_sql(kind))
    # Its own history context per rule, so each customer's timeline carries the reason it came back.
    # The customers' history entries are written in one statement after the move, not by their
    # update trigger row by row: that trigger's exception block walked the statement's queue of
    # foreign-key checks once per row (38,429 customers of one pool: 15.6 s, now 2.4 s).
    with audited(None, "pool_return"), pghistory.context(reason=RETURN_REASONS[kind]), \
            trigger_ignored(Customer, operation="update"), connection.cursor() as cursor:
        cursor.execute(sql, {**params, "reason": RETURN_REASONS[kind]})
        moved = [pk for (pk,) in cursor.fetchall()]
        if moved:
            record_inserts(Customer, "id = ANY(%s)", [moved], cursor, label="update")
        return len(moved)


def pool_rules_apply(now=None):
    """Return to their pool the customers whose owner let them lie: no follow-up for the pool's N days
    of their tier, or no deal N days after the claim. Customers with a deal or locked are spared when
    the pool says so; archived and merged ones are left alone. One statement per rule over every
    pool; running it again at once returns nothing. Returns {"idle": n, "no_deal": n, "total": n}."""
    params = {**pool_map_params(), "now": now or timezone.now()}
    counts = {kind: _return_to_pools(kind, params) for kind in RETURN_KINDS}
    counts["total"] = sum(counts.values())
    return counts


# Settings: picklists ---------------------------------------------------------------------------

def _configure(by):
    if not user_access(by).has(Capability.CONFIGURE_CUSTOMERS):
        raise PermissionDenied


def choice_save(*, by, choice=None, kind, code, label, label_en="", order=100, active=True):
    """Add a picklist entry or change one. The code of an entry never changes (imports and code use
    it); retiring (active=False) hides it from new records and leaves existing ones as they are.
    Tier labels may be renamed and reordered but not added, removed or retired."""
    _configure(by)
    if choice is None:
        if kind == Choice.Kind.TIER:
            raise ValidationError(_("The tiers A, B and C are fixed: you can rename them, not add new ones."),
                                  code="tier")
        choice = Choice(kind=kind, code=code)
    elif choice.kind != kind or choice.code != code:
        raise ValidationError({"code": _("The code of an entry cannot change.")}, code="code")
    if kind == Choice.Kind.TIER and not active:
        raise ValidationError({"active": _("A tier cannot be retired.")}, code="tier")
    choice.label, choice.label_en, choice.order, choice.active = label, label_en, order, active
    with audited(by, "choice_save"):
        choice.full_clean()
        choice.save()
    return choice


def _choice_uses(choice):
    if choice.kind == Choice.Kind.FOLLOWUP_KIND:
        return FollowUp.objects.filter(kind=choice).count()
    if choice.kind in (Choice.Kind.INDUSTRY, Choice.Kind.SOURCE):
        return Customer.objects.filter(**{choice.kind: choice}).count()
    return 0


def choice_delete(*, by, choice):
    """Delete a picklist entry nobody uses yet. One in use is refused: retire it instead."""
    _configure(by)
    if choice.kind == Choice.Kind.TIER:
        raise ValidationError(_("The tiers A, B and C are fixed: you can rename them, not delete them."), code="tier")
    uses = _choice_uses(choice)
    if uses:
        raise ValidationError(ngettext(
            "%(label)s is used by %(n)s record. Retire it instead: it then stays on that record but is not "
            "offered for new ones.",
            "%(label)s is used by %(n)s records. Retire it instead: they keep it, but it is not offered for new ones.",
            uses) % {"label": choice.label, "n": uses}, code="in_use")
    try:
        with audited(by, "choice_delete"):
            choice.delete()
    except ProtectedError:
        raise ValidationError(_("%(label)s is in use. Retire it instead.") % {"label": choice.label},
                              code="in_use") from None


def choice_move(*, by, choice, up):
    """Move an entry one place up or down in its list; renumbers the list in one UPDATE."""
    _configure(by)
    ids = list(Choice.objects.filter(kind=choice.kind).order_by("order", "id").values_list("pk", flat=True))
    at = ids.index(choice.pk)
    other = at - 1 if up else at + 1
    if 0 <= other < len(ids):
        ids[at], ids[other] = ids[other], ids[at]
    with audited(by, "choice_move"):
        Choice.objects.filter(pk__in=ids).update(order=Case(
            *[When(pk=pk, then=Value((n + 1) * 10)) for n, pk in enumerate(ids)]))


# Settings: pools -------------------------------------------------------------------------------

POOL_FIELDS = (
    "name", "is_default", "idle_days_a", "idle_days_b", "idle_days_c", "no_deal_days_a", "no_deal_days_b",
    "no_deal_days_c", "exempt_deal", "exempt_locked", "reclaim_block_days", "daily_claim_limit", "owner_cap",
    "cap_counts_deal",
)


def pool_save(*, by, pool=None, teams=None, **fields):
    """Create or change a pool: its rules and (unless `teams` is None) its member teams. A team
    belongs to one pool at most; making a pool the default takes that role from the previous one."""
    _configure(by)
    unknown = set(fields) - set(POOL_FIELDS)
    if unknown:
        raise TypeError(f"unknown pool fields: {sorted(unknown)}")
    pool = pool or Pool()
    for key, value in fields.items():
        setattr(pool, key, value)
    team_ids = None if teams is None else [t.pk for t in teams]
    if team_ids:
        taken = (Pool.teams.through.objects.filter(team_id__in=team_ids).exclude(pool_id=pool.pk)
                 .select_related("team", "pool").first())
        if taken is not None:
            message = _("%(team)s already belongs to the pool %(pool)s. A team can be in one pool only.")
            raise ValidationError({"teams": message % {"team": taken.team.name, "pool": taken.pool.name}},
                                  code="team_taken")
    with audited(by, "pool_save"):
        if pool.is_default:
            Pool.objects.filter(is_default=True).exclude(pk=pool.pk).update(is_default=False)
        pool.full_clean()
        pool.save()
        if team_ids is not None:
            pool.teams.set(team_ids)
    return pool


def pool_delete(*, by, pool):
    """Delete a pool that holds no customers (archived ones included)."""
    _configure(by)
    held = Customer.objects.filter(pool=pool).count()
    if held:
        raise ValidationError(ngettext(
            "The pool %(pool)s still holds %(n)s customer. Assign or move it first.",
            "The pool %(pool)s still holds %(n)s customers. Assign or move them first.", held,
        ) % {"pool": pool.name, "n": held}, code="not_empty")
    try:
        with audited(by, "pool_delete"):
            pool.delete()
    except ProtectedError:
        raise ValidationError(_("The pool %(pool)s still holds customers.") % {"pool": pool.name},
                              code="not_empty") from None
