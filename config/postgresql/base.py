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
(README, Failure modes).

Behind a transaction-pooling pooler (DATABASE_POOL_MODE=transaction: PgBouncer's pool_mode=transaction),
consecutive transactions of one connection may run on different server sessions, so nothing may live at
session level:
- no startup `options` (PgBouncer refuses them): statement_timeout and idle_in_transaction_session_timeout
  are set transaction-locally (`set_config(..., true)`) in the same round trip as the first statement of
  each transaction, and statement_timeout in the same round trip as each statement run outside one
  (a multi-statement simple query runs as one implicit transaction);
- nothing prepared on the server (settings: psycopg's prepare_threshold None, DB_PREPARED_STATEMENTS off);
- server-side cursors only inside a transaction (WITHOUT HOLD, so they end with it); outside one, a
  chunked read fetches its result at once (billing's complete transactions list pages internally)."""

from __future__ import annotations

import re
import select

import psycopg
from django.db.backends.postgresql import base
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from psycopg import pq

# Statements that may share a simple query (an implicit transaction) with a set_config; not, for
# example, CREATE INDEX CONCURRENTLY or VACUUM, which refuse to run inside a transaction block.
_PREFIXABLE = re.compile(r"\s*(SELECT|INSERT|UPDATE|DELETE|WITH)\b", re.IGNORECASE)


class _TransactionPooled:
    """The cursor of a connection behind a transaction pooler: every statement carries the settings it
    needs, transaction-locally, in the same round trip (see the module's docstring)."""

    def _execute(self, sql, params, *ignored_wrapper_args):
        # only a cursor bound on the client sends a simple query, which may hold several statements
        bound_on_client = isinstance(self.cursor, psycopg.ClientCursor)
        prefix = self.db.local_settings_prefix(sql, server_cursor=not bound_on_client)
        if not prefix:
            return super()._execute(sql, params, *ignored_wrapper_args)
        result = super()._execute(prefix + sql, params, *ignored_wrapper_args)
        self.cursor.nextset()  # the statement's own result, not set_config's
        return result

    def _executemany(self, sql, param_list, *ignored_wrapper_args):
        self.db.apply_pending_local_settings()
        return super()._executemany(sql, param_list, *ignored_wrapper_args)


class _PooledCursor(_TransactionPooled, CursorWrapper):
    pass


class _PooledDebugCursor(_TransactionPooled, CursorDebugWrapper):
    pass


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
    _local_settings_pending = False

    @property
    def transaction_pooled(self) -> bool:
        return self.settings_dict.get("POOL_MODE") == "transaction"

    def _local_settings(self, names) -> str:
        values = self.settings_dict.get("LOCAL_SETTINGS", {})
        return "SELECT " + ", ".join(f"set_config('{name}', '{int(values[name])}', true)" for name in names)

    def local_settings_prefix(self, sql: str, *, server_cursor: bool) -> str:
        """What to send before `sql` in the same simple query, behind a transaction pooler ('' if nothing)."""
        if self._local_settings_pending:
            if server_cursor or not _PREFIXABLE.match(sql):
                self.apply_pending_local_settings()
                return ""
            self._local_settings_pending = False
            return self._local_settings(("statement_timeout", "idle_in_transaction_session_timeout")) + "; "
        if self.autocommit and not server_cursor and _PREFIXABLE.match(sql):
            return self._local_settings(("statement_timeout",)) + "; "
        return ""

    def apply_pending_local_settings(self) -> None:
        """The transaction's settings in a statement of their own (before one that cannot carry them)."""
        if self._local_settings_pending:
            self._local_settings_pending = False
            self.connection.execute(self._local_settings(("statement_timeout", "idle_in_transaction_session_timeout")))

    def _set_autocommit(self, autocommit):
        super()._set_autocommit(autocommit)
        self._local_settings_pending = self.transaction_pooled and not autocommit

    def make_cursor(self, cursor):
        return _PooledCursor(cursor, self) if self.transaction_pooled else super().make_cursor(cursor)

    def make_debug_cursor(self, cursor):
        return _PooledDebugCursor(cursor, self) if self.transaction_pooled else super().make_debug_cursor(cursor)

    def chunked_cursor(self):
        """A server-side cursor, except outside a transaction behind a transaction pooler: Django declares
        it WITH HOLD there, a session-level object that the next transaction may not find."""
        if self.transaction_pooled and self.get_autocommit():
            return self.cursor()
        return super().chunked_cursor()

    def prepared_cursor(self):
        """A cursor whose statements are prepared (credits/services/redeem.py's, on every redeem), with the same
        health check, thread check, error wrapping and query log as cursor(). Django's own cursors bind
        on the client and never prepare. Behind a transaction pooler nothing is prepared, and the statement
        is bound on the client like any other, so that it can carry its timeouts in its own round trip."""
        if self.transaction_pooled:
            return self.cursor()
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
