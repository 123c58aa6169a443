"""Development on a laptop: `make run`."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
# The demo signs in with a password alone (STAFF_2FA_REQUIRED=true to try the second factor).
STAFF_2FA_REQUIRED = env.bool("STAFF_2FA_REQUIRED", default=False)
