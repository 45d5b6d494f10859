"""The Celery application. Configuration lives in Django settings under the CELERY_ prefix."""
import logging

from celery import Celery, signals

from .settings import use_settings_module

use_settings_module()  # the environment's (or .env's), as manage.py and wsgi decide it

app = Celery("crm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

logger = logging.getLogger(__name__)


def settings_summary():
    """The settings a process runs with, in one line of its start-up log (a worker or beat on the
    development settings by mistake shows at once)."""
    from django.conf import settings

    return (f"settings {settings.SETTINGS_MODULE}: DEBUG {'on' if settings.DEBUG else 'off'}, "
            f"e-mail {settings.EMAIL_BACKEND}, static files {settings.STORAGES['staticfiles']['BACKEND']}")


@signals.worker_ready.connect
def _worker_settings(**kwargs):
    logger.info("Worker ready with %s", settings_summary())


@signals.beat_init.connect
def _beat_settings(**kwargs):
    logger.info("Beat starting with %s", settings_summary())
