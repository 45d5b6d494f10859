"""Reads of the customer pool (公海): which pools a person may open, the customers waiting in one,
how many claims are left today, and who a manager may hand customers to. Customer rows are read
through the access layer (`accounts.access.visible`); pools themselves carry no customer data."""

from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL
from django.http import Http404
from django.utils.formats import number_format

from accounts.access import subordinate_ids_sql, user_access, visible
from accounts.capabilities import Capability, Module, Scope
from accounts.models import User
from accounts.selectors import people_choices

from ..lib.paging import COUNT_CAP, capped_count
from ..models import Choice, Customer, Pool, PoolEvent
from .customers import tier_labels
from .myday import today_bounds
from .search import customers_matching_text

__all__ = [
    "COUNT_CAP", "assignable_choices", "assignable_users", "capped_label", "claims_left_today", "member_pool_ids", "picklists_for_settings",
    "pool_customers", "pool_for", "pool_page", "pools_for", "pools_for_settings",
]

PAGE_SIZE = 50


def member_pool_ids(user):
    """Ids of the pools `user` is a member of: their team or an ancestor team is a member team.
    (The same rule that makes a pool's unowned customers visible in `accounts.access`.)"""
    if user.team_id is None or not user_access(user).can_open(Module.CUSTOMERS):
        return []
    return list(Pool.teams.through.objects.filter(team_id__in=user.team.ancestor_ids)
                .values_list("pool_id", flat=True).distinct())


def _sees_all_pools(user):
    access = user_access(user)
    return access.has(Capability.ASSIGN_FROM_POOL) and access.scope(Module.CUSTOMERS) == Scope.ALL


def _waiting_count_sql():
    """A capped count of the live, unowned customers of each pool (uses the partial pool index)."""
    table = Customer._meta.db_table
    return RawSQL(
        f'SELECT count(*) FROM (SELECT 1 FROM "{table}" c WHERE c.pool_id = "{Pool._meta.db_table}"."id" '
        f'AND c.owner_id IS NULL AND c.archived_at IS NULL AND c.merged_into_id IS NULL LIMIT %s) s',
        [COUNT_CAP + 1])


def pools_for(user):
    """The pools `user` may open (member pools; every pool for an ALL-scope holder of
    ASSIGN_FROM_POOL), by name, each with `waiting` (capped at COUNT_CAP + 1) and `is_member`."""
    member_ids = member_pool_ids(user)
    qs = Pool.objects.all() if _sees_all_pools(user) else Pool.objects.filter(pk__in=member_ids)
    return qs.annotate(
        waiting=_waiting_count_sql(),
        is_member=RawSQL(f'"{Pool._meta.db_table}"."id" = ANY(%s)', [member_ids or [0]], output_field=BooleanField()),
    ).order_by("name")


def pool_for(user, pk):
    """One pool `user` may open, or 404 (a pool of other teams does not exist for them)."""
    try:
        return pools_for(user).get(pk=pk)
    except (Pool.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def pool_customers(user, pool, *, term="", tier="", before=None, limit=None):
    """The live, unowned customers of `pool` that `user` may see, newest first: one page of `limit`
    after the id `before` (keyset), with team, industry and source preloaded. Returns (rows, more)."""
    limit = limit or PAGE_SIZE
    qs = _pool_queryset(user, pool, term=term, tier=tier)
    if before:
        qs = qs.filter(pk__lt=before)
    rows = list(qs.select_related("team", "industry", "source").order_by("-pk")[:limit + 1])
    return rows[:limit], len(rows) > limit


def _pool_queryset(user, pool, *, term="", tier=""):
    qs = visible(user, Customer.objects.live().filter(pool=pool, owner__isnull=True))
    qs = customers_matching_text(qs, term or "")
    if tier:
        qs = qs.filter(tier=tier)
    return qs


def capped_label(count, capped=None):
    """A capped count as shown: "37", or "1,000+" past the cap. `count` is either a count of at most
    COUNT_CAP + 1 rows, or the (count, capped) pair of `crm.lib.paging.capped_count`."""
    if capped or count > COUNT_CAP:
        return f"{number_format(COUNT_CAP, force_grouping=True)}+"
    return number_format(count, force_grouping=True)


def claims_left_today(user, pool, now=None):
    """How many more customers `user` may claim from `pool` today (their time zone), or None when
    the pool sets no daily limit."""
    if pool.daily_claim_limit is None:
        return None
    today, _tomorrow = today_bounds(user, now)
    used = PoolEvent.objects.filter(by=user, kind=PoolEvent.Kind.CLAIM, pool=pool, at__gte=today).count()
    return max(pool.daily_claim_limit - used, 0)


def assignable_users(user):
    """Active users `user` may hand customers to: those inside their customers data scope
    (everyone for ALL, their team subtree, their team, their reports, or only themselves)."""
    access = user_access(user)
    scope = access.scope(Module.CUSTOMERS)
    qs = User.objects.filter(is_active=True).select_related("team").order_by("team__path", "username")
    if scope == Scope.ALL:
        return qs
    if scope == Scope.NONE:
        return qs.none()
    own = Q(pk=user.pk)
    if scope == Scope.OWN_AND_SUBORDINATES:
        return qs.filter(own | Q(pk__any_of=subordinate_ids_sql(user)))
    if scope == Scope.OWN or user.team_id is None:
        return qs.filter(own)
    if scope == Scope.TEAM:
        return qs.filter(own | Q(team_id=user.team_id))
    return qs.filter(own | Q(team__path__startswith=user.team.path))


def assignable_choices(user):
    """`assignable_users(user)` for a <select>, grouped by team (see `people_choices`)."""
    return people_choices(assignable_users(user))


def pool_page(user, pool, *, term="", tier="", before=None, tiers=None):
    """Everything the pool page shows, in a fixed number of queries. `tiers`: tier_labels(), if read already."""
    rows, more = pool_customers(user, pool, term=term, tier=tier, before=before)
    tiers = tier_labels() if tiers is None else tiers
    for row in rows:
        row.tier_label = tiers.get(row.tier, row.get_tier_display())
    can_assign = user_access(user).has(Capability.ASSIGN_FROM_POOL)
    return {
        "pool": pool,
        "customers": rows,
        "more": more,
        "next_before": rows[-1].pk if more and rows else None,
        "count": capped_label(*capped_count(_pool_queryset(user, pool, term=term, tier=tier))) if not before else None,
        "can_claim": bool(pool.is_member),
        "claims_left": claims_left_today(user, pool) if pool.is_member else None,
        "can_assign": can_assign,
    }


def picklists_for_settings():
    """Every picklist as [(kind, label, [entries in order])], retired entries included."""
    entries = {}
    for choice in Choice.objects.order_by("kind", "order", "id"):
        entries.setdefault(choice.kind, []).append(choice)
    return [(kind, label, entries.get(kind, [])) for kind, label in Choice.Kind.choices]


def pools_for_settings():
    """Every pool with its member teams and a capped count of the customers waiting in it."""
    return Pool.objects.prefetch_related("teams").annotate(waiting=_waiting_count_sql()).order_by("-is_default", "name")
