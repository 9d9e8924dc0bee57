"""Zhouxin settings, read from the environment with typed helpers.

Safe defaults give the embedded SQLite set-up of `make run`; production sets
ZHOUXIN_ENV=production, SECRET_KEY, FIELD_ENCRYPTION_KEYS, FIELD_INDEX_KEY,
ALLOWED_HOSTS and DATABASE_URL.  City rules live in the policy store, not here.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("ZHOUXIN_VAR_DIR", BASE_DIR / "var"))


def envbool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def envint(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def envlist(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


ENVIRONMENT = os.environ.get("ZHOUXIN_ENV", "development")
PRODUCTION = ENVIRONMENT == "production"
TESTING = envbool("ZHOUXIN_TESTING", False)

DEBUG = envbool("DEBUG", not PRODUCTION)
# Development key only; production refuses to start without a real one.
_DEV_SECRET = "dev-only-zhouxin-secret-key-not-for-production-use-0123456789"
SECRET_KEY = os.environ.get("SECRET_KEY", "" if PRODUCTION else _DEV_SECRET)
if PRODUCTION and not SECRET_KEY:
    raise RuntimeError("SECRET_KEY must be set when ZHOUXIN_ENV=production")

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", [] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])

# The demo district (fixed TOTP secrets, demo_code command) can never be enabled in production.
DEMO_ENABLED = envbool("ZHOUXIN_DEMO", not PRODUCTION) and not PRODUCTION
# Benchmark-only endpoints (zhouxin/dispatch/bench.py, `make bench`): never in production.
BENCH_ENDPOINTS = envbool("ZHOUXIN_BENCH", False) and not PRODUCTION
BENCH_ACTOR = os.environ.get("ZHOUXIN_BENCH_ACTOR", "district_admin")
# Deferred intake (docs/deploy.md, "Request intake at city scale"): a request is stored with its
# number and answered at once; routing, deadlines, the timeline and the roll-ups follow within a
# second in the intake worker (`manage.py intake_worker --loop`, started by scripts/serve.sh).
# Off: all of it happens in the intake's own transaction (the default, simplest to run).
DISPATCH_INTAKE_DEFERRED = envbool("ZHOUXIN_INTAKE_DEFERRED", False)
# Deferred intake on PostgreSQL takes 工单号 (and request ids) this many at a time per process
# (dispatch/numbering.py): a day's numbers stay unique but are no longer in order of receipt
# across processes.  1: one number per request, in order.
DISPATCH_NUMBER_BLOCK = envint("ZHOUXIN_NUMBER_BLOCK", 16)

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "zhouxin.core",
    "zhouxin.orgs",
    "zhouxin.dispatch",
    "zhouxin.portal",
    "zhouxin.moderation",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "zhouxin.api",
    "zhouxin.publishing",
    "zhouxin.conferences",
    "zhouxin.cobuild",
    "zhouxin.volunteers",
    "zhouxin.workforce",
    "zhouxin.funds",
    "zhouxin.centers",
    "zhouxin.oversight",
    "zhouxin.analytics",
]

# REST API (zhouxin.api): token or TOTP-verified session; structured errors; bounded pages.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "zhouxin.api.authentication.TokenAuthentication",
        "zhouxin.api.authentication.VerifiedSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "zhouxin.api.pagination.Pagination",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "zhouxin.api.exceptions.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Zhouxin API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "RequestKindEnum": "zhouxin.dispatch.choices.RequestKind",
        "OrgKindEnum": "zhouxin.orgs.choices.OrgKind",
        "RequestStatusEnum": "zhouxin.dispatch.choices.Status",
    },
}
# Open311 GeoReport v2 (zhouxin.api.open311).  jurisdiction_id: the top areas' 区划代码 and
# pinyin ("1101", "beijing") are always accepted; OPEN311_JURISDICTION adds one more (e.g.
# "beijing.gov.cn").  POST limits: hits per minute per api_key and per client IP.
OPEN311_JURISDICTION = os.environ.get("OPEN311_JURISDICTION", "").strip()
OPEN311_POST_LIMIT_PER_KEY = envint("OPEN311_POST_LIMIT_PER_KEY", 300)
OPEN311_POST_LIMIT_PER_IP = envint("OPEN311_POST_LIMIT_PER_IP", 600)

MIDDLEWARE = [
    # Request counts and latency for /metrics (zhouxin/core/metrics.py); outermost, so every answer counts.
    "zhouxin.core.metrics.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # CSP and the other security headers on every response, static files and early refusals too.
    "zhouxin.core.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Database down → 503, audit log down → refused (zhouxin/core/faults.py); outside every
    # middleware that may read the database (sessions, auth, OTP, axes, timeouts, scope).
    "zhouxin.core.faults.RequestSizeMiddleware",
    "zhouxin.core.faults.DatabaseFaultMiddleware",
    "zhouxin.core.middleware.RequestContextMiddleware",
    # A NUL in the path or query string: 400 with a message (PostgreSQL refuses NUL in text).
    "zhouxin.core.middleware.NulCharacterMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # A public page the integrity monitor withheld answers "页面核查中" (zhouxin/publishing).
    "zhouxin.publishing.middleware.WithheldPageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Before SessionTimeoutMiddleware, so the "session timed out" message can be stored.
    "django.contrib.messages.middleware.MessageMiddleware",
    "zhouxin.core.middleware.SessionTimeoutMiddleware",
    "zhouxin.core.middleware.ScopeMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "zhouxin.urls"
WSGI_APPLICATION = "zhouxin.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "zhouxin" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "zhouxin.core.context_processors.shell",
            ],
            "builtins": ["zhouxin.core.templatetags.zx_dates"],
        },
    },
]

# --- Database -------------------------------------------------------------
# SQLite (embedded default) runs in WAL mode with a busy timeout and IMMEDIATE
# transactions so that the web server and the task worker can write at once.
SQLITE_PATH = VAR_DIR / "zhouxin.sqlite3"
SQLITE_OPTIONS = {
    "timeout": 30,
    "transaction_mode": "IMMEDIATE",
    "init_command": (
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
        "PRAGMA busy_timeout=30000; PRAGMA cache_size=-64000;"
    ),
}
DB_PREPARE_THRESHOLD = envint("DB_PREPARE_THRESHOLD", 5)
# PostgreSQL binds parameters itself (psycopg's server-side binding) and a statement a
# connection runs DB_PREPARE_THRESHOLD times is prepared there, parsed and planned once: for
# the short statements of a busy page (the signed-in user, their grants, the row written)
# planning was most of PostgreSQL's work, and quoting every parameter in Python most of the
# driver's (docs/performance.md, "Request intake").  0 turns preparing off (PgBouncer older
# than 1.21 in transaction mode cannot keep prepared statements; docs/deploy.md §3).
POSTGRES_OPTIONS = {"server_side_binding": True, "prepare_threshold": DB_PREPARE_THRESHOLD or None}
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    # Health checks: a persistent connection that died with a database restart is replaced
    # at the start of the next request instead of failing it (zhouxin/core/faults.py).
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=envint("DB_CONN_MAX_AGE", 60),
                                                  conn_health_checks=True)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        DATABASES["default"]["OPTIONS"] = dict(SQLITE_OPTIONS)
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": SQLITE_PATH,
            "OPTIONS": dict(SQLITE_OPTIONS),
            # Tests use a file (not :memory:) so the browser tests' server thread
            # and task worker see the same database.
            "TEST": {"NAME": os.environ.get("ZHOUXIN_TEST_DB", str(VAR_DIR / f"test-{os.getpid()}.sqlite3"))},
        }
    }
DATABASES["default"].setdefault("TEST", {})
for _alias in DATABASES.values():
    if _alias["ENGINE"] == "django.db.backends.postgresql":
        # Django's backend, with bulk INSERTs' column arrays sent in binary (zhouxin/core/pgbackend).
        _alias["ENGINE"] = "zhouxin.core.pgbackend"
        _alias["OPTIONS"] = POSTGRES_OPTIONS | _alias.get("OPTIONS", {})
# Optional streaming read replica: dashboards, reports and exports read from it inside
# zhouxin.core.db_router.replica_reads() (see that module for the lag trade-off).  Tests never
# create it: it mirrors "default" under the test runner.
DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(DATABASE_REPLICA_URL, conn_max_age=envint("DB_CONN_MAX_AGE", 60),
                                                 conn_health_checks=True)
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    if DATABASES["replica"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["replica"]["ENGINE"] = "zhouxin.core.pgbackend"
    DATABASES["replica"]["OPTIONS"] = POSTGRES_OPTIONS | DATABASES["replica"].get("OPTIONS", {})
DATABASE_ROUTERS = ["zhouxin.core.db_router.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Tasks (django-tasks backport with the database backend) -------------
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# --- Health and metrics (zhouxin/core/faults.py health, zhouxin/core/metrics.py) ----
# /metrics answers a bearer token equal to METRICS_TOKEN or a client in METRICS_ALLOWED_IPS
# (addresses or networks, comma-separated); anyone else gets 404.
METRICS_TOKEN = os.environ.get("ZHOUXIN_METRICS_TOKEN", "")
METRICS_ALLOWED_IPS = envlist("ZHOUXIN_METRICS_ALLOWED_IPS", ["127.0.0.1"])
# /healthz answers 503 when the oldest runnable task or unsealed audit entry waited longer (seconds).
HEALTH_TASK_QUEUE_MAX_AGE = envint("ZHOUXIN_HEALTH_TASK_QUEUE_MAX_AGE", 600)
HEALTH_AUDIT_SEAL_MAX_AGE = envint("ZHOUXIN_HEALTH_AUDIT_SEAL_MAX_AGE", 300)

# --- Accounts and security -----------------------------------------------
AUTH_USER_MODEL = "core.User"
LOGIN_URL = "core:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "core:login"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "zhouxin.core.backends.ModelBackend",
]

# Password policy per 等保 level 3 (GB/T 22239-2019): length and character classes
# are read from the policy store key "core.password" at validation time.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "zhouxin.core.passwords.ComplexityValidator"},
    {"NAME": "zhouxin.core.passwords.HistoryValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Lockout: 5 failed logins lock the username for 15 minutes, with the same
# message whether or not the account exists.
AXES_FAILURE_LIMIT = envint("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=envint("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
# Attempts refused during a lockout are not counted again, so the lock lasts exactly
# AXES_COOLOFF_TIME from the fifth failure instead of being extended by every retry.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# axes.W006 warns that username-only lockout can be bypassed by rotating User-Agents;
# with ["username"] axes sums failures over every row of the username whatever the IP
# or User-Agent (tested in core/tests/test_auth.py), and the lock is per account by design.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_LOCKOUT_CALLABLE = "zhouxin.core.views.auth.lockout_response"
AXES_VERBOSE = False
AXES_USERNAME_FORM_FIELD = "username"
AXES_IPWARE_PROXY_COUNT = envint("PROXY_COUNT", 0) or None

# Sessions: idle timeout 30 minutes, absolute 12 hours (SessionTimeoutMiddleware).
SESSION_IDLE_TIMEOUT = timedelta(minutes=envint("SESSION_IDLE_MINUTES", 30))
SESSION_ABSOLUTE_TIMEOUT = timedelta(hours=envint("SESSION_ABSOLUTE_HOURS", 12))
SESSION_COOKIE_AGE = int(SESSION_ABSOLUTE_TIMEOUT.total_seconds())
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from a meta tag, not the cookie
CSRF_FAILURE_VIEW = "zhouxin.core.views.errors.csrf_failure"  # our page, under our CSP

OTP_TOTP_ISSUER = "轴心 Zhouxin"

# Personal data: Fernet keys (newest first; older ones still decrypt) and a
# separate HMAC key for the exact-match index.  Development derives both from
# SECRET_KEY; production must set them.
FIELD_ENCRYPTION_KEYS = envlist("FIELD_ENCRYPTION_KEYS", [])
FIELD_INDEX_KEY = os.environ.get("FIELD_INDEX_KEY", "")
if PRODUCTION and (not FIELD_ENCRYPTION_KEYS or not FIELD_INDEX_KEY):
    raise RuntimeError("FIELD_ENCRYPTION_KEYS and FIELD_INDEX_KEY must be set when ZHOUXIN_ENV=production")

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# --- Language and time ----------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "zhouxin" / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Shanghai"
USE_TZ = True

# --- Static files (front-end packages come from npm at build time) --------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "zhouxin" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
MEDIA_ROOT = VAR_DIR / "media"
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
# Whole request bodies above this are refused (413) before they are read (faults.RequestSizeMiddleware):
# the largest form takes 9 images of 5 MB.  Per-file caps are in the forms.  MEDIA_ROOT is served
# by no URL (MEDIA_URL stays empty, WhiteNoise serves STATIC_ROOT only): files go out through
# views that check the caller's scope (dispatch:attachment).
UPLOAD_REQUEST_MAX_BYTES = envint("UPLOAD_REQUEST_MAX_BYTES", 50 * 1024 * 1024)

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "zhouxin",
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
    "loggers": {"zhouxin": {"level": os.environ.get("LOG_LEVEL", "INFO")}},
}

# Audit entries are kept at least this long (DESIGN §4: ≥ 180 days).
AUDIT_RETENTION_DAYS = max(180, envint("AUDIT_RETENTION_DAYS", 365))
# Each writing process links its own audit entries into the chain right after they commit (at most
# every AUDIT_SEAL_INTERVAL seconds).  0: it leaves them all to the sealer process (`manage.py
# audit_seal --loop`), DESIGN §4's single sealer: at city scale the web processes then spend
# nothing on the chain (docs/deploy.md, deferred intake).  The sealer must be running then.
AUDIT_LINK_ON_WRITE = envbool("ZHOUXIN_AUDIT_LINK_ON_WRITE", True)
