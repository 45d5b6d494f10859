"""Volume for benchmarks: a large organisation and many customers, written with set-based SQL
(one INSERT … SELECT over generate_series per table), never a Python loop of ORM calls per row."""
import pgtrigger
from django.db import connection, transaction

from accounts import services as account_services
from accounts.models import Role, Team, User

from .models import Customer

SCALE_ROOT = "规模测试总部"


def _scale_org(regions, branches, reps):
    """Regions × branches × reps under one root team; returns (root, managers, reps) querysets' ids."""
    root = Team.objects.filter(name=SCALE_ROOT, parent=None).first()
    if root is not None:
        return root
    rep_role = Role.objects.get(name="销售代表")
    manager_role = Role.objects.get(name="区域经理")
    root = account_services.team_create(name=SCALE_ROOT)
    for r in range(regions):
        region = account_services.team_create(name=f"区域{r:02d}", parent=root)
        manager = User.objects.create(username=f"scale_mgr_{r:02d}", display_name=f"区域经理{r:02d}", team=region)
        manager.roles.set([manager_role])
        for b in range(branches):
            branch = account_services.team_create(name=f"分公司{r:02d}-{b:02d}", parent=region)
            users = User.objects.bulk_create([
                User(username=f"scale_rep_{r:02d}_{b:02d}_{i:02d}", display_name=f"销售{r:02d}{b:02d}{i:02d}",
                     team=branch, manager=manager)
                for i in range(reps)
            ])
            User.roles.through.objects.bulk_create([
                User.roles.through(user_id=u.pk, role_id=rep_role.pk) for u in users
            ])
    return root


def seed_scale(*, customers, regions=10, branches=10, reps=10, stdout=None):
    """Make sure the scale organisation exists and holds at least `customers` customers in it.
    Running it again adds only what is missing."""
    root = _scale_org(regions, branches, reps)
    owners = list(User.objects.filter(team__path__startswith=root.path, username__startswith="scale_rep_")
                  .order_by("pk").values_list("pk", "team_id"))
    in_org = Customer.objects.filter(team__path__startswith=root.path).count()
    missing = customers - in_org
    if missing <= 0:
        return 0
    table = Customer._meta.db_table
    with transaction.atomic(), pgtrigger.ignore("crm.Customer:insert_insert"), connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {table} (name, owner_id, team_id, created_at, updated_at)
            SELECT '规模客户' || (%s + g) || '有限公司', o.owner_id, o.team_id,
                   now() - (g %% 1000) * interval '1 hour', now()
            FROM generate_series(1, %s) AS g
            JOIN unnest(%s::bigint[], %s::bigint[]) WITH ORDINALITY AS o(owner_id, team_id, n)
              ON o.n = 1 + ((g::bigint * 7919) %% %s)
            ORDER BY g  -- rows arrive interleaved across owners, as real work does
            """,
            [in_org, missing, [o for o, _t in owners], [t for _o, t in owners], len(owners)],
        )
        cursor.execute(f"ANALYZE {table}")
    return missing
