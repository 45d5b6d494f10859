"""The people of the tests: a small company with the same shape as the demo.

总部 ─┬─ 华东区 ─┬─ 上海分公司   (rep_east, rep_east2; manager_east leads 华东区)
      │          └─ 杭州分公司   (rep_hz)
      └─ 华北区 ─── 北京分公司   (rep_west; manager_west leads 华北区)
director (销售总监, all), admin (系统管理员), it_importer (数据管理员/IT).
"""
import datetime
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import time_machine

from accounts.models import Role
from accounts.seed import seed_roles
from accounts.tests.factories import PASSWORD, TeamFactory, UserFactory
from crm.tests.factories import CustomerFactory


def pytest_addoption(parser):
    parser.addoption(
        "--today", metavar="ISO-DATETIME",
        help="run every test as if it were this moment (e.g. 2027-03-31T23:50+08:00), the clock ticking from "
             "there; tests that pin their own moment keep it. The CI step runs the tests marked `dates` so.")


@pytest.fixture(autouse=True)
def _today(request):
    """With --today, the test runs at that moment. Only Python's clock moves: business dates never come
    from the database's now(), worker processes are left out of these runs, and a test marked
    `db_clock` (it compares the audit trail's database timestamps with Python's) keeps the real time."""
    moment = request.config.getoption("--today")
    if not moment or request.node.get_closest_marker("db_clock"):
        yield None
        return
    with time_machine.travel(datetime.datetime.fromisoformat(moment), tick=True) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language (Chinese): a request or a worker's task of an earlier
    test in this process may have left another language active in the thread."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _tasks_go_to_the_worker_only_when_asked(request):
    """Once a test of this process has started the session's worker (celery_worker_process), the tasks
    later tests queue on commit would run there, in the test database, while pytest empties it: only
    tests that ask for the worker send their tasks to it; the others queue them where no worker reads."""
    if "celery_worker_process" in request.fixturenames:
        yield
        return
    from django.conf import settings

    from crm.celery import app

    before = app.conf.task_default_queue
    app.conf.task_default_queue = settings.CELERY_TASK_DEFAULT_QUEUE
    yield
    app.conf.task_default_queue = before


def _empties_the_database_after(item):
    marker = item.get_closest_marker("django_db")
    return (bool(marker and (marker.kwargs.get("transaction") or marker.kwargs.get("serialized_rollback")))
            or bool({"transactional_db", "live_server"} & set(item.fixturenames)))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """Before a test's committed data is emptied (a TRUNCATE of every table), wait for the work other
    sessions still do in that database: a task the test queued on a worker, a forked helper, a page
    the live server still answers. A TRUNCATE beside them deadlocked."""
    if _empties_the_database_after(item):
        wait_for_other_sessions()
    yield


def wait_for_other_sessions(seconds=30):
    """Wait (at most `seconds`) until no other session of the test database is busy."""
    from django.db import connection

    deadline = time.monotonic() + seconds
    try:
        with connection.cursor() as cursor:
            while time.monotonic() < deadline:
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                               "AND pid <> pg_backend_pid() AND state <> 'idle'")
                if not cursor.fetchone()[0]:
                    return
                time.sleep(0.1)
    except Exception:  # noqa: BLE001 - no database to wait for (the test never reached it)
        return


@pytest.fixture
def roles(db):
    """The seed roles, by name. The data migration creates them; a transactional test before this
    one may have flushed them, so make sure they are there."""
    seed_roles(Role)
    return {role.name: role for role in Role.objects.all()}


@pytest.fixture
def picklists(db):
    """The seeded picklists as {kind: {code: Choice}} (re-created if a transactional test flushed them)."""
    from crm.models import Choice
    from crm.seed import seed_choices

    seed_choices(Choice)
    lists = {}
    for entry in Choice.objects.all():
        lists.setdefault(entry.kind, {})[entry.code] = entry
    return lists


@pytest.fixture
def teams(db):
    hq = TeamFactory(name="总部")
    east = TeamFactory(name="华东区", parent=hq)
    north = TeamFactory(name="华北区", parent=hq)
    return {
        "hq": hq, "east": east, "north": north,
        "shanghai": TeamFactory(name="上海分公司", parent=east),
        "hangzhou": TeamFactory(name="杭州分公司", parent=east),
        "beijing": TeamFactory(name="北京分公司", parent=north),
    }


def _person(username, team, role, manager=None):
    return UserFactory(username=username, team=team, manager=manager, roles=[role])


@pytest.fixture
def director(teams, roles):
    return _person("director", teams["hq"], roles["销售总监"])


@pytest.fixture
def admin(teams, roles):
    return _person("admin", teams["hq"], roles["系统管理员"])


@pytest.fixture
def it_importer(teams, roles):
    return _person("it_importer", teams["hq"], roles["数据管理员/IT"])


@pytest.fixture
def manager_east(teams, roles, director):
    return _person("manager_east", teams["east"], roles["区域经理"], manager=director)


@pytest.fixture
def manager_west(teams, roles, director):
    return _person("manager_west", teams["north"], roles["区域经理"], manager=director)


@pytest.fixture
def rep_east(teams, roles, manager_east):
    return _person("rep_east", teams["shanghai"], roles["销售代表"], manager=manager_east)


@pytest.fixture
def rep_east2(teams, roles, manager_east):
    return _person("rep_east2", teams["shanghai"], roles["销售代表"], manager=manager_east)


@pytest.fixture
def rep_hz(teams, roles, manager_east):
    return _person("rep_hz", teams["hangzhou"], roles["销售代表"], manager=manager_east)


@pytest.fixture
def rep_west(teams, roles, manager_west):
    return _person("rep_west", teams["beijing"], roles["销售代表"], manager=manager_west)


@pytest.fixture
def book(teams, director, manager_east, manager_west, rep_east, rep_east2, rep_hz, rep_west):
    """One customer per corner of the tree, and one in the pool (no owner, no team)."""
    return {
        "c_sh": CustomerFactory(name="上海客户甲", owner=rep_east),
        "c_sh2": CustomerFactory(name="上海客户乙", owner=rep_east2),
        "c_hz": CustomerFactory(name="杭州客户", owner=rep_hz),
        "c_bj": CustomerFactory(name="北京客户", owner=rep_west),
        "c_east": CustomerFactory(name="华东区直属客户", owner=manager_east),
        "c_hq": CustomerFactory(name="总部客户", owner=director),
        "c_pool": CustomerFactory(name="公海客户"),
    }


@pytest.fixture
def person(request, db):
    """person("rep_east") -> that persona, for tests parametrized by persona name. Depends on
    `db` so the test database is in place before the test body asks for anyone."""
    return request.getfixturevalue


@pytest.fixture
def password():
    return PASSWORD


@pytest.fixture
def client_for(client):
    """client_for(user) -> a test client signed in as that user."""

    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


@pytest.fixture
def english_client_for(client_for):
    """Like client_for, with the interface in English (the default is Chinese)."""

    def sign_in(user):
        client = client_for(user)
        client.cookies["django_language"] = "en"
        return client

    return sign_in


def worker_env(queue, **extra):
    """The environment of a test worker: the test database, the real Redis, its own queue."""
    from django.conf import settings
    from django.db import connection

    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "crm.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_QUEUE": queue,
        **extra,
    }
    if db.get("PASSWORD"):
        env["DATABASE_URL"] = env["DATABASE_URL"].replace(f"{db['USER']}@", f"{db['USER']}:{db['PASSWORD']}@")
    return env


def start_worker(queue, env, log):
    """Start a Celery worker process (its own session, so it can be killed as a group) and wait until
    it answers a ping; fail the test with its log if it does not start within a minute."""
    from crm.celery import app

    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "crm", "worker", "-Q", queue, "--pool", "solo",
         "--concurrency", "1", "--without-gossip", "--without-mingle", "-n", f"{queue}@%h", "-l", "info"],
        cwd=Path(__file__).parent, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    deadline = time.monotonic() + 60
    replies = []
    while time.monotonic() < deadline and not replies:
        replies = app.control.ping(destination=[f"{queue}@{os.uname().nodename}"], timeout=1.0)
        if proc.poll() is not None:
            break
    if not replies:
        proc.kill()
        log.seek(0)
        pytest.fail("The Celery worker did not start:\n" + log.read()[-4000:])
    return proc


def stop_workers(workers, log):
    """Stop the worker processes a test started (killing one that hangs), then show the end of their
    log in the test's output (pytest prints it only when the test fails)."""
    for proc in workers:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except Exception:  # noqa: BLE001 - a stuck worker is killed
                proc.kill()
    log.seek(0)
    print(log.read()[-3000:])
    log.close()


def wait_for(check, timeout=60, every=0.2):
    """Poll `check` until it returns something true (returned), or None after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    return None


def paused_in_a_transaction():
    """Whether another session of the test database sits idle inside a transaction (a worker paused
    by a test setting such as NOTIFY_SCAN_PAUSE, ready to be killed there)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                       "AND state = 'idle in transaction' AND pid <> pg_backend_pid()")
        return cursor.fetchone()[0] > 0


@pytest.fixture
def own_queue(tmp_path):
    """A queue of the test's own and a way to start workers on it (start(**env) -> the process; a
    task not acknowledged goes back to the queue after 2 s); stops them afterwards."""
    from crm.celery import app

    queue = f"crm-test-{uuid.uuid4().hex[:8]}"
    previous = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    log = open(tmp_path / "worker.log", "w+")
    workers = []

    def start(**env):
        common = {"CELERY_VISIBILITY_TIMEOUT": "2", "CELERY_UNACKED_RESTORE_INTERVAL": "1"}
        workers.append(start_worker(queue, worker_env(queue, **common, **env), log))
        return workers[-1]

    yield start
    app.conf.task_default_queue = previous
    stop_workers(workers, log)


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker, tmp_path_factory):
    """A real Celery worker in its own process, on the real Redis, using the test database.
    Yields a dict with the queue it consumes and the folder its mail goes to. Tests that use
    it need committed data: mark them `django_db(transaction=True)`."""
    from crm.celery import app

    queue = f"crm-test-{uuid.uuid4().hex[:8]}"
    mail_dir = tmp_path_factory.mktemp("worker-mail")
    env = worker_env(queue, EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
                     EMAIL_FILE_PATH=str(mail_dir))
    log = open(tmp_path_factory.mktemp("worker-log") / "worker.log", "w+")
    proc = start_worker(queue, env, log)
    app.conf.task_default_queue = queue
    yield {"queue": queue, "mail_dir": mail_dir, "process": proc, "log": log}
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


def named_routes():
    """(namespaced name, route pattern) of every named URL, for the access grids."""
    from django.urls import URLPattern, URLResolver, get_resolver

    def walk(resolver, prefix="", namespace=""):
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                yield from walk(entry, prefix + str(entry.pattern), ns)
            elif isinstance(entry, URLPattern) and entry.name:
                yield f"{namespace}{entry.name}", prefix + str(entry.pattern)

    return list(walk(get_resolver()))
