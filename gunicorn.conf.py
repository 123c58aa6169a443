"""gunicorn reads ./gunicorn.conf.py by itself when started from a checkout; the settings live in the
package (config/gunicorn.py), so an installed product uses the same ones with `-c python:config.gunicorn`."""

from config.gunicorn import *  # noqa: F403
