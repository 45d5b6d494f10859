"""Settings shared by every environment. Values come from the environment (django-environ)."""
import os
from pathlib import Path

import environ
import pghistory
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from .env import REDIS_SCHEMES, Env

BASE_DIR = Path(__file__).resolve().parent.parent.parent

# Strict: a variable that is set but does not parse (DEBUG=ture, DB_CONN_MAX_AGE=5m) stops the start.
env = Env()
# A local .env is read if present; real deployments set real environment variables.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("SECRET_KEY", default="")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "pgtrigger",
    "pghistory",
    "pghistory.admin",
    "axes",
    "csp",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_filters",
    "django_htmx",
    "template_partials",
    "django_celery_beat",
    "accounts",
    "crm",
    "sales",
    "service",
    "marketing",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "accounts.middleware.UserLanguageMiddleware",
    "accounts.middleware.UserTimezoneMiddleware",
    # In the user's language; before any view: a NUL byte in a request never reaches the database.
    "crm.lib.inputs.UnstorableInputMiddleware",
    # Outside what may redirect (the forced password change, login_required, views): an htmx
    # request gets HX-Redirect or 401 instead of a page swapped into its fragment.
    "accounts.middleware.HtmxRedirectMiddleware",
    "accounts.middleware.PasswordChangeRequiredMiddleware",
    # After the messages: tells the user when a task waits for the broker (crm/queue.py).
    "crm.lib.queue.QueuedTaskNoticeMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "pghistory.middleware.HistoryMiddleware",
    # AxesMiddleware should be the last middleware.
    "axes.middleware.AxesMiddleware",
]

# The audit tables keep the tracked models' foreign keys as plain columns without indexes: they are
# read by record (pgh_obj) and by context, never by owner, team or industry, and every index is
# written on every audited change (an import writes one event per customer).
PGHISTORY_FOREIGN_KEY_FIELD = pghistory.ForeignKey(db_index=False)
PGHISTORY_OBJ_FIELD = pghistory.ObjForeignKey(db_index=True)
PGHISTORY_CONTEXT_FIELD = pghistory.ContextForeignKey(db_index=True)

ROOT_URLCONF = "crm.urls"
WSGI_APPLICATION = "crm.wsgi.application"
ASGI_APPLICATION = "crm.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.access",
                "crm.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/crm"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# No JIT compilation: the planner's cost estimates of the history queries (a union over every event
# table) cross its threshold, and compiling then took ~280 ms of a 300 ms customer page, for
# queries that run in 20 ms. Short OLTP queries never gain from it.
DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.url_str("REDIS_URL", default="redis://127.0.0.1:6379/0", schemes=REDIS_SCHEMES)

# Fails soft (crm/cache.py): with Redis down a cache read is a miss and a write is skipped, so pages
# still answer; short time-outs, so an unreachable Redis costs a second, not a TCP time-out.
CACHES = {
    "default": {
        "BACKEND": "crm.lib.cache.FailSoftRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="crm"),
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
    }
}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.UsernameOrMobileBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "accounts.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Languages: Chinese first and default; English second.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
# Our overrides of Django's per-language formats (zh_Hans: amounts grouped by thousands).
FORMAT_MODULE_PATH = ["crm.formats"]
USE_TZ = True
TIME_ZONE = "Asia/Shanghai"

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
MEDIA_URL = "media/"

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 12)
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Login throttling (django-axes): lock a username+IP pair after repeated failures.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]

# Content-Security-Policy (django-csp 4): everything is served from our own origin.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# Celery: JSON only, acknowledge after the work is done, one task at a time per process.
CELERY_BROKER_URL = env.url_str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = env.url_str("CELERY_RESULT_BACKEND", default=REDIS_URL)
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_RESULT_EXPIRES = 60 * 60 * 24
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=600)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=660)
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="crm")
# A task taken by a worker that died before acknowledging it goes back to the queue once it has
# been out this many seconds; workers look for such tasks every `unacked_restore_interval` seconds
# (kombu's default throttle would make that every tenth look only).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=60 * 60),
    "unacked_restore_interval": env.int("CELERY_UNACKED_RESTORE_INTERVAL", default=10),
    "unacked_restore_throttle": 1,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {"task": "crm.tasks.worker_heartbeat", "schedule": 30.0},
    # Tasks recorded while the broker was down (crm/queue.py), sent once it answers again.
    "queued-tasks-send": {"task": "crm.tasks.queued_tasks_send", "schedule": 60.0},
    "shares-expire": {"task": "accounts.tasks.shares_expire", "schedule": 15 * 60.0},
    "pool-apply-rules": {"task": "crm.tasks.pool_apply_rules", "schedule": crontab(hour=2, minute=0)},
    "files-expire": {"task": "crm.tasks.files_expire", "schedule": crontab(hour=3, minute=30)},
    # An import's customers get their search rows from a task queued by its commit; should that task
    # be lost, this finds any customer without one (one anti-join).
    "customers-search-repair": {"task": "crm.tasks.customers_search_repair", "schedule": crontab(minute=17)},
    # Hourly, so an instalment turns overdue soon after midnight in every time zone; one UPDATE each time.
    "instalments-mark-overdue": {"task": "sales.tasks.instalments_mark_overdue", "schedule": crontab(minute=5)},
    # Reminders: the rules' scan (set-based), the e-mails due (new and retries), the 08:30 digests.
    "notifications-scan": {"task": "crm.tasks.notifications_scan", "schedule": crontab(minute="*/5")},
    "notification-emails": {"task": "crm.tasks.notification_emails_queue", "schedule": 60.0},
    "notifications-digests": {"task": "crm.tasks.notifications_digests", "schedule": crontab(minute="*/15")},
    # SLA escalation level 3: tickets long past their deadline to their team lead (one UPDATE each time).
    "tickets-escalate": {"task": "service.tasks.tickets_escalate", "schedule": crontab(minute="*/5")},
    # Satisfaction surveys of tickets resolved a while ago: issued in one insert, then mailed.
    "surveys-send": {"task": "service.tasks.surveys_send", "schedule": crontab(minute="*/15")},
}

# /healthz: seconds after which the workers' heartbeat (written every 30 s) counts as stale, i.e. beat
# or every worker is down.
HEALTH_HEARTBEAT_MAX_AGE = env.int("HEALTH_HEARTBEAT_MAX_AGE", default=90)

# Reminders (crm/notifications): the address links in e-mails start with; e-mails per task; the most
# queued per round; seconds a queued e-mail is not queued again; attempts before it counts as failed;
# the pause after the first failure in seconds, doubling each time up to the cap; the digest's local time
# and how many hours later it may still go (a late beat catches up).
NOTIFY_SITE_URL = env.str("NOTIFY_SITE_URL", default="http://127.0.0.1:8000")
NOTIFY_EMAIL_BATCH = env.int("NOTIFY_EMAIL_BATCH", default=50)
NOTIFY_EMAIL_QUEUE_LIMIT = env.int("NOTIFY_EMAIL_QUEUE_LIMIT", default=5000)
NOTIFY_EMAIL_LEASE = env.int("NOTIFY_EMAIL_LEASE", default=600)
NOTIFY_EMAIL_MAX_ATTEMPTS = env.int("NOTIFY_EMAIL_MAX_ATTEMPTS", default=5)
NOTIFY_EMAIL_BACKOFF = env.float("NOTIFY_EMAIL_BACKOFF", default=60)
NOTIFY_EMAIL_BACKOFF_CAP = env.float("NOTIFY_EMAIL_BACKOFF_CAP", default=3600)
NOTIFY_DIGEST_TIME = env.str("NOTIFY_DIGEST_TIME", default="08:30")
NOTIFY_DIGEST_WINDOW = env.int("NOTIFY_DIGEST_WINDOW", default=3)
# Memory a scan statement may use for its hashes and sorts (PostgreSQL's work_mem, for that statement only).
NOTIFY_SCAN_WORK_MEM = env.str("NOTIFY_SCAN_WORK_MEM", default="256MB")
# Days a read or resolved notification is kept (open ones stay).
NOTIFY_KEEP_DAYS = env.int("NOTIFY_KEEP_DAYS", default=90)
# More items of one rule for one person in one scan than this arrive as one reminder (the default of
# every rule's "group_over", which an admin changes per rule under the reminder settings).
NOTIFY_GROUP_OVER = env.int("NOTIFY_GROUP_OVER", default=5)
# Processes one scan spreads its rules over (each with its own database connection).
NOTIFY_SCAN_PROCESSES = env.int("NOTIFY_SCAN_PROCESSES", default=min(2, os.cpu_count() or 1))
# Seconds the scan waits inside the transaction of its second rule: only the crash test sets it.
NOTIFY_SCAN_PAUSE = env.float("NOTIFY_SCAN_PAUSE", default=0)

# Whether `manage.py seed_demo` may load the demo company, whose users all have the known password
# demo1234: never under production settings.
CRM_DEMO_DATA = True

# The seller named on printed quotes (empty: the rep's team).
CRM_COMPANY_NAME = env.str("CRM_COMPANY_NAME", default="")
# The largest deal list exported to .xlsx in one go (more: the user narrows the filters).
CRM_DEAL_EXPORT_LIMIT = env.int("CRM_DEAL_EXPORT_LIMIT", default=50_000)

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="crm@localhost")
EMAIL_FILE_PATH = env.path("EMAIL_FILE_PATH", default=BASE_DIR / ".devdata" / "mail")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # Django's own console handler would print every line a second time next to the root one.
    "loggers": {"django": {"handlers": ["console"], "level": "INFO", "propagate": False}},
}
ADMIN_URL = env.str("ADMIN_URL", default="django-admin/")
AXES_VERBOSE = env.bool("AXES_VERBOSE", default=False)

# Imports of legacy customer lists: the largest file and the most data rows one import takes
# (a sheet holds at most 1,048,576 rows).
CRM_IMPORT_MAX_BYTES = env.int("CRM_IMPORT_MAX_BYTES", default=200 * 2**20)
CRM_IMPORT_MAX_ROWS = env.int("CRM_IMPORT_MAX_ROWS", default=1_048_576)
# Processes that clean the rows of a large import at once (each reads the file and takes every n-th
# chunk of rows); 1 cleans them in the worker's own process.
CRM_IMPORT_PROCESSES = env.int("CRM_IMPORT_PROCESSES", default=min(2, os.cpu_count() or 1))
CRM_IMPORT_PROCESSES_FROM = env.int("CRM_IMPORT_PROCESSES_FROM", default=20_000)  # rows; fewer are cleaned in one
# Days a finished export is kept for download.
CRM_EXPORT_KEEP_DAYS = env.int("CRM_EXPORT_KEEP_DAYS", default=7)
# Days an import's uploaded file and staged rows are kept once it has finished (its record stays).
CRM_IMPORT_KEEP_DAYS = env.int("CRM_IMPORT_KEEP_DAYS", default=30)
# Seconds an import commit waits inside its transaction after writing the customers: only the
# crash test sets it, to kill a worker mid-commit for certain. Never set in production.
CRM_IMPORT_COMMIT_PAUSE = env.float("CRM_IMPORT_COMMIT_PAUSE", default=0)
# Uploads larger than this are streamed to a temporary file instead of held in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 2**20
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 2**20

# The service desk: days after which a resolved ticket no longer reopens (a follow-up ticket is opened
# instead); hours ahead within which an open ticket's next deadline puts it in the "breaching soon" queue.
SERVICE_REOPEN_DAYS = env.int("SERVICE_REOPEN_DAYS", default=7)
SERVICE_BREACHING_SOON_HOURS = env.int("SERVICE_BREACHING_SOON_HOURS", default=4)
# Hours past its deadline after which an open ticket is handed to its team lead (escalation level 3).
SERVICE_REASSIGN_AFTER_HOURS = env.int("SERVICE_REASSIGN_AFTER_HOURS", default=8)
# Seconds the escalation waits inside its transaction after handing tickets on: only the crash test sets it.
SERVICE_ESCALATE_PAUSE = env.float("SERVICE_ESCALATE_PAUSE", default=0)
# Files on tickets: the largest one in bytes, and how many one message may bring.
SERVICE_ATTACHMENT_MAX_BYTES = env.int("SERVICE_ATTACHMENT_MAX_BYTES", default=10 * 2**20)
SERVICE_ATTACHMENTS_PER_MESSAGE = env.int("SERVICE_ATTACHMENTS_PER_MESSAGE", default=5)
# Satisfaction surveys: hours after a ticket is resolved that its survey goes out, days its link stays
# valid, and hours an answer may still be changed.
SERVICE_SURVEY_AFTER_HOURS = env.int("SERVICE_SURVEY_AFTER_HOURS", default=2)
SERVICE_SURVEY_DAYS = env.int("SERVICE_SURVEY_DAYS", default=30)
SERVICE_SURVEY_CHANGE_HOURS = env.int("SERVICE_SURVEY_CHANGE_HOURS", default=24)
# The public service request form (/support/): the fewest seconds between opening the form and sending
# it (a person types; a bot posts at once), and the requests one IP address may send in an hour.
SERVICE_FORM_MIN_SECONDS = env.int("SERVICE_FORM_MIN_SECONDS", default=3)
SERVICE_FORM_PER_IP_HOUR = env.int("SERVICE_FORM_PER_IP_HOUR", default=5)

# The service desk's mailbox (service/services/mail.py). Beat reads it every SERVICE_MAIL_POLL_SECONDS
# over IMAP and turns new mail into tickets and replies; without a host nothing is read (replies still
# go out by e-mail through EMAIL_BACKEND). Security: ssl (IMAPS, port 993), starttls (port 143), or none
# (plain text: only for a server on loopback, as the tests' Dovecot).
SERVICE_MAIL_IMAP_HOST = env.str("SERVICE_MAIL_IMAP_HOST", default="")
SERVICE_MAIL_IMAP_SECURITY = env.str("SERVICE_MAIL_IMAP_SECURITY", default="ssl").lower()
if SERVICE_MAIL_IMAP_SECURITY not in ("ssl", "starttls", "none"):
    raise ImproperlyConfigured("The environment variable SERVICE_MAIL_IMAP_SECURITY must be ssl, starttls or none.")
SERVICE_MAIL_IMAP_PORT = env.int("SERVICE_MAIL_IMAP_PORT", default=993 if SERVICE_MAIL_IMAP_SECURITY == "ssl" else 143)
SERVICE_MAIL_IMAP_USER = env.str("SERVICE_MAIL_IMAP_USER", default="")
SERVICE_MAIL_IMAP_PASSWORD = env.str("SERVICE_MAIL_IMAP_PASSWORD", default="")
SERVICE_MAIL_IMAP_FOLDER = env.str("SERVICE_MAIL_IMAP_FOLDER", default="INBOX")
# Where processed mail is moved; empty: it is marked read and stays in the folder.
SERVICE_MAIL_IMAP_DONE_FOLDER = env.str("SERVICE_MAIL_IMAP_DONE_FOLDER", default="")
SERVICE_MAIL_IMAP_TIMEOUT = env.int("SERVICE_MAIL_IMAP_TIMEOUT", default=30)
SERVICE_MAIL_POLL_SECONDS = env.float("SERVICE_MAIL_POLL_SECONDS", default=60)
# Messages one run reads at most (the rest wait for the next run).
SERVICE_MAIL_BATCH = env.int("SERVICE_MAIL_BATCH", default=50)
# The address replies come from and customers write to (empty: DEFAULT_FROM_EMAIL); mail from it is
# never turned into a ticket (a loop).
SERVICE_MAIL_ADDRESS = env.str("SERVICE_MAIL_ADDRESS", default="")
# The type of tickets opened by e-mail, by name (empty: the first active type that is not a complaint).
SERVICE_MAIL_TICKET_TYPE = env.str("SERVICE_MAIL_TICKET_TYPE", default="")
# The customer (id) whose tickets a sender no customer matches opens; 0: the placeholder customer of
# unmatched requests the web form uses, whose tickets wait in the unassigned queue for triage.
SERVICE_MAIL_UNKNOWN_SENDER_CUSTOMER = env.int("SERVICE_MAIL_UNKNOWN_SENDER_CUSTOMER", default=0)
# Replies mailed to customers: attempts before one is shown as not sent, and the first pause in seconds
# after a failure (doubling each time).
SERVICE_MAIL_SEND_ATTEMPTS = env.int("SERVICE_MAIL_SEND_ATTEMPTS", default=5)
SERVICE_MAIL_SEND_BACKOFF = env.float("SERVICE_MAIL_SEND_BACKOFF", default=60)
# Read the mailbox, and send again the replies whose mail failed and is due once more.
CELERY_BEAT_SCHEDULE["service-mail"] = {"task": "service.tasks.service_mail", "schedule": SERVICE_MAIL_POLL_SECONDS}
