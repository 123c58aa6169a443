"""Test settings: PostgreSQL when DATABASE_URL is set, otherwise SQLite (PostgreSQL-only tests skip)."""

from .base import *  # noqa: F403
from .base import DATABASES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": None}  # in memory for speed; concurrency tests need PostgreSQL
DEBUG = False

# Throttle counters per test process; the throttling tests switch to a shared cache themselves.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
API_THROTTLE_RATE = "100000/minute"
