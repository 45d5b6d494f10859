"""The settings modules: `base` (shared), `dev`, `test`, `production`.

Which one a process runs is decided in one place, `use_settings_module()`, which manage.py, the Celery
app, wsgi and asgi call before anything reads a setting: the DJANGO_SETTINGS_MODULE of the environment,
else the one `.env` names, else a clear error. No entry point has a default of its own, so a worker or a
`manage.py` started on a server cannot quietly run the development settings (console mail, DEBUG on).
"""
import os
import re
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

ENV_FILE = Path(__file__).resolve().parent.parent.parent / ".env"
VARIABLE = "DJANGO_SETTINGS_MODULE"
_LINE = re.compile(rf"^\s*(?:export\s+)?{VARIABLE}\s*=\s*['\"]?([\w.]+)['\"]?\s*$", re.MULTILINE)


def use_settings_module(env_file=ENV_FILE, environ=os.environ):
    """Set DJANGO_SETTINGS_MODULE in `environ` if only `.env` names it, and return it. The environment
    wins over `.env`, as it does for every other variable (crm/settings/base.py). Raises
    ImproperlyConfigured, saying what to set, when neither names one."""
    module = environ.get(VARIABLE, "").strip()
    if not module and Path(env_file).is_file():
        found = _LINE.findall(Path(env_file).read_text(encoding="utf-8"))
        module = found[-1] if found else ""
    if not module:
        raise ImproperlyConfigured(
            f"{VARIABLE} is not set. Set it in the environment or in .env: crm.settings.production on a "
            "server (web, workers, beat and manage.py alike), crm.settings.dev on a developer's machine "
            "(make run and make test set it themselves).")
    environ[VARIABLE] = module
    return module
