"""Test settings: PostgreSQL when DATABASE_URL is set, otherwise SQLite (PostgreSQL-only tests skip)."""

from .base import *  # noqa: F403
from .base import DATABASES, env

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": None}  # in memory for speed; concurrency tests need PostgreSQL
DEBUG = False

# Throttle counters per test process; the throttling tests switch to a shared cache themselves.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
API_THROTTLE_RATE = "100000/minute"

# Test-only fault injection (tests/config/test_worker_death.py): make the first request that reaches
# the named point of config/api/idempotency.py write its pid to the file and sleep, so that the test
# can SIGKILL that gunicorn worker there. Only this settings module reads these variables.
_pause_at = env.str("BL_TEST_PAUSE_AT", default="")
IDEMPOTENCY_TEST_PAUSE = (_pause_at, env.str("BL_TEST_PAUSE_PIDFILE")) if _pause_at else None
