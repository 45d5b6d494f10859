import time

from django.core.management.base import BaseCommand

from crm.scale import seed_scale


class Command(BaseCommand):
    help = "Generate volume for benchmarks: a large team tree and N customers (set-based SQL)."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=100_000)
        parser.add_argument("--regions", type=int, default=10)
        parser.add_argument("--branches", type=int, default=10, help="branches per region")
        parser.add_argument("--reps", type=int, default=10, help="reps per branch")

    def handle(self, *args, customers, regions, branches, reps, **options):
        started = time.perf_counter()
        added = seed_scale(customers=customers, regions=regions, branches=branches, reps=reps)
        self.stdout.write(f"Added {added} customers in {time.perf_counter() - started:.1f} s.")
