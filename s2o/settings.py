"""S2O settings: one module, configured by environment variables.

Without any variable set this is the *embedded mode*: SQLite, a filesystem Celery broker that
needs no server, e-mail to the console, uploads on the local disk. Production sets DEBUG=0,
SECRET_KEY, DATABASE_URL and REDIS_URL (see .env.example); it refuses to start with a weak secret.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    """An empty value counts as unset (`VAR=` lines in .env files), so it falls back to the default."""
    return os.environ.get(name, "").strip() or default


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use 1/0, true/false, yes/no, on/off).")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer.") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


# The DEBUG variable chooses the mode: 1 (the default) is development, with the embedded defaults
# (an insecure key allowed, console e-mail, no HTTPS); 0 is production. Django's own debug pages
# (tracebacks, the list of URL patterns on a 404) are off in both modes, so people see the product's
# own 404 and 500 pages; a developer who wants the tracebacks in the browser sets S2O_DEBUG_PAGES=1.
DEVELOPMENT = env_bool("DEBUG", True)
DEBUG = env_bool("S2O_DEBUG_PAGES", False)
if DEBUG and not DEVELOPMENT:
    raise ImproperlyConfigured("S2O_DEBUG_PAGES=1 shows tracebacks and settings to anyone: never with DEBUG=0.")
VAR_DIR = Path(env_str("S2O_VAR_DIR", str(BASE_DIR / "var")))

_INSECURE_KEY = "django-insecure-embedded-mode-only-never-in-production"
SECRET_KEY = env_str("SECRET_KEY") or (_INSECURE_KEY if DEVELOPMENT else "")
if not DEVELOPMENT and (len(SECRET_KEY) < 50 or SECRET_KEY.startswith("django-insecure")):
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a random value of at least 50 characters when DEBUG is off "
        "(python -c 'import secrets; print(secrets.token_urlsafe(64))')."
    )
# Old keys still accepted for sessions and signed tokens during a rotation.
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS", [])

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"] if DEVELOPMENT else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_filters",
    "simple_history",
    "axes",
    "rules",
    "rest_framework",
    "drf_spectacular",
    "anymail",
    "import_export",
    "requests_app",
    "analysis",
    "integrations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After whitenoise (static files come pre-compressed from collectstatic) and before everything
    # that writes the body. Django's GZip adds random bytes to each response against BREACH.
    "django.middleware.gzip.GZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "requests_app.middleware.UserTimezoneMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "s2o.urls"
WSGI_APPLICATION = "s2o.wsgi.application"
ASGI_APPLICATION = "s2o.asgi.application"

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
                "requests_app.context_processors.navigation",
            ],
        },
    },
]

# Database: SQLite in embedded mode; DATABASE_URL (PostgreSQL) in production and CI.
# Persistent connections with health checks: a new PostgreSQL connection costs ~4 ms and
# cut throughput from ~1,650 to ~240 req/s in our measurements (shared/PERFORMANCE.md).
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 's2o.sqlite3'}")
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        conn_max_age=env_int("CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
IS_POSTGRES = DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Login lock-out (django-axes): the axes backend runs first and refuses a locked-out username from
# that address *before* any password is hashed (hashing costs ~0.5 s here: RELIABILITY.md).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "rules.permissions.ObjectPermissionBackend",
    # Django's ModelBackend, loading the user with their roles, profile and unread count in one
    # query. It replaces ModelBackend rather than sitting beside it: two password backends would
    # hash every failed login twice. Sessions made before it (naming ModelBackend) sign in again once.
    "requests_app.auth.PageUserBackend",
]
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
# How many proxies in front of the app append to X-Forwarded-For (docker-compose: the TLS proxy, 1).
# 0 trusts no header: every address is REMOTE_ADDR. Never set it higher than the real number of
# proxies, or a client can choose its own address and dodge the lock-out.
S2O_TRUSTED_PROXIES = env_int("S2O_TRUSTED_PROXIES", 0)
AXES_CLIENT_IP_CALLABLE = "s2o.client_ip.client_ip"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "Europe/Berlin")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
NODE_MODULES = BASE_DIR / "node_modules"
# Front-end packages come from npm (package-lock.json) and are served by whitenoise: no CDN. Only the
# files the pages use are collected (s2o/staticfinders.py lists them).
STATICFILES_DIRS = [BASE_DIR / "static"]
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "s2o.staticfinders.NpmFinder",
    "s2o.staticfinders.SidecarFinder",
]
# Static files get content-hashed names and gzip + brotli copies at collectstatic time, in every
# mode (`dev.py up` and the image run collectstatic); whitenoise serves them, hashed names with a
# one-year immutable Cache-Control.
_STATIC_STORAGE = {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}
# Source maps are fetched only by a developer's devtools: not worth compressing (6 MB of them for the
# API docs' bundles alone), whitenoise's own list otherwise.
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = [
    "jpg", "jpeg", "png", "gif", "webp", "zip", "gz", "tgz", "bz2", "tbz", "xz", "br", "swf", "flv", "woff", "woff2",
    "3gp", "3gpp", "asf", "avi", "m4v", "mov", "mp4", "mpeg", "mpg", "webm", "wmv", "map",
]

# Uploaded files (attachments and the files kept for an invalid filing form) go through Django's
# storage API: the local disk by default, or any S3-compatible object store (AWS S3, MinIO, …) when
# S3_BUCKET is set, so several web machines share them. Downloads always pass through the
# permission-checking view; the bucket stays private.
S3_BUCKET = env_str("S3_BUCKET")
if S3_BUCKET:
    _DEFAULT_STORAGE: dict[str, object] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": env_str("S3_ENDPOINT_URL") or None,
            "region_name": env_str("S3_REGION") or None,
            "access_key": env_str("S3_ACCESS_KEY_ID") or None,
            "secret_key": env_str("S3_SECRET_ACCESS_KEY") or None,
            "location": env_str("S3_PREFIX", "media"),
            "default_acl": None,  # the bucket's own (private) policy
            "querystring_auth": True,
            "querystring_expire": 60,
            "file_overwrite": False,
            "addressing_style": env_str("S3_ADDRESSING_STYLE", "path"),
        },
    }
else:
    _DEFAULT_STORAGE = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {"default": _DEFAULT_STORAGE, "staticfiles": _STATIC_STORAGE}
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media-not-served/"  # attachments are served only through a permission-checking view

# Uploads: checked per file in requests_app.forms; these bound what the server accepts at all.
S2O_ATTACHMENT_MAX_BYTES = env_int("S2O_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
S2O_ATTACHMENT_EXTENSIONS = env_list(
    "S2O_ATTACHMENT_EXTENSIONS", ["pdf", "png", "jpg", "jpeg", "xlsx", "xls", "csv", "docx", "txt", "step", "dxf"]
)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"
# Widgets drawn from Django's Jinja2 widget templates: the same HTML, several times cheaper (s2o/renderers.py).
FORM_RENDERER = "s2o.renderers.JinjaWidgets"

# E-mail: console in embedded mode; SMTP (EMAIL_HOST_*) in production unless EMAIL_BACKEND says otherwise,
# so a production install never silently "sends" reminders to its own log.
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEVELOPMENT else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "S2O <s2o@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The absolute URL that reaches this app, for links in e-mails. Unset: in embedded mode the host and
# port `dev.py up` serves on (S2O_HOST, S2O_PORT); in production the first concrete ALLOWED_HOSTS
# entry over https.
S2O_HOST = env_str("S2O_HOST", "127.0.0.1")
S2O_PORT = env_int("S2O_PORT", 8000)


def _default_site_url() -> str:
    if DEVELOPMENT:
        host = "localhost" if S2O_HOST in {"0.0.0.0", "::", "[::]"} else S2O_HOST  # a bind-all address is no link  # nosec B104
        host = f"[{host}]" if ":" in host and not host.startswith("[") else host
        return f"http://{host}:{S2O_PORT}"
    concrete = [h for h in ALLOWED_HOSTS if h and "*" not in h and not h.startswith(".")]
    return f"https://{concrete[0]}" if concrete else "https://localhost"


S2O_SITE_URL = env_str("S2O_SITE_URL", _default_site_url()).rstrip("/")
if not S2O_SITE_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured(f"S2O_SITE_URL={S2O_SITE_URL!r} must start with http:// or https://.")
# A notification e-mail that fails is retried this many times in all, waiting base × 2^(n-1)
# seconds (at most an hour) after the n-th failure; then it is given up and shown failed in the admin.
S2O_EMAIL_MAX_ATTEMPTS = env_int("S2O_EMAIL_MAX_ATTEMPTS", 8)
S2O_EMAIL_RETRY_BASE_SECONDS = env_int("S2O_EMAIL_RETRY_BASE_SECONDS", 60)
# The currency the dashboard reports money in (an ISO 4217 code); other currencies are converted
# with the exchange rates managers keep (requests_app.models.ExchangeRate).
S2O_REPORTING_CURRENCY = env_str("S2O_REPORTING_CURRENCY", "EUR").upper()
if not re.fullmatch(r"[A-Z]{3}", S2O_REPORTING_CURRENCY):
    raise ImproperlyConfigured(f"S2O_REPORTING_CURRENCY must be a three-letter currency code, not {S2O_REPORTING_CURRENCY!r}.")

# Replies by e-mail: e-mails that ask something carry a Reply-To address reply+<signed token>@S2O_REPLY_DOMAIN
# (unset: no reply addresses). The ESP receives that domain's mail and posts it to the inbound webhook,
# /anymail/mailgun/inbound/ (Mailgun: a route forwarding to it), signed with the webhook signing key.
S2O_REPLY_DOMAIN = env_str("S2O_REPLY_DOMAIN").lower()
S2O_REPLY_MAX_AGE_DAYS = env_int("S2O_REPLY_MAX_AGE_DAYS", 30)
S2O_REPLY_BOUNCES_PER_DAY = env_int("S2O_REPLY_BOUNCES_PER_DAY", 5)  # per sender address: never a spam cannon
ANYMAIL = {
    "MAILGUN_WEBHOOK_SIGNING_KEY": env_str("MAILGUN_WEBHOOK_SIGNING_KEY"),
    # Optional HTTP basic auth in front of the signature check ("user:password", as in the route's URL).
    "WEBHOOK_SECRET": env_str("ANYMAIL_WEBHOOK_SECRET") or None,
}

# Outbound webhooks (integrations): loopback, private and link-local destinations are refused
# unless this is on (a test receiver on 127.0.0.1; an intranet CRM whose risk someone accepted).
S2O_WEBHOOK_ALLOW_PRIVATE = env_bool("S2O_WEBHOOK_ALLOW_PRIVATE", False)
S2O_WEBHOOK_MAX_ATTEMPTS = env_int("S2O_WEBHOOK_MAX_ATTEMPTS", 10)
S2O_WEBHOOK_RETRY_BASE_SECONDS = env_int("S2O_WEBHOOK_RETRY_BASE_SECONDS", 30)
S2O_WEBHOOK_TIMEOUT_SECONDS = env_int("S2O_WEBHOOK_TIMEOUT_SECONDS", 10)

# Sessions live in the database (never in Redis: the web path must not wait on the broker).
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = 12 * 3600  # absolute lifetime from log-in: 12 h (set at log-in, requests_app.middleware)
S2O_SESSION_IDLE_SECONDS = env_int("S2O_SESSION_IDLE_SECONDS", 30 * 60)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if not DEVELOPMENT:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 365 * 24 * 3600
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# Content Security Policy: no inline script, nothing from another origin.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# Celery. Embedded mode: kombu's filesystem transport (no server). Production: Redis.
# Settings follow shared/RELIABILITY.md: late acks + reject on worker lost (safe because the
# reminder ledger makes sending idempotent), prefetch 1, time limits, short socket timeouts.
REDIS_URL = env_str("REDIS_URL")
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL or "filesystem://")
CELERY_RESULT_BACKEND = env_str(
    "CELERY_RESULT_BACKEND", REDIS_URL or f"file://{VAR_DIR / 'celery-results'}"
)
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),  # default is ./control in the working dir
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": 3600,  # longer than any task's hard time limit
        "socket_timeout": 2,
        "socket_connect_timeout": 2,
        "max_retries": 1,
    }
CELERY_REDIS_SOCKET_TIMEOUT = 2
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 2
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Nobody reads our tasks' return values: the database records what happened (the ledger, the
# notifications). Publishing a task that keeps its result also subscribes to the result channel
# first, and against a Redis that accepts connections but never answers that subscription kept
# retrying for ~60 s (measured) whatever the socket timeouts. So results are off by default
# (s2o.ping, the health probe's round trip, keeps its own) and the result store gives up in seconds.
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"retry_policy": {"timeout": 5.0}}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 3600
CELERY_TIMEZONE = "UTC"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# The sweep interval is shortened only by tests that run a real beat (S2O_SWEEP_SECONDS).
_SWEEP_SECONDS = env_int("S2O_SWEEP_SECONDS", 60)
CELERY_BEAT_SCHEDULE = {
    "sla-sweep": {
        "task": "analysis.tasks.sla_sweep",
        "schedule": float(_SWEEP_SECONDS),
        "options": {"expires": max(_SWEEP_SECONDS - 5, _SWEEP_SECONDS * 0.9)},
    },
    "morning-digest": {
        "task": "analysis.tasks.send_morning_digests",
        "schedule": 15 * 60.0,
        "options": {"expires": 600},
    },
    "webhook-sweep": {
        "task": "integrations.tasks.webhook_sweep",
        "schedule": float(_SWEEP_SECONDS),
        "options": {"expires": max(_SWEEP_SECONDS - 5, _SWEEP_SECONDS * 0.9)},
    },
    "purge-staged-uploads": {
        "task": "requests_app.tasks.purge_staged_uploads",
        "schedule": 3600.0,
        "options": {"expires": 3000},
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: its "Bearer" challenge makes a refused token a 401 (DRF asks the first class).
        "integrations.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["integrations.api.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "integrations.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    # Per token (per user for a session), counted in the database so every worker counts alike.
    "DEFAULT_THROTTLE_CLASSES": ["integrations.api.throttling.TokenRateThrottle"],
    "EXCEPTION_HANDLER": "integrations.api.errors.exception_handler",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
}
# Calls per token (or session user) and period: "600/min", "20/s", "10000/day".
S2O_API_RATE = env_str("API_THROTTLE_USER", "600/min")
if not re.fullmatch(r"[1-9][0-9]{0,8}/(s|sec|second|m|min|minute|h|hour|d|day)", S2O_API_RATE):
    raise ImproperlyConfigured(f"API_THROTTLE_USER must read like 600/min (calls per s, min, hour or day), not {S2O_API_RATE!r}.")
SPECTACULAR_SETTINGS = {
    "TITLE": "S2O API",
    "DESCRIPTION": (
        "Feasibility requests, their assessments and answers, for CRMs and scripts. Authenticate with a personal "
        "token from Preferences (`Authorization: Bearer s2o_…`) or a browser session. Reads are scoped as on the "
        "pages (404 for what you may not see); writes go through the same rules (403 with the reason), the same "
        "optimistic lock (send the `version` you read; 409 when someone changed it since) and the same e-mails."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and the docs are for logged-in people and tokens (integrations/api/docs.py).
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {"CurrencyEnum": "requests_app.models.Currency"},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Demo logins are only ever created in embedded mode (seed_demo refuses otherwise).
S2O_DEMO_PASSWORD = "demo-s2o-2026"

# The dashboard's covering indexes (INCLUDE columns) are a PostgreSQL feature; on SQLite they are
# plain indexes, which is all the embedded mode needs.
SILENCED_SYSTEM_CHECKS = ["models.W040"]
