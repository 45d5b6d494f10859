"""Settings for the test suite: the real PostgreSQL and Redis, fast password hashing."""
from .base import *  # noqa: F401,F403
from .base import env

DEBUG = False
SECRET_KEY = env("SECRET_KEY", default="test-only-insecure-key")
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.locmem.EmailBackend")
# The mail tests' worker sends through their SMTP server on loopback.
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
ALLOWED_HOSTS = ["*"]
# Keep test keys apart from a developer's running app on the same Redis.
CACHES["default"]["KEY_PREFIX"] = env.str("CACHE_KEY_PREFIX", default="crm-test")  # noqa: F405
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="crm-test")
AXES_FAILURE_LIMIT = 5
# Serve static files straight from static/ (no collectstatic) for the live-server browser tests.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
