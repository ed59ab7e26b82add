"""SecureCloud Console settings: one file, driven by environment variables.

Local runs need nothing set (SQLite next to the code, console email backend).
Production sets at least SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL, SITE_URL and HTTPS=1.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG")
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set SECRET_KEY (or DEBUG=1 for a local run).")
    SECRET_KEY = "insecure-local-development-key-never-use-in-production"

HTTPS = env_bool("HTTPS")
# The public address that emails and installer cards show (securecloud.site.site_url).
# Unset: in DEBUG the address each request came to, else http://127.0.0.1:8000, and
# `check --deploy` warns.
SITE_URL = env_str("SITE_URL").strip()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
if DEBUG:
    ALLOWED_HOSTS += ["testserver"]
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "template_partials",
    "mptt",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    # django-ninja (the admin API): listed so its docs page uses the package's own
    # Swagger UI files instead of a CDN.
    "ninja",
    "bootstrap",
    "django_tasks",
    "django_tasks_db",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "hierarchy",
    "clients",
    "securecloud.branding",
    "securecloud.accounts",
    "securecloud.mail",
    "securecloud.usage",
    "securecloud.events",
    "securecloud.console",
    "securecloud.api",
    "securecloud.demo",
    "securecloud.healthcheck",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "securecloud.api_errors.ApiErrorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Outside the two-factor check, whose redirects it turns into whole-page loads too.
    "securecloud.middleware.HtmxWholePageRedirectMiddleware",
    "securecloud.middleware.SessionRefreshMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "securecloud.accounts.twofactor.TwoFactorMiddleware",
    # After the sign-in and the second factor: a password set by someone else is
    # changed before anything else.
    "securecloud.accounts.password_state.ForcedPasswordChangeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "securecloud.urls"
WSGI_APPLICATION = "securecloud.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                # `can`: what the user's role may do, for templates to hide the rest.
                "securecloud.accounts.context_processors.permissions",
                # `brand`: the reseller's product name, colour, logo and support contact.
                "securecloud.branding.context_processors.brand",
            ],
            "builtins": ["securecloud.console.templatetags.icons"],
        },
    },
]


def sqlite_database(path) -> dict:
    """SQLite with the options the console relies on, however SQLite is chosen (the
    default file, SQLITE_PATH or a sqlite:// DATABASE_URL)."""
    database = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": path,
        "OPTIONS": {
            # django-mptt computes lft/rght from values it read earlier; IMMEDIATE
            # transactions take SQLite's write lock at BEGIN, so tree writes are
            # serialised, and WAL lets readers go on meanwhile.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }
    if str(path) not in ("", ":memory:"):
        # A file, not memory: concurrency tests open several connections.
        path = Path(path)
        database["TEST"] = {"NAME": str(path.with_name("test-" + path.name))}
    return database


def database_from_url(url: str) -> dict:
    database: dict = dict(dj_database_url.parse(url, conn_max_age=60))
    if database["ENGINE"] == "django.db.backends.sqlite3":
        return sqlite_database(database["NAME"])
    database["CONN_HEALTH_CHECKS"] = True
    return database


# Databases. SQLite by default; DATABASE_URL (postgres://user@host:5432/name) for PostgreSQL.
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": database_from_url(DATABASE_URL)}
else:
    DATABASES = {
        "default": sqlite_database(Path(env_str("SQLITE_PATH", str(BASE_DIR / "db.sqlite3"))))
    }
# Cache: local memory, per process, by default. CACHE_URL (redis://host:6379/0) puts it in
# Redis, shared by every server process: the admin API's per-key rate limit counts there,
# and sessions are read from it (written through to the database, so a flushed cache
# signs nobody out).
CACHE_URL = env_str("CACHE_URL").strip()
if CACHE_URL:
    if not CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(
            "CACHE_URL must be a Redis address (redis://host:6379/0, rediss://, unix://)."
        )
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "securecloud"),
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# The agent API prepares its hot statements once per PostgreSQL session (clients.agent_store).
# A pooler in transaction mode (PgBouncer) does not keep sessions: set this to 0 there.
# Then the exports also read without server-side cursors (named cursors outlive the
# transaction that such a pooler lends a server connection for).
DATABASE_PREPARED_STATEMENTS = env_bool("DATABASE_PREPARED_STATEMENTS", True)
if not DATABASE_PREPARED_STATEMENTS:
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses sign-ins of a locked-out username and address.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Console and admin sign-in: 5 failures for one username from one address lock that pair
# out for 15 minutes. A superuser unlocks in the Django admin (Access attempts) or with
# `manage.py axes_reset_username USER`.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "securecloud.http.axes_client_ip"

OTP_TOTP_ISSUER = "SecureCloud Console"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "console-home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
# Usage metering (securecloud.usage): how many days the per-client daily rows are kept;
# the per-customer totals are kept for good. record_usage records no day older than this.
USAGE_CLIENT_DAYS_KEPT = env_int("USAGE_CLIENT_DAYS_KEPT", 100)
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded files (the resellers' logos) go through Django's storage API: the filesystem
# under MEDIA_ROOT by default. Several app servers share one S3-compatible bucket through
# django-storages instead (README: "Several app servers").
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
FILE_STORAGE_BACKEND = env_str(
    "FILE_STORAGE_BACKEND", "django.core.files.storage.FileSystemStorage"
)
FILE_STORAGE_OPTIONS: dict = (
    {
        "bucket_name": env_str("FILE_STORAGE_BUCKET"),
        "endpoint_url": env_str("FILE_STORAGE_ENDPOINT_URL") or None,
        "default_acl": "private",
        "querystring_auth": True,
    }
    if FILE_STORAGE_BACKEND.startswith("storages.")
    else {}
)
STORAGES = {
    "default": {"BACKEND": FILE_STORAGE_BACKEND, "OPTIONS": FILE_STORAGE_OPTIONS},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# Tests and `runserver` without collectstatic: let whitenoise find files through the finders.
WHITENOISE_USE_FINDERS = env_bool("WHITENOISE_USE_FINDERS", True)
WHITENOISE_AUTOREFRESH = DEBUG

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Content-Security-Policy: no inline scripts or styles anywhere (the Django admin included).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Security headers; the TLS ones only under HTTPS=1 so plain-HTTP local runs keep working.
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 60 * 60 * 8)
# Sessions expire after SESSION_COOKIE_AGE of inactivity (securecloud.middleware).
if HTTPS:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
# HSTS preload commits the whole domain (and every subdomain) to HTTPS in browsers'
# built-in lists, which is hard to undo: a decision for the domain's owner, not this app.
# So preload stays off, and only its check (security.W021) is silenced.
SILENCED_SYSTEM_CHECKS = ["security.W021"]

# Email: the console backend by default; SMTP when EMAIL_HOST is set.
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
# EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend writes each message here.
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH") or None
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "SecureCloud <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Background tasks (the django-tasks backport of Django 6's django.tasks). Immediate by
# default; production sets TASKS_BACKEND=database and runs `manage.py db_worker`, or
# TASKS_BACKEND=celery with CELERY_BROKER_URL (RabbitMQ or Redis) and runs
# `celery -A securecloud.broker.worker worker` (and one `... beat`, PERIODIC_TASKS below).
TASKS_BACKEND = env_str("TASKS_BACKEND", "immediate").strip() or "immediate"
TASK_BACKENDS = {
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
    "database": "django_tasks_db.DatabaseBackend",
    "celery": "securecloud.broker.backend.CeleryBackend",
}
if TASKS_BACKEND not in TASK_BACKENDS:
    raise ImproperlyConfigured("TASKS_BACKEND must be one of: " + ", ".join(TASK_BACKENDS) + ".")
TASKS = {"default": {"BACKEND": TASK_BACKENDS[TASKS_BACKEND]}}
# Celery (TASKS_BACKEND=celery): the broker, e.g. amqp://user:pass@host:5672// or
# redis://host:6379/1. A task is acknowledged once it ran, and goes back to the queue when
# its worker dies meanwhile: at-least-once delivery, so every task is idempotent.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL").strip()
if TASKS_BACKEND == "celery" and not CELERY_BROKER_URL:
    raise ImproperlyConfigured(
        "TASKS_BACKEND=celery needs CELERY_BROKER_URL (amqp:// or redis://)."
    )
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "securecloud")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Redis as the broker: a task taken by a worker that died is handed out again after this
# many seconds (RabbitMQ does it as soon as the worker's connection drops). Longer than
# any task runs; shorter than the 15 minutes after which a queued welcome email counts
# as lost.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 600)}
# A deferred task (a webhook's retry, up to 12 hours ahead) waits on the broker in hops of
# at most this many seconds: a worker holds a message with an ETA unacknowledged until
# then, and Redis hands one held past the visibility timeout to another worker (RabbitMQ
# closes the channel of one held past its consumer_timeout, 30 minutes by default). So
# it stays below the visibility timeout, with room for the task's own run: by default 5
# minutes, or half the visibility timeout when that is shorter.
_VISIBILITY_TIMEOUT = CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
CELERY_MAX_ETA = env_int("CELERY_MAX_ETA", min(300, _VISIBILITY_TIMEOUT // 2))
if not 0 < CELERY_MAX_ETA < _VISIBILITY_TIMEOUT:
    raise ImproperlyConfigured(
        "CELERY_MAX_ETA must be more than 0 and less than CELERY_VISIBILITY_TIMEOUT (seconds)."
    )
# Celery beat (`celery -A securecloud.broker.worker beat`, one process) runs the periodic
# tasks, so a Celery deployment needs no cron: {name: (task, cron expression)}, the
# expressions read in TIME_ZONE like cron's. The commands stay, for cron and by hand.
CELERY_TIMEZONE = TIME_ZONE
PERIODIC_TASKS = {
    "run_alerts": (
        "securecloud.events.alert_run.run_alerts_task",
        env_str("RUN_ALERTS_SCHEDULE", "*/5 * * * *"),
    ),
    "record_usage": (
        "securecloud.usage.tasks.record_usage_task",
        env_str("RECORD_USAGE_SCHEDULE", "5 0 * * *"),
    ),
}
for _name, (_path, _expression) in PERIODIC_TASKS.items():
    if len(_expression.split()) != 5:
        raise ImproperlyConfigured(
            f"{_name.upper()}_SCHEDULE must be a cron expression of five fields "
            f"(minute hour day-of-month month day-of-week), e.g. '*/5 * * * *'; "
            f"it is {_expression!r}."
        )

# Webhooks go to public https addresses only; 1 allows internal addresses and plain
# http (an on-premises receiver, tests).
WEBHOOK_ALLOW_PRIVATE = env_bool("WEBHOOK_ALLOW_PRIVATE")

# The agent API's client address comes from REMOTE_ADDR unless a trusted proxy sets
# X-Forwarded-For; set TRUSTED_PROXY_COUNT to the number of proxies in front.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

# The agent connect queue (clients.connect_queue): at most this many password checks at
# once per server process, each connect waiting at most this many seconds for its turn
# before it is refused with 503 and Retry-After. Matters with threaded workers
# (GUNICORN_THREADS); a sync worker checks one password at a time anyway.
AGENT_CONNECT_CONCURRENCY = env_int("AGENT_CONNECT_CONCURRENCY", 1)
AGENT_CONNECT_WAIT_SECONDS = env_int("AGENT_CONNECT_WAIT_SECONDS", 2)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
}

# The admin API: how many requests each API key may make ("<count>/<s|min|hour|day>").
# Counted in Django's cache: per server process with the default local-memory cache,
# shared by every process with CACHE_URL.
ADMIN_API_RATE_LIMIT = env_str("ADMIN_API_RATE_LIMIT", "600/min")
