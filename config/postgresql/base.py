"""Django's PostgreSQL backend (psycopg 3), with a health check that costs no round trip, and a cursor for
statements worth preparing.

CONN_HEALTH_CHECKS makes Django ask, before a request's first query on a reused connection, whether the
connection still works; Django's answer is a `SELECT 1`, a round trip on every API request (about 4% of a
redeem's throughput on the harness). A server that ended the session (restart, failover,
pg_terminate_backend, idle_in_transaction_session_timeout) has sent its last message and closed the
socket, so an idle connection whose socket has something to read is the sign: only then is the
`SELECT 1` sent, and a connection that fails it is replaced before the request's query, as Django does.
A connection in the middle of a transaction, or already known closed or broken, is judged by Django.

What this does not see, and `SELECT 1` would only see by waiting: a peer that vanished without a word
(a partition). Then the request's first query fails within DB_TCP_USER_TIMEOUT_MS (or the request
deadline), the request answers 503 and the connection is dropped, so the next request connects afresh
(README, Failure modes)."""

from __future__ import annotations

import select

import psycopg
from django.db.backends.postgresql import base
from django.db.backends.utils import CursorDebugWrapper
from psycopg import pq


class _PreparedCursor(psycopg.Cursor):
    """Binds the parameters on the server and prepares the statement on its first use on a connection
    (psycopg keeps it for the connection's life), so PostgreSQL parses and plans it once per connection
    instead of once per use. With DB_PREPARED_STATEMENTS off (psycopg's prepare_threshold None), nothing
    is prepared and the statement is only bound on the server."""

    def execute(self, query, params=None, *, prepare=None, binary=None):
        return super().execute(query, params, prepare=True, binary=binary)


class _LoggedCursor(CursorDebugWrapper):
    """Django's query log (connection.queries, CaptureQueriesContext) for a prepared statement: psycopg
    keeps no composed text of a statement it ran by name, so Django's own log would record None; this
    one records the statement's text (with its %(name)s placeholders)."""

    def execute(self, sql, params=None):
        with self.debug_sql(sql, params):
            return super(CursorDebugWrapper, self).execute(sql, params)


class DatabaseWrapper(base.DatabaseWrapper):
    def prepared_cursor(self):
        """A cursor whose statements are prepared (credits/services/redeem.py's, on every redeem), with the same
        health check, thread check, error wrapping and query log as cursor(). Django's own cursors bind
        on the client and never prepare."""
        self.close_if_health_check_failed()
        self.ensure_connection()
        with self.wrap_database_errors:
            self.validate_thread_sharing()
            raw = _PreparedCursor(self.connection)
            return _LoggedCursor(raw, self) if self.queries_logged else self.make_cursor(raw)

    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed or connection.broken:
            return False
        pgconn = connection.pgconn
        if pgconn.status != pq.ConnStatus.OK or pgconn.transaction_status != pq.TransactionStatus.IDLE:
            return super().is_usable()
        try:
            readable, _, _ = select.select([pgconn.socket], [], [], 0)
        except (OSError, ValueError):
            return False
        return super().is_usable() if readable else True
