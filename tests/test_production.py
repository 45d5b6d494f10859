"""Production as the README documents it: one place decides the settings module and every entry point
(manage.py, celery, wsgi, asgi) follows it; the production settings refuse malformed or missing values;
seed_demo refuses to run there; `.env.example` lists every variable the settings read; the runtime
requirements suffice (nothing the app imports comes from requirements-dev.txt); and the worker and beat,
started with the README's own command lines, run the production settings."""
import ast
import json
import os
import re
import secrets
import shlex
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from crm.settings import use_settings_module

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = "crm.settings.production"
REPORT = ("from django.conf import settings; import json; print(json.dumps({'module': settings.SETTINGS_MODULE, "
          "'debug': settings.DEBUG, 'email': settings.EMAIL_BACKEND, "
          "'static': settings.STORAGES['staticfiles']['BACKEND']}))")


def production_env(**extra):
    """A production-like environment, built from nothing but PATH and the locale: nothing of the test
    run's own (DEBUG, EMAIL_BACKEND, DJANGO_SETTINGS_MODULE=crm.settings.test) leaks in."""
    from django.conf import settings
    from django.db import connection

    db = connection.settings_dict
    env = {
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "LANG": "C.UTF-8",
        "DJANGO_SETTINGS_MODULE": PRODUCTION,
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "crm.example.com",
        "DATABASE_URL": f"postgres://{db['USER']}{':' + db['PASSWORD'] if db.get('PASSWORD') else ''}"
                        f"@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
    }
    env.update(extra)
    return {key: value for key, value in env.items() if value is not None}


def run(args, env, timeout=120):
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


# One place decides the settings module ------------------------------------------------------------


def test_it_takes_the_settings_module_from_the_environment_before_dotenv(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("DJANGO_SETTINGS_MODULE=crm.settings.dev\n")
    environ = {"DJANGO_SETTINGS_MODULE": PRODUCTION}
    assert use_settings_module(dotenv, environ) == PRODUCTION


def test_it_takes_the_settings_module_from_dotenv_when_the_environment_has_none(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("# comment\nSECRET_KEY=x\nexport DJANGO_SETTINGS_MODULE='crm.settings.production'\n")
    environ = {}
    assert use_settings_module(dotenv, environ) == PRODUCTION
    assert environ["DJANGO_SETTINGS_MODULE"] == PRODUCTION


@pytest.mark.parametrize("dotenv_text", [None, "# DJANGO_SETTINGS_MODULE=crm.settings.dev\nDEBUG=true\n"])
def test_it_refuses_to_guess_a_settings_module(tmp_path, dotenv_text):
    dotenv = tmp_path / ".env"
    if dotenv_text is not None:
        dotenv.write_text(dotenv_text)
    with pytest.raises(ImproperlyConfigured, match="DJANGO_SETTINGS_MODULE is not set.*crm.settings.production"):
        use_settings_module(dotenv, {"DJANGO_SETTINGS_MODULE": ""})


ENTRY_POINTS = {
    "manage.py": [sys.executable, "manage.py", "shell", "-c", REPORT],
    "wsgi": [sys.executable, "-c", f"import crm.wsgi; {REPORT}"],
    "asgi": [sys.executable, "-c", f"import crm.asgi; {REPORT}"],
    "celery": [sys.executable, "-c", f"from crm.celery import app; import django; django.setup(); {REPORT}"],
}


@pytest.mark.django_db
@pytest.mark.parametrize("entry_point", ENTRY_POINTS)
def test_every_entry_point_runs_the_settings_module_of_the_environment(entry_point):
    result = run(ENTRY_POINTS[entry_point], production_env())
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {
        "module": PRODUCTION, "debug": False, "email": "django.core.mail.backends.smtp.EmailBackend",
        "static": "whitenoise.storage.CompressedManifestStaticFilesStorage"}


@pytest.mark.django_db
@pytest.mark.parametrize("entry_point", ["manage.py", "celery"])
def test_an_entry_point_without_a_settings_module_stops_and_says_what_to_set(entry_point):
    named = re.findall(r"^\s*(?:export\s+)?DJANGO_SETTINGS_MODULE\s*=\s*['\"]?([\w.]+)", _dotenv(), re.MULTILINE)
    result = run(ENTRY_POINTS[entry_point], production_env(DJANGO_SETTINGS_MODULE=None))
    if named:  # a developer's .env names one: that one, and never another
        assert json.loads(result.stdout.strip().splitlines()[-1])["module"] == named[-1]
    else:
        assert result.returncode != 0
        assert "DJANGO_SETTINGS_MODULE is not set" in result.stderr
        assert "crm.settings.production" in result.stderr


def _dotenv():
    path = ROOT / ".env"
    return path.read_text() if path.is_file() else ""


# Production settings: loud on a malformed or missing value, no default secret ---------------------


@pytest.mark.parametrize("env, message", [
    ({"SECRET_KEY": None}, "Set the SECRET_KEY environment variable"),
    ({"SECRET_KEY": ""}, "SECRET_KEY must be at least 50 characters"),
    ({"ALLOWED_HOSTS": None}, "Set the ALLOWED_HOSTS environment variable"),
    ({"DEBUG": "ture"}, "DEBUG is malformed"),
    ({"SECURE_SSL_REDIRECT": "maybe"}, "SECURE_SSL_REDIRECT is malformed"),
    ({"DB_CONN_MAX_AGE": "5m"}, "DB_CONN_MAX_AGE is malformed"),
    ({"NOTIFY_EMAIL_BACKOFF": "1 min"}, "NOTIFY_EMAIL_BACKOFF is malformed"),
    ({"DATABASE_URL": "127.0.0.1:5432/crm"}, "DATABASE_URL must be a PostgreSQL URL"),
    ({"DATABASE_URL": "postgres://crm:s3cret@db:port/crm"}, "DATABASE_URL is malformed"),
    ({"REDIS_URL": "127.0.0.1:6379"}, "REDIS_URL must be a URL starting with redis://"),
])
@pytest.mark.django_db
def test_production_settings_refuse_to_start_misconfigured(env, message):
    result = run([sys.executable, "-c", "import crm.settings.production"], production_env(**env))
    assert result.returncode != 0
    assert message in result.stderr
    assert "s3cret" not in result.stderr  # a URL's password is never printed


@pytest.mark.django_db
def test_production_settings_start_with_well_formed_values():
    env = production_env(DEBUG="off", SECURE_SSL_REDIRECT="yes", DB_CONN_MAX_AGE="0", REDIS_URL="rediss://r:6380/1")
    result = run([sys.executable, "-c", "import crm.settings.production as s; print(s.DEBUG, s.SECURE_SSL_REDIRECT)"],
                 env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True"]


# seed_demo ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_seed_demo_refuses_to_run_under_production_settings():
    from accounts.models import User

    result = run([sys.executable, "manage.py", "seed_demo"], production_env())
    assert result.returncode != 0
    assert "Refusing to load the demo data under crm.settings.production" in result.stderr
    assert "demo1234" in result.stderr
    assert not User.objects.filter(username="admin").exists()


# .env.example -------------------------------------------------------------------------------------


def settings_variables():
    """Every variable name crm/settings/*.py reads: env("X"), env.<cast>("X", ...), os.environ/getenv."""
    names = set()
    for path in (ROOT / "crm" / "settings").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            first = node.args[0]
            if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
                continue
            func = node.func
            reader = (isinstance(func, ast.Name) and func.id == "env") or (
                isinstance(func, ast.Attribute) and (
                    (isinstance(func.value, ast.Name) and func.value.id == "env")
                    or func.attr == "getenv"
                    or (func.attr == "get" and isinstance(func.value, ast.Attribute) and func.value.attr == "environ")))
            if reader:
                names.add(first.value)
    return names


VARIABLE_LINE = re.compile(r"^#? ?([A-Z][A-Z0-9_]*)=")


def test_env_example_lists_every_variable_the_settings_read_with_a_comment():
    names = settings_variables()
    assert {"SECRET_KEY", "DATABASE_URL", "NOTIFY_SITE_URL", "CRM_IMPORT_MAX_ROWS", "HEALTH_HEARTBEAT_MAX_AGE"} <= names
    names.add("DJANGO_SETTINGS_MODULE")  # read by crm/settings/__init__.py, before any settings module
    lines = (ROOT / ".env.example").read_text().splitlines()
    listed = {match.group(1): index for index, line in enumerate(lines) if (match := VARIABLE_LINE.match(line))}
    assert sorted(names - set(listed)) == []
    assert sorted(name for name in names if not _described(lines, listed[name])) == []


def _described(lines, index):
    """Above the variable, past the variables of its group (which share one comment), a comment that
    is not a section's heading."""
    index -= 1
    while index >= 0 and VARIABLE_LINE.match(lines[index]):
        index -= 1
    return index >= 0 and lines[index].startswith("# ") and not lines[index].startswith("# ---")


# Runtime requirements only -------------------------------------------------------------------------


def _requirement_names(path):
    names = set()
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            names.add(re.split(r"[\[=<>~!; ]", line, maxsplit=1)[0].lower().replace("_", "-"))
    return names


def dev_only_modules():
    """The top-level modules of the packages requirements-dev.txt adds to requirements.txt."""
    from importlib.metadata import packages_distributions

    dev_only = _requirement_names(ROOT / "requirements-dev.txt") - _requirement_names(ROOT / "requirements.txt")
    modules = {module for module, dists in packages_distributions().items()
               if any(dist.lower().replace("_", "-") in dev_only for dist in dists)}
    modules.discard("_virtualenv")
    return dev_only, modules


def test_the_readme_installs_the_runtime_requirements_only_in_production():
    readme = (ROOT / "README.md").read_text()
    production = readme[readme.index("## Production deployment"):readme.index("### Past one machine")]
    assert "pip install -r requirements.txt" in production
    assert "requirements-dev.txt" not in re.search(r"```bash\n(.*?)```", production, re.DOTALL).group(1)


IMPORT_EVERYTHING = """
import importlib, importlib.abc, io, pkgutil, sys
BLOCKED = set(sys.argv[1:])

class DevOnly(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r} (dev-only)", name=name)

sys.meta_path.insert(0, DevOnly())
import crm.wsgi, crm.asgi
from django.core.management import get_commands, load_command_class
from crm.celery import app
app.loader.import_default_modules()
for package in ("accounts", "crm", "sales", "service", "marketing", "reports"):
    for module in pkgutil.walk_packages([package], prefix=package + "."):
        if ".tests" not in module.name and ".migrations" not in module.name:
            importlib.import_module(module.name)
for name, app_name in get_commands().items():
    load_command_class(app_name, name)
from crm.management.commands._import_bench import compare_with_import_export
out = io.StringIO()
assert compare_with_import_export(out, "missing.xlsx", 10, 1000.0) is None
print(out.getvalue())
"""


@pytest.mark.django_db
def test_nothing_the_app_runs_imports_a_development_package():
    dev_only, modules = dev_only_modules()
    assert {"pytest", "playwright", "factory-boy", "honcho", "django-import-export"} <= dev_only
    assert {"pytest", "playwright", "factory", "import_export", "tablib", "honcho"} <= modules
    result = run([sys.executable, "-c", IMPORT_EVERYTHING, *sorted(modules)], production_env())
    assert result.returncode == 0, result.stderr[-3000:]
    # the import benchmark's comparison says it is skipped instead of failing
    assert re.search(r"django-import-export comparison skipped: (import_export|tablib) is not installed", result.stdout)


# The worker and beat, started as the README says ----------------------------------------------------


def readme_command(prefix):
    readme = (ROOT / "README.md").read_text()
    production = readme[readme.index("## Production deployment"):readme.index("### Past one machine")]
    block = re.search(r"```bash\n(.*?)```", production, re.DOTALL).group(1)
    lines = [line.split("#", 1)[0].strip() for line in block.splitlines()]
    (command,) = [line for line in lines if line.startswith(prefix)]
    return shlex.split(command)


def _wait_for_line(log_path, text, process, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        content = log_path.read_text()
        if text in content or process.poll() is not None:
            return content
        time.sleep(0.2)
    return log_path.read_text()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_documented_worker_and_beat_run_the_production_settings(tmp_path):
    from crm.celery import app

    worker_command, beat_command = readme_command("celery -A crm worker"), readme_command("celery -A crm beat")
    assert worker_command == ["celery", "-A", "crm", "worker", "-l", "info"]
    assert beat_command == ["celery", "-A", "crm", "beat", "-l", "info"]
    queue = f"crm-test-prod-{uuid.uuid4().hex[:8]}"
    env = production_env(CELERY_QUEUE=queue)
    expected = ("settings crm.settings.production: DEBUG off, e-mail django.core.mail.backends.smtp.EmailBackend, "
                "static files whitenoise.storage.CompressedManifestStaticFilesStorage")
    processes = []
    try:
        for name, command in (("worker", worker_command), ("beat", beat_command)):
            log_path = tmp_path / f"{name}.log"
            with open(log_path, "w") as log:
                processes.append((name, log_path, subprocess.Popen(
                    command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)))
        for name, log_path, process in processes:
            ready = "Worker ready with " if name == "worker" else "Beat starting with "
            content = _wait_for_line(log_path, ready, process)
            assert ready + expected in content, content[-3000:]
        replies = app.control.ping(destination=[f"celery@{os.uname().nodename}"], timeout=2.0)
        assert replies, "the documented worker does not answer"
    finally:
        for _name, _log_path, process in processes:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
