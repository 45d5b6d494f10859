"""What the page benchmarks share: a signed-in test client, timed calls and their p95."""
import time

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext


def p95(runs):
    ordered = sorted(runs)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def signed_in_client(user):
    client = Client(HTTP_HOST="localhost", raise_request_exception=False)
    client.force_login(user)
    return client


def timed(call, repeat, warmup):
    """Call `call` `warmup` times, then `repeat` times timed (ms); once more counting its queries.
    Returns (the last response, the times, the queries of the last call)."""
    for _ in range(warmup):
        call()
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        runs.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as captured:
        response = call()
    return response, runs, captured.captured_queries
