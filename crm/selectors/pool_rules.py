"""The pool's return rule, written once: which customers go back to their pool, and when. The nightly
return (`crm.services.pool.pool_rules_apply`) moves what `returns_due_sql` finds due now; the
reminder "about to return to the pool" (`crm.reminders.PoolWarning`) reads the same SELECT a few
days ahead. Both see the same pool per team (the nearest pool up the team tree, else the default).
"""
from accounts.models import Team

from ..models import Pool

__all__ = ["POOL_MAP_CTE", "RETURN_KINDS", "pool_by_team", "pool_map_params", "returns_due_sql", "teams_of_pools"]

# kind: (the base time the pool's days count from, the pool's day columns' prefix, extra condition)
RETURN_KINDS = {
    # no follow-up: since the last one, else since it was claimed, else since it was created
    "idle": ("COALESCE(c.last_followup_at, c.claimed_at, c.created_at)", "idle_days", ""),
    # no deal since it was claimed
    "no_deal": ("c.claimed_at", "no_deal_days", "AND c.deal_status = 'none'"),
}

# {team id: pool id} as a table, from pool_map_params().
POOL_MAP_CTE = ("map AS (SELECT * FROM unnest(%(map_teams)s::bigint[], %(map_pools)s::bigint[]) "
                "AS m(team_id, pool_id))")


def pool_by_team(team_paths, memberships, default_id):
    """{team id: pool id} for the given {team id: path}: the pool of the nearest team on the path up."""
    result = {}
    for team_id, path in team_paths.items():
        ancestors = [int(part) for part in path.strip("/").split("/") if part]
        result[team_id] = next((memberships[t] for t in reversed(ancestors) if t in memberships), default_id)
    return result


def memberships():
    """{team id: pool id}; a team that (against the rule) sits in two pools goes with the older one."""
    through = Pool.teams.through
    return dict(through.objects.order_by("-pool_id").values_list("team_id", "pool_id"))


def teams_of_pools(pools):
    """{pool id: ([team ids], includes customers without a team)}: the teams whose nearest pool it is."""
    default_id = next((p.pk for p in pools if p.is_default), None)
    mapping = pool_by_team(dict(Team.objects.values_list("pk", "path")), memberships(), default_id)
    result = {p.pk: ([], p.pk == default_id) for p in pools}
    for team_id, pool_id in mapping.items():
        if pool_id in result:
            result[pool_id][0].append(team_id)
    return result


def pool_map_params():
    """The parameters of POOL_MAP_CTE and of the default pool (customers without a team); three queries."""
    teams, pool_ids, default_pool = [], [], None
    for pool_id, (team_ids, no_team) in teams_of_pools(list(Pool.objects.all())).items():
        teams += team_ids
        pool_ids += [pool_id] * len(team_ids)
        default_pool = pool_id if no_team else default_pool
    return {"map_teams": teams, "map_pools": pool_ids, "default_pool": default_pool}


def returns_due_sql(kind, *, ahead="0"):
    """SELECT of the live owned customers that return to their pool by the rule `kind` once `now`
    (`%(now)s`) is `ahead` days later (SQL: "0" for the nightly return, a parameter for the warning):
    customer_id, customer_name, owner_id, pool_id, pool_name, since, returns_at. Needs POOL_MAP_CTE and pool_map_params().

    A tier's empty number switches that rule off for the tier; the pool's exemptions (won deal,
    locked) apply; archived and merged customers never return."""
    base, column, extra = RETURN_KINDS[kind]
    days = (f"CASE c.tier WHEN 'A' THEN p.{column}_a WHEN 'B' THEN p.{column}_b "
            f"WHEN 'C' THEN p.{column}_c END")
    return f"""
        SELECT c.id AS customer_id, c.name AS customer_name, c.owner_id, p.id AS pool_id, p.name AS pool_name, {base} AS since,
               {base} + make_interval(days => {days}) AS returns_at
        FROM crm_customer c
        LEFT JOIN map ON map.team_id = c.team_id
        JOIN crm_pool p ON p.id = CASE WHEN c.team_id IS NULL THEN %(default_pool)s ELSE map.pool_id END
        WHERE c.owner_id IS NOT NULL AND c.archived_at IS NULL AND c.merged_into_id IS NULL {extra}
          AND (NOT p.exempt_deal OR c.deal_status <> 'won') AND (NOT p.exempt_locked OR NOT c.locked)
          AND {days} IS NOT NULL  -- an empty number switches the rule off (GREATEST would skip a NULL)
          AND {base} + make_interval(days => GREATEST({days} - {ahead}, 0)) < %(now)s"""
