"""Settings shared by every environment; every value that differs between machines comes from the
environment (see README.md for the list)."""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent
# The project package: its templates ship inside it, so an installed wheel has them too.
CONFIG_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="insecure-dev-key-change-me-in-production-0123456789")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp_webauthn",
    "axes",
    "csp",
    "config",
    "customers",
    "events",
    "credits",
    "discounts",
    "billing",
    "webhooks",
    "staff",
]

MIDDLEWARE = [
    "config.api.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "config.api.middleware.FamilyErrorMiddleware",
    "config.api.middleware.DatabaseDeadlineMiddleware",
    # The admin's session, login and messages middleware; API requests skip them (config/api/middleware.py).
    "config.api.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "config.api.middleware.AuthenticationMiddleware",
    "staff.middleware.OTPMiddleware",
    "config.api.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "staff.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a lockout into its answer.
    "staff.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
# The vendor paths have no trailing slash; never redirect them to one.
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [CONFIG_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------
# DATABASE_URL picks the database (postgres://user:pass@host:5432/name). Without it, an embedded
# SQLite file under var/, in WAL mode with IMMEDIATE transactions so that concurrent writers queue
# on the database lock instead of failing with "database is locked" half way through.
SQLITE_PATH = env.path("SQLITE_PATH", default=BASE_DIR / "var" / "benefit_ledger.sqlite3")
# Failure bounds (README "Failure modes"): every API request answers within about 5 s when the
# database is gone, slow or cut off by a lost network, with 503 in its family's dialect.
# - connect_timeout: a new connection that gets no answer fails after this many seconds (libpq: >= 2);
# - keepalives + tcp_user_timeout: an open connection whose packets are lost (a partition: no RST) is
#   dropped after DB_TCP_USER_TIMEOUT_MS instead of the kernel's ~15 minutes of retransmissions;
# - statement_timeout: the server ends a statement that runs too long;
# - idle_in_transaction_session_timeout: the server ends the session (rolling back, releasing locks and
#   Idempotency-Key claims) of a client that stopped talking in the middle of a transaction;
# - DB_REQUEST_DEADLINE_SECONDS: the last resort (config/api/deadline.py), a watchdog that cuts the
#   database connection of an API request still running after this long (0 switches it off).
DB_CONNECT_TIMEOUT = env.int("DB_CONNECT_TIMEOUT", default=2)
DB_TCP_USER_TIMEOUT_MS = env.int("DB_TCP_USER_TIMEOUT_MS", default=1500)
DB_STATEMENT_TIMEOUT_MS = env.int("DB_STATEMENT_TIMEOUT_MS", default=4000)
DB_IDLE_IN_TRANSACTION_TIMEOUT_MS = env.int("DB_IDLE_IN_TRANSACTION_TIMEOUT_MS", default=10000)
DB_REQUEST_DEADLINE_SECONDS = env.float("DB_REQUEST_DEADLINE_SECONDS", default=4.0)
# After a request of a worker found the database unavailable, that worker's requests are answered 503 at
# once for this long (config/api/deadline.py), so that a request queued behind a busy worker still gets
# its answer within the 5 s the README promises; then the database is tried again.
DB_UNAVAILABLE_RETRY_SECONDS = env.float("DB_UNAVAILABLE_RETRY_SECONDS", default=2.0)
# The redeem statement (credits/services/redeem.py) is prepared once per connection, so the server does not parse
# and plan it on every redeem; the ORM's statements are never prepared (Django binds them on the client).
# Off (false): the statement is then parsed and planned on every use; always off behind a transaction
# pooler (DATABASE_POOL_MODE=transaction, below).
DB_PREPARED_STATEMENTS = env.bool("DB_PREPARED_STATEMENTS", default=True)

# DATABASE_POOL_MODE=transaction declares a transaction-pooling pooler (PgBouncer's pool_mode=transaction)
# in front of DATABASE_URL: a server session then serves many clients, one transaction at a time, so the
# app keeps nothing at session level (config/postgresql/base.py: no startup options, nothing prepared,
# the timeouts set per transaction or per statement, server-side cursors only inside a transaction).
DATABASE_POOL_MODE = env.str("DATABASE_POOL_MODE", default="session")
if DATABASE_POOL_MODE not in {"session", "transaction"}:
    raise RuntimeError("DATABASE_POOL_MODE is 'session' (a direct connection or a session pooler) or 'transaction'")
if DATABASE_POOL_MODE == "transaction":
    DB_PREPARED_STATEMENTS = False
# Read replicas (streaming standbys), comma-separated URLs, read directly (no transaction pooler): GET and
# HEAD requests read from one that has replayed the client's last write and is at most
# DATABASE_REPLICA_MAX_LAG_SECONDS behind; everything else, and any read inside a transaction, uses the
# primary (config/replicas.py).
DATABASE_REPLICA_URLS = [url for url in env.list("DATABASE_REPLICA_URLS", default=[]) if url.strip()]
DATABASE_REPLICA_MAX_LAG_SECONDS = env.float("DATABASE_REPLICA_MAX_LAG_SECONDS", default=5.0)


def _postgres(url: str, *, pool_mode: str) -> dict:
    """Django's settings for one PostgreSQL URL: our backend, the failure bounds, and the pool mode."""
    db = env.db_url_config(url)
    # Django's backend, with a health check that needs no round trip (config/postgresql/base.py).
    db["ENGINE"] = "config.postgresql"
    db["POOL_MODE"] = pool_mode
    # Behind a transaction pooler, set per transaction or per statement instead (config/postgresql/base.py).
    db["LOCAL_SETTINGS"] = {
        "statement_timeout": DB_STATEMENT_TIMEOUT_MS,
        "idle_in_transaction_session_timeout": DB_IDLE_IN_TRANSACTION_TIMEOUT_MS,
    }
    options = db.setdefault("OPTIONS", {})
    options.setdefault("connect_timeout", DB_CONNECT_TIMEOUT)
    options.setdefault("keepalives", 1)
    options.setdefault("keepalives_idle", 1)
    options.setdefault("keepalives_interval", 1)
    options.setdefault("keepalives_count", 2)
    options.setdefault("tcp_user_timeout", DB_TCP_USER_TIMEOUT_MS)
    # psycopg's threshold; only server-binding cursors ever prepare, and only credits/services/redeem.py uses one.
    options.setdefault("prepare_threshold", 5 if DB_PREPARED_STATEMENTS and pool_mode == "session" else None)
    if pool_mode == "session":
        options.setdefault(
            "options",
            f"-c statement_timeout={DB_STATEMENT_TIMEOUT_MS} "
            f"-c idle_in_transaction_session_timeout={DB_IDLE_IN_TRANSACTION_TIMEOUT_MS}",
        )
    return db


_PG_SCHEMES = ("postgres://", "postgresql://", "pgsql://", "psql://", "postgis://")
if env.str("DATABASE_URL", default="") and env.str("DATABASE_URL").startswith(_PG_SCHEMES):
    _db = _postgres(env.str("DATABASE_URL"), pool_mode=DATABASE_POOL_MODE)
elif env.str("DATABASE_URL", default=""):
    _db = env.db("DATABASE_URL")
else:
    _db = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(SQLITE_PATH),
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON",
        },
    }
_db["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=0)
_db["CONN_HEALTH_CHECKS"] = True
DATABASES = {"default": _db}
for _n, _url in enumerate(DATABASE_REPLICA_URLS, start=1):
    DATABASES[f"replica{_n}"] = {
        **_postgres(_url, pool_mode="session"),
        "CONN_MAX_AGE": _db["CONN_MAX_AGE"],
        "CONN_HEALTH_CHECKS": True,
        "TEST": {"MIRROR": "default"},
    }
DATABASE_ROUTERS = ["config.replicas.ReplicaRouter"] if DATABASE_REPLICA_URLS else []
if DATABASE_REPLICA_URLS:
    MIDDLEWARE.insert(1, "config.replicas.ReplicaMiddleware")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Staff sign-in and controls (README "Staff pages") -------------------------------------------
# Every staff user signs in with a password and a second factor (authenticator app with backup codes,
# or a passkey), enrolling at their first sign-in. Off for `make run`'s demo and the tests (local.py,
# test.py); production keeps this default.
STAFF_2FA_REQUIRED = env.bool("STAFF_2FA_REQUIRED", default=True)
# How long a re-authentication (the password typed again) holds for sensitive staff actions.
STAFF_REAUTH_SECONDS = env.int("STAFF_REAUTH_SECONDS", default=300)
# A staff session ends after this many seconds without a request (each request starts the count again).
SESSION_IDLE_TIMEOUT_SECONDS = env.int("SESSION_IDLE_TIMEOUT_SECONDS", default=1800)
# (config/api/middleware.py moves a session's expiry on at each request without rewriting its data.)
SESSION_COOKIE_AGE = SESSION_IDLE_TIMEOUT_SECONDS
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# Staff sign in on the admin's page, and land on its index (a passkey's verification goes there too).
LOGIN_URL = "admin:login"
LOGIN_REDIRECT_URL = "admin:index"
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
# Sign-in throttling (staff/lockouts.py): failures counted per username and, separately, per client address.
AXES_FAILURE_LIMIT = env.int("STAFF_SIGNIN_FAILURE_LIMIT", default=5)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
STAFF_LOCKOUT_SECONDS = env.int("STAFF_LOCKOUT_SECONDS", default=60)
STAFF_LOCKOUT_MAX_SECONDS = env.int("STAFF_LOCKOUT_MAX_SECONDS", default=24 * 3600)
AXES_COOLOFF_TIME = "staff.lockouts.cool_off"
AXES_LOCKOUT_CALLABLE = "staff.lockouts.locked_out"
AXES_RESET_ON_SUCCESS = True
AXES_HTTP_RESPONSE_CODE = 429
# axes looks for its middleware by name; staff.middleware.AxesMiddleware is it, skipping API requests.
SILENCED_SYSTEM_CHECKS = ["axes.W002"]
# The client address: REMOTE_ADDR, or behind N proxies the address N hops back in X-Forwarded-For.
AXES_IPWARE_PROXY_COUNT = env.int("DJANGO_CLIENT_IP_PROXY_COUNT", default=0) or None
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR") if AXES_IPWARE_PROXY_COUNT else ("REMOTE_ADDR",)
)

OTP_TOTP_ISSUER = env.str("STAFF_2FA_ISSUER", default="Benefit Ledger")
# Passkeys: the relying party is the host the admin is served on (staff/passkeys.py), and the browser
# origins allowed to use them (scheme://host[:port]); default: https on each allowed host name, and
# http://localhost:8000 (`make run`; browsers allow passkeys over plain http on localhost only).
OTP_WEBAUTHN_RP_NAME = OTP_TOTP_ISSUER
OTP_WEBAUTHN_RP_ID_CALLABLE = "staff.passkeys.rp_id"
OTP_WEBAUTHN_ALLOWED_ORIGINS = env.list(
    "STAFF_PASSKEY_ORIGINS",
    default=[
        *(f"https://{host}" for host in ALLOWED_HOSTS if host[:1] not in ("*", ".", "[") and host != "testserver"),
        "http://localhost:8000",
    ],
)
# A passkey is the second factor after the password, never a sign-in by itself (the lockout counts passwords).
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False

# Content-Security-Policy of the staff pages (django-csp): no inline script, nothing from elsewhere.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        # Django's admin templates carry style attributes; styles cannot run code.
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

LANGUAGE_CODE = "en-us"
# Dates as 2026-12-03 and times as 2026-12-03 13:05 Europe/Oslo on the staff pages (config/formats/en).
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Bodies over 1 MiB are refused with 413 in the family's dialect.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
# URLs (path and query) and single header values longer than these: 414 and 431 in the family's
# dialect. Keep them below gunicorn's limits (gunicorn.conf.py), which answer in HTML.
API_MAX_URL_LENGTH = env.int("API_MAX_URL_LENGTH", default=8000)
API_MAX_HEADER_LENGTH = env.int("API_MAX_HEADER_LENGTH", default=8190)

# --- API ----------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["customers.api.authentication.ApiClientAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["config.api.permissions.HasScope"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["config.api.parsers.JSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "config.api.negotiation.ContentNegotiation",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_THROTTLE_CLASSES": ["config.api.throttling.ApiClientThrottle"],
    "DEFAULT_SCHEMA_CLASS": "config.api.schema.FamilyAutoSchema",
    "EXCEPTION_HANDLER": "config.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
    "COERCE_DECIMAL_TO_STRING": False,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Benefit Ledger API",
    "DESCRIPTION": (
        "System of record for customer credits, benefits, discount usage and usage-based billing "
        "credits. Four API families, each in its vendor's dialect: credits (Trybe-style, `/customers/`), "
        "benefits (Magicline-style, `/v1/customers/`), discounts (Dintero-style, `/v1/accounts/{aid}/`) "
        "and billing (Frontier-style, `/v1beta1/`)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/",
    "TAGS": [
        {"name": "credits", "description": "Customer credits, coupons, customers and memberships (Trybe-style)."},
        {
            "name": "benefits",
            "description": "Benefit eligibility and usage by customer number, card number, barcode or PIN "
            "(Magicline-style). Uses a credit of the customer whose coupon carries the benefit key.",
        },
    ],
    "APPEND_COMPONENTS": {
        "securitySchemes": {
            "ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-KEY"},
            "BearerSecret": {"type": "http", "scheme": "bearer"},
            "BasicClient": {"type": "http", "scheme": "basic"},
            "AccessToken": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
        }
    },
    "SECURITY": [{"ApiKey": []}, {"BearerSecret": []}, {"BasicClient": []}, {"AccessToken": []}],
    "AUTHENTICATION_WHITELIST": [],
    # Choice sets an input and the update body built on it share (config.api.serializers.StrictInputSerializer),
    # under the names they had before there was an update body.
    "ENUM_NAME_OVERRIDES": {
        "DiscountRuleInputTypeEnum": ["receipt"],
        "MembershipCreditRuleInputIssuingFrequencyEnum": "credits.api.serializers.ISSUING_FREQUENCIES",
    },
}

# --- Shared cache: throttle counters (Redis when REDIS_URL is set, so every server process shares them;
# otherwise the database cache) ---------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "benefit_ledger_cache"}}

# Redis (throttle counters): how long one Redis call may take, and, after a failure, how long requests
# pass unthrottled without asking Redis again (config/api/throttling.py: the degraded mode).
REDIS_TIMEOUT_SECONDS = env.float("REDIS_TIMEOUT_SECONDS", default=0.5)
REDIS_RETRY_SECONDS = env.float("REDIS_RETRY_SECONDS", default=5)

# Requests per API client per window; over it: 429 with Retry-After, in the family's dialect.
API_THROTTLE_RATE = env.str("API_THROTTLE_RATE", default="6000/minute")
# How long the first answer to a request with an Idempotency-Key is replayed to retries.
IDEMPOTENCY_KEY_TTL_SECONDS = env.int("IDEMPOTENCY_KEY_TTL_SECONDS", default=24 * 3600)
# How long a retry waits for a request with the same key that is still running (then: 409, Retry-After).
IDEMPOTENCY_WAIT_MS = env.int("IDEMPOTENCY_WAIT_MS", default=1000)

# Client-credentials access tokens (POST /v1/accounts/{aid}/auth/token): HS256 JWTs.
ACCESS_TOKEN_SIGNING_KEY = env.str("ACCESS_TOKEN_SIGNING_KEY", default=SECRET_KEY)
ACCESS_TOKEN_LIFETIME = env.int("ACCESS_TOKEN_LIFETIME", default=3600)
# The audiences tokens may be asked for and are accepted for (comma-separated); unset: any audience.
ACCESS_TOKEN_AUDIENCES = env.list("ACCESS_TOKEN_AUDIENCES", default=[])

# How often an API client's last_used_at is written: at most once per this many seconds, so that
# authentication costs one read per request, not a read and a write.
API_CLIENT_LAST_USED_RESOLUTION = env.int("API_CLIENT_LAST_USED_RESOLUTION", default=60)
# How long each server process keeps an authenticated API client (customers/selectors.py): a client's
# deactivation or scope change applies at once in the process that made it, within this many seconds in
# the others. 0: read the client row on every request.
API_CLIENT_CACHE_SECONDS = env.int("API_CLIENT_CACHE_SECONDS", default=5)

# --- Logging ------------------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "config.api.request_id.RequestIdLogFilter"}},
    "formatters": {
        "plain": {
            "()": "config.api.logs.Formatter",  # control characters a client sent are escaped
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # django-axes logs every sign-in at INFO; its failures and lockouts are WARNING.
        "axes": {"level": "WARNING"},
        # Our own middleware logs every unexpected error once, with its request id.
        "django.request": {"level": "ERROR", "handlers": [], "propagate": False},
    },
}

# Webhooks (webhooks.worker; README, "Events and webhooks").
WEBHOOK_ALLOW_PRIVATE_TARGETS = env.bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", default=False)
WEBHOOK_SECRETS_KEY = env("WEBHOOK_SECRETS_KEY", default="")
WEBHOOK_CONNECT_TIMEOUT = env.float("WEBHOOK_CONNECT_TIMEOUT", default=3.0)
WEBHOOK_READ_TIMEOUT = env.float("WEBHOOK_READ_TIMEOUT", default=5.0)
WEBHOOK_MAX_RESPONSE_BYTES = env.int("WEBHOOK_MAX_RESPONSE_BYTES", default=65536)
WEBHOOK_TOTAL_TIMEOUT = env.float("WEBHOOK_TOTAL_TIMEOUT", default=15.0)
WEBHOOK_DISABLE_AFTER_SECONDS = env.int("WEBHOOK_DISABLE_AFTER_SECONDS", default=3 * 24 * 3600)
WEBHOOK_POLL_SECONDS = env.float("WEBHOOK_POLL_SECONDS", default=0.1)
WEBHOOK_SCAN_SECONDS = env.float("WEBHOOK_SCAN_SECONDS", default=60.0)
