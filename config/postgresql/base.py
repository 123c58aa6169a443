"""Django's PostgreSQL backend (psycopg 3), with a health check that costs no round trip.

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

from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
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
