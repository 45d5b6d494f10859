"""A Redis of the test's own, to stop and start (the machine's shared Redis on 6379 is never stopped),
and the Celery app of the test process pointed at it."""
import contextlib
import socket
import subprocess
import time

import pytest
import redis


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class OwnRedis:
    """`redis-server` on a free loopback port, without persistence: stop() and start() it at will."""

    def __init__(self, log_dir):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log_dir = log_dir
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.log_dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(redis.exceptions.ConnectionError):
                if client.ping():
                    return
            time.sleep(0.05)
        pytest.fail(f"redis-server did not start on port {self.port}")

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


def _repoint(app, url, queue):
    """The app's broker and default queue. Its connection pools are kombu's, one per broker, kept
    (closing them would break the next use of the same broker): the app just looks them up again."""
    app._pool = None
    app.amqp._producer_pool = None
    app.conf.broker_url = url
    app.conf.task_default_queue = queue


@contextlib.contextmanager
def broker_at(url, queue):
    """Within the block, this process's Celery app sends to `url`, on `queue`."""
    from crm.celery import app

    previous = (app.conf.broker_url, app.conf.task_default_queue)
    _repoint(app, url, queue)
    try:
        yield app
    finally:
        _repoint(app, *previous)


def queue_length(url, queue):
    """Messages waiting in a queue of a Redis broker (kombu keeps each queue as a list of that name)."""
    return redis.Redis.from_url(url).llen(queue)
