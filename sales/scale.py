"""Volume for the sales benchmarks (`manage.py seed_scale --opportunities N`): three pipelines and N
deals over the generated customers, each owned by its customer's owner, with their stage history.
Set-based SQL (one INSERT … SELECT per table), the per-row history trigger skipped; running it again
adds only what is missing.

Most deals are history: about 12% are open (so a pipeline of the default 500,000 holds some 20,000
open deals), 48% won, 30% lost and 10% invalid, closed over the last three years."""
import time
from decimal import Decimal

import pgtrigger
from django.db import connection, transaction

from accounts.models import User
from accounts.services import audited

from . import services
from .models import Opportunity, OpportunityLine, Pipeline, Product, StageKind, StageVisit, Target

PIPELINES = {
    "规模·项目型销售": [("初步接触", 10), ("需求确认", 25), ("方案评审", 40), ("商务谈判", 70)],
    "规模·渠道销售": [("渠道报备", 20), ("方案确认", 50), ("签约准备", 80)],
    "规模·续约": [("续约提醒", 30), ("续约谈判", 70)],
}


def scale_pipelines():
    """The three scale pipelines (created once, by the scale 销售总监), in order."""
    director = User.objects.get(username="scale_director")
    pipelines = []
    for name, stages in PIPELINES.items():
        pipeline = Pipeline.objects.filter(name=name).first()
        if pipeline is None:
            pipeline = services.pipeline_save(by=director, name=name)
            first = pipeline.stages.get(kind=StageKind.OPEN)
            for index, (stage_name, probability) in enumerate(stages):
                services.stage_save(by=director, pipeline=pipeline, stage=first if index == 0 else None,
                                    name=stage_name, probability=probability, stale_after_days=30)
        pipelines.append(pipeline)
    return pipelines


def generated_opportunities():
    return Opportunity.objects.filter(pipeline__name__in=PIPELINES).count()


def seed_sales_scale(opportunities, stdout=None):
    """Add generated deals up to `opportunities`, their line items and the reps' and teams' targets;
    returns {step: (rows, seconds)} for the steps that added rows ({} when nothing was missing)."""
    result = _seed_deals(opportunities)
    added = {}
    with transaction.atomic(), connection.cursor() as cursor:
        # Targets first, their foreign keys checked as their INSERT ends. Their per-row history
        # trigger catches an exception (rolls a subtransaction back) on every call, and each such
        # rollback walks the transaction's whole queue of deferred constraint checks: after the line
        # items, two million foreign-key checks long, which made 24,200 targets take minutes.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        added["targets"] = _insert(cursor, _targets_sql())
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # as Django declares them: checked at COMMIT
        # Generated lines, like the generated deals, without a history event each: the per-row trigger
        # would also rescan the growing queue of deferred checks on every call (quadratic).
        with audited(None, "seed_scale"), pgtrigger.ignore("sales.OpportunityLine:insert_insert"):
            added["line items"] = _insert(cursor, _lines_sql())
    result.update((step, added[step]) for step in ("line items", "targets") if added[step][0])
    if result:
        _vacuum()
    return result


def _insert(cursor, sql):
    """(rows, seconds) of one of the INSERT … SELECTs, run for the scale pipelines."""
    started = time.perf_counter()
    cursor.execute(sql, [list(PIPELINES)])
    return cursor.rowcount, time.perf_counter() - started


def _vacuum():
    """Statistics, and outside a transaction the visibility map too (VACUUM), which the dashboard's
    index-only scans need; the server may run without autovacuum."""
    command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
    with connection.cursor() as cursor:
        for model in (Opportunity, StageVisit, OpportunityLine, Target):
            cursor.execute(f"{command} {model._meta.db_table}")


def _seed_deals(opportunities):
    have = generated_opportunities()
    if have >= opportunities:
        return {}
    pipelines = scale_pipelines()
    # Per pipeline: its open stages in order and its won / lost / invalid stage.
    shapes = []
    for pipeline in pipelines:
        stages = list(pipeline.stages.order_by("order", "id"))
        shapes.append(([s.pk for s in stages if s.kind == StageKind.OPEN],
                       {s.kind: s.pk for s in stages if s.kind != StageKind.OPEN}))
    result = {}
    with transaction.atomic(), audited(None, "seed_scale"), \
            pgtrigger.ignore("sales.Opportunity:insert_insert", "sales.OpportunityLine:insert_insert"):
        with connection.cursor() as cursor:
            started = time.perf_counter()
            cursor.execute(_opportunity_sql(shapes), [have + 1, opportunities])
            result["opportunities"] = (cursor.rowcount, time.perf_counter() - started)
            started = time.perf_counter()
            cursor.execute(_visit_sql(shapes), [_first_new_id(cursor, have)])
            result["stage visits"] = (cursor.rowcount, time.perf_counter() - started)
    return result


def scale_products():
    """The generated catalogue: SCALE-001 … SCALE-020 (created once)."""
    existing = set(Product.objects.filter(code__startswith="SCALE-").values_list("code", flat=True))
    Product.objects.bulk_create([
        Product(code=f"SCALE-{n:03d}", name=f"规模产品{n}", unit="套", list_price=Decimal(1000 * n))
        for n in range(1, 21) if f"SCALE-{n:03d}" not in existing])
    return list(Product.objects.filter(code__startswith="SCALE-").order_by("code").values_list("pk", flat=True))


def _lines_sql():
    """One to three catalogue lines for each generated deal that has none, adding up to its amount.

    The deals without lines are found once, before the insert (EXCEPT reads the lines once): a NOT EXISTS
    against the table being filled, planned while it was empty, ran as a nested loop that scanned every
    line inserted so far again for each deal (half an hour for 500,000 deals)."""
    products = scale_products()
    return f"""
        WITH todo AS MATERIALIZED (
            SELECT o.id FROM {Opportunity._meta.db_table} o
            JOIN sales_pipeline p ON p.id = o.pipeline_id AND p.name = ANY(%s)
            EXCEPT
            SELECT opportunity_id FROM {OpportunityLine._meta.db_table}
        )
        INSERT INTO {OpportunityLine._meta.db_table} (opportunity_id, product_id, description, quantity,
            list_price, unit_price, discount_percent, "order")
        SELECT o.id, (ARRAY{products}::bigint[])[1 + abs(hashtext('prod' || o.id || k)) %% {len(products)}], '', 1,
            price, price, 0, k * 10
        FROM todo
        JOIN {Opportunity._meta.db_table} o ON o.id = todo.id
        CROSS JOIN LATERAL (SELECT 1 + abs(hashtext('lines' || o.id)) %% 3 AS n) c
        CROSS JOIN LATERAL generate_series(1, c.n) k
        CROSS JOIN LATERAL (SELECT CASE WHEN k < c.n THEN trunc(o.amount / c.n, 2)
                                        ELSE o.amount - trunc(o.amount / c.n, 2) * (c.n - 1) END AS price) v
        ORDER BY o.id, k"""


def _targets_sql():
    """Monthly and quarterly targets, for the last year and the next quarter, for every owner of a
    generated deal and every team that holds such deals (those already set are left alone).

    No plan of it is quadratic, whatever the statistics (none yet here; autovacuum may be off): the
    subjects are computed once, and the targets already set are taken away with EXCEPT, which reads
    sales_target once and treats NULLs as equal. (A NOT EXISTS … IS NOT DISTINCT FROM cannot hash and,
    with sales_target analysed while empty, ran as a nested loop scanning sales_target again for every
    candidate row, the rows the statement itself inserts included.)"""
    return f"""
        WITH periods AS (
            SELECT 'month' AS period, (date_trunc('month', current_date) - make_interval(months => m))::date AS starts_on
            FROM generate_series(-3, 12) m
            UNION ALL
            SELECT 'quarter', (date_trunc('quarter', current_date) - make_interval(months => 3 * q))::date
            FROM generate_series(-1, 4) q
        ), subjects AS MATERIALIZED (
            SELECT DISTINCT o.owner_id AS user_id, NULL::bigint AS team_id FROM {Opportunity._meta.db_table} o
            JOIN sales_pipeline p ON p.id = o.pipeline_id AND p.name = ANY(%s) WHERE o.owner_id IS NOT NULL
            UNION ALL
            SELECT NULL, t.id FROM accounts_team t
            JOIN (SELECT DISTINCT team_id FROM {Opportunity._meta.db_table} WHERE team_id IS NOT NULL) o
                ON o.team_id = t.id
        ), missing AS (
            SELECT p.period, p.starts_on, s.user_id, s.team_id FROM periods p CROSS JOIN subjects s
            EXCEPT
            SELECT period, starts_on, user_id, team_id FROM {Target._meta.db_table}
        )
        INSERT INTO {Target._meta.db_table} (period, starts_on, user_id, team_id, amount, count, updated_at)
        SELECT m.period, m.starts_on, m.user_id, m.team_id,
            CASE WHEN m.user_id IS NOT NULL THEN 300000 ELSE 3000000 END * CASE m.period WHEN 'quarter' THEN 3 ELSE 1 END,
            CASE WHEN m.user_id IS NOT NULL THEN 2 ELSE 20 END * CASE m.period WHEN 'quarter' THEN 3 ELSE 1 END,
            now()
        FROM missing m
        ORDER BY m.user_id, m.team_id, m.starts_on, m.period"""


def _first_new_id(cursor, have):
    cursor.execute(f"SELECT COALESCE(min(id), 0) FROM (SELECT id FROM {Opportunity._meta.db_table} o "
                   "WHERE NOT EXISTS (SELECT 1 FROM sales_stagevisit v WHERE v.opportunity_id = o.id)) s")
    return cursor.fetchone()[0]


def _opportunity_sql(shapes):
    """Deal g (the g-th generated one) belongs to pipeline g % 3, to the g-th generated customer (by
    position, wrapping), and is open in a stage, won, lost or invalid by a hash of g."""
    pipeline_case = " ".join(f"WHEN {i} THEN {shape_pipeline}" for i, shape_pipeline in enumerate(
        _pipeline_ids(shapes)))
    open_arrays = " ".join(f"WHEN {i} THEN ARRAY{open_ids}::bigint[]" for i, (open_ids, _c) in enumerate(shapes))
    closed = {kind: " ".join(f"WHEN {i} THEN {closed_ids[kind]}" for i, (_o, closed_ids) in enumerate(shapes))
              for kind in (StageKind.WON, StageKind.LOST, StageKind.INVALID)}
    sql = f"""
        WITH customers AS MATERIALIZED (
            SELECT id, owner_id, team_id, row_number() OVER (ORDER BY id) AS n
            FROM crm_customer WHERE owner_id IS NOT NULL AND merged_into_id IS NULL
        ), total AS MATERIALIZED (SELECT count(*) AS n FROM customers),
        deals AS (
            SELECT g, g % 3 AS p, abs(hashtext('deal' || g)::bigint) % 100 AS fate,
                abs(hashtext('day' || g)::bigint) % 1095 AS age, 1 + (g::bigint * 7919) % (SELECT n FROM total) AS n
            FROM generate_series({{FIRST}}, {{LAST}}) g
        ), placed AS (
            SELECT d.*, c.id AS customer_id, c.owner_id, c.team_id,
                CASE d.p {pipeline_case} END AS pipeline_id,
                CASE WHEN d.fate < 12 THEN (CASE d.p {open_arrays} END)[1 + (d.fate % 4) %
                        array_length(CASE d.p {open_arrays} END, 1)]
                     WHEN d.fate < 60 THEN CASE d.p {closed[StageKind.WON]} END
                     WHEN d.fate < 90 THEN CASE d.p {closed[StageKind.LOST]} END
                     ELSE CASE d.p {closed[StageKind.INVALID]} END END AS stage_id
            FROM deals d JOIN customers c ON c.n = d.n
        )
        INSERT INTO {Opportunity._meta.db_table} (customer_id, name, pipeline_id, stage_id, amount, currency,
            expected_close, probability, probability_reason, owner_id, team_id, next_step, stage_entered_at,
            closed_at, created_at, updated_at, version, lost_reason_id)
        SELECT p.customer_id, '规模商机' || p.g, p.pipeline_id, p.stage_id,
            (10000 + abs(hashtext('amt' || p.g)::bigint) % 990000)::numeric(14, 2), 'CNY',
            current_date + (abs(hashtext('close' || p.g)::bigint) % 180 - 30)::int, s.probability, '', p.owner_id, p.team_id, '',
            now() - make_interval(days => (p.age % 60)::int),
            CASE WHEN s.kind <> 'open' THEN now() - make_interval(days => p.age::int) END,
            now() - make_interval(days => (p.age + 20)::int), now(), 1,
            CASE WHEN s.kind = 'lost' THEN (SELECT id FROM crm_choice WHERE kind = 'lost_reason' ORDER BY id
                                            LIMIT 1) END
        FROM placed p JOIN sales_stage s ON s.id = p.stage_id
        ORDER BY p.g"""
    # The modulo signs doubled: pgtrigger.ignore() runs the statement with a parameter of its own.
    return sql.replace("%", "%%").replace("{FIRST}", "%s").replace("{LAST}", "%s")


def _pipeline_ids(shapes):
    ids = []
    for open_ids, _closed in shapes:
        ids.append(f"(SELECT pipeline_id FROM sales_stage WHERE id = {open_ids[0]})")
    return ids


def _visit_sql(shapes):
    """A visit per open stage a deal passed (up to its own), then its closed stage: entered a few days
    apart, the last one open while the deal is."""
    return f"""
        INSERT INTO {StageVisit._meta.db_table} (opportunity_id, stage_id, entered_at, left_at, moved_by_id)
        SELECT o.id, s.id,
            o.created_at + make_interval(days => (s.rank * 3)::int),
            CASE WHEN s.id = o.stage_id THEN NULL ELSE o.created_at + make_interval(days => (s.rank * 3 + 3)::int) END,
            o.owner_id
        FROM {Opportunity._meta.db_table} o
        JOIN LATERAL (
            SELECT st.id, row_number() OVER (ORDER BY st."order", st.id) - 1 AS rank
            FROM sales_stage st
            WHERE st.pipeline_id = o.pipeline_id
              AND (st.id = o.stage_id OR (st.kind = 'open' AND st."order" <=
                   (SELECT cur."order" FROM sales_stage cur WHERE cur.id = o.stage_id)))
        ) s ON true
        WHERE o.id >= %s"""
