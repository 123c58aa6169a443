"""Counts the SQL statements that one API request sends, in-process (run by bench/run.py as a child:
`python -m bench.statements '<json list of requests>'`, with the production settings and the bench
database in the environment; prints JSON).

Each request goes through django.test.Client, so through the same WSGI handler, middleware, DRF views
and database settings as under gunicorn, and its statements are captured with Django's
CaptureQueriesContext. Every request is sent twice and the second is counted: the first warms what a
long-running worker has warm (and writes the API client's `last_used_at`, which is written at most once
per API_CLIENT_LAST_USED_RESOLUTION seconds, so it is not part of the steady state). SAVEPOINT and
RELEASE SAVEPOINT lines are left out; BEGIN, COMMIT and ROLLBACK are captured (Django logs them) and
counted, and also reported on their own. Not captured, so not counted: the `SELECT 1` of
CONN_HEALTH_CHECKS, sent on the raw connection once per request before the first statement on a reused
connection.

Why not pg_stat_statements: it needs shared_preload_libraries and a server restart; and log_statement
would need the harness to read the server's log file. Counting in-process needs neither."""

from __future__ import annotations

import json
import sys


def main() -> None:
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="localhost")
    out = {}
    for spec in json.loads(sys.argv[1]):
        headers = spec.get("headers", {})
        for _ in range(2):
            with CaptureQueriesContext(connection) as captured:
                response = client.generic(
                    spec["method"], spec["path"], spec.get("body", ""), content_type="application/json", headers=headers
                )
        statements = [
            query["sql"]
            for query in captured.captured_queries
            if not query["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
        ]
        out[spec["name"]] = {"status": response.status_code, "statements": statements}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
