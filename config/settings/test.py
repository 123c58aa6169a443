"""Test settings: PostgreSQL when DATABASE_URL is set, otherwise SQLite (PostgreSQL-only tests skip)."""

from .base import *  # noqa: F403
from .base import DATABASES, DB_STATEMENT_TIMEOUT_MS, env

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": None}  # in memory for speed; concurrency tests need PostgreSQL
DEBUG = False

# Throttle counters per test process; the throttling tests switch to a shared cache themselves.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
API_THROTTLE_RATE = "100000/minute"
# Tests that need the second factor turn it on (tests/staff/); production settings keep it on.
STAFF_2FA_REQUIRED = False

# Test-only fault injection (tests/config/test_worker_death.py): make the first request that reaches
# the named point of config/api/idempotency.py write its pid to the file and sleep, so that the test
# can SIGKILL that gunicorn worker there. Only this settings module reads these variables.
_pause_at = env.str("BL_TEST_PAUSE_AT", default="")
IDEMPOTENCY_TEST_PAUSE = (_pause_at, env.str("BL_TEST_PAUSE_PIDFILE")) if _pause_at else None

# The pytest process itself creates and drops the test database (DROP DATABASE forces a checkpoint,
# which on a busy machine takes longer than the production statement_timeout): give it a minute. The
# servers the tests start (tests/servers.py sets BL_TEST_SERVER) keep the production bounds.
_options = DATABASES["default"].get("OPTIONS", {})
if "options" in _options and not env.bool("BL_TEST_SERVER", default=False):
    DATABASES["default"]["OPTIONS"]["options"] = DATABASES["default"]["OPTIONS"]["options"].replace(
        f"statement_timeout={DB_STATEMENT_TIMEOUT_MS}", "statement_timeout=60000"
    )

# The pytest process runs many tests in a row, some of which fake an unavailable database: one must not
# make the next ones' requests answer 503 (config/api/deadline.py). The servers keep the production window.
if not env.bool("BL_TEST_SERVER", default=False):
    DB_UNAVAILABLE_RETRY_SECONDS = 0

# Tests need atomicity and visibility, not durability across a power cut: commits do not wait for the WAL
# flush (the suite commits a lot: live servers, concurrency tests, flushes between TransactionTestCases).
if "options" in _options:
    _options["options"] += " -c synchronous_commit=off"

# The tests' receiving servers listen on loopback (tests/webhooks); the safety tests switch this off.
WEBHOOK_ALLOW_PRIVATE_TARGETS = env.bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", default=True)
WEBHOOK_CONNECT_TIMEOUT = 1.0
WEBHOOK_READ_TIMEOUT = 2.0
