from django.core.management.base import BaseCommand

from crm.scale import seed_scale


class Command(BaseCommand):
    help = ("Generate volume for benchmarks: a large team tree, customers, contacts and follow-ups "
            "(set-based SQL), deals and service tickets. Running it again adds only what is missing.")

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=1_000_000)
        parser.add_argument("--contacts", type=int, default=None, help="in all (default: 2 per customer)")
        parser.add_argument("--followups", type=int, default=None, help="in all (default: 5 per customer)")
        parser.add_argument("--opportunities", type=int, default=500_000, help="sales deals (with stage history)")
        parser.add_argument("--tickets", type=int, default=2_000_000, help="service tickets (5 timeline entries each)")
        parser.add_argument("--regions", type=int, default=10)
        parser.add_argument("--branches", type=int, default=10, help="branches per region")
        parser.add_argument("--reps", type=int, default=10, help="reps per branch")
        index = parser.add_mutually_exclusive_group()
        index.add_argument("--drop-index", dest="drop_index", action="store_true", default=None,
                           help="drop the secondary indexes (search index too) for the load, rebuild after (default: when large)")
        index.add_argument("--keep-index", dest="drop_index", action="store_false")

    def handle(self, *args, customers, contacts, followups, regions, branches, reps, drop_index, opportunities,
               tickets, **options):
        from sales.scale import seed_sales_scale
        from service.scale import seed_service_scale

        result = seed_scale(customers=customers, contacts=contacts, followups=followups, regions=regions,
                            branches=branches, reps=reps, drop_index=drop_index, stdout=self.stdout)
        if not result:
            self.stdout.write(f"Already {customers:,} generated customers; nothing added.")
        sales = seed_sales_scale(opportunities, stdout=self.stdout)
        if not sales:
            self.stdout.write(f"Already {opportunities:,} generated opportunities; nothing added.")
        service = seed_service_scale(tickets, stdout=self.stdout)
        if not service:
            self.stdout.write(f"Already {tickets:,} generated tickets; nothing added.")
        result = {**(result or {}), **sales, **service}
        if not result:
            return
        result["vacuum"] = (None, _vacuum_analyze())
        self.stdout.write(f"{'step':<14}{'rows':>12}{'seconds':>10}{'rows/s':>12}")
        for step, (rows, seconds) in result.items():
            rate = f"{rows / seconds:,.0f}" if rows and seconds else ""
            self.stdout.write(f"{step:<14}{'' if rows is None else f'{rows:,}':>12}{seconds:>10.1f}{rate:>12}")


def _vacuum_analyze():
    """VACUUM (ANALYZE) the database after the bulk load, as after any restore of a large dump: the
    rows' hint bits and the visibility map are set and the statistics made once, here, instead of by
    whichever command first reads the tables (a benchmark's first run) and by autovacuum beside it.
    Returns the seconds it took."""
    import time

    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
    return time.perf_counter() - started
