"""gunicorn's settings for this project: `gunicorn -c python:config.gunicorn` (an installed product), or
./gunicorn.conf.py in a checkout, which imports this module; command-line flags win. The request limits
sit above the application's own (API_MAX_URL_LENGTH, API_MAX_HEADER_LENGTH), so that an over-long URL
or header is answered by the application, as JSON in the family's dialect (414, 431); only requests
beyond these limits get gunicorn's own HTML answer (see README, failure modes)."""

import os

limit_request_line = 8190  # gunicorn's maximum (0 would mean unlimited)
limit_request_field_size = 16380
limit_request_fields = 100

# Each worker touches its heartbeat file on every request it takes; on /tmp that is a disk inode
# update per request (gunicorn's own advice: put it on a memory file system).
_SHM = "/dev/shm"  # noqa: S108 (gunicorn makes its file there with mkstemp and unlinks it at once)
worker_tmp_dir = _SHM if os.path.isdir(_SHM) else None
