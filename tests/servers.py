"""Real server processes for tests that need them: gunicorn on a local port against the test database,
and a TCP proxy that can take the database away and give it back."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager, suppress
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url(port: int | None = None) -> str:
    settings = connection.settings_dict
    return f"postgres://{settings['USER']}@{settings['HOST']}:{port or settings['PORT']}/{settings['NAME']}"


def gunicorn_command(port: int, workers: int, *, timeout: int) -> list[str]:
    """The command that serves the app under gunicorn (as in production) on 127.0.0.1:`port`."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--timeout",
        str(timeout),
        "--log-level",
        "warning",
    ]


@contextmanager
def gunicorn(port: int, *, database_port: int | None = None, workers: int = 2, extra_env: dict | None = None):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url(database_port),
        "DB_CONN_MAX_AGE": "60",
        "BL_TEST_SERVER": "1",
        **(extra_env or {}),
    }
    process = subprocess.Popen(
        gunicorn_command(port, workers, timeout=30),
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if process.poll() is not None:
                    raise RuntimeError(process.stderr.read().decode()[-2000:]) from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=20)


def call(method: str, url: str, *, headers: dict | None = None, body: bytes | None = None, timeout: float = 20):
    """(status, headers, body bytes, seconds) of one HTTP request, never raising on an error status and
    never following a redirect."""
    import urllib.error
    import urllib.request

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    request = urllib.request.Request(
        url, data=body, method=method, headers={"Content-Type": "application/json", **(headers or {})}
    )
    started = time.perf_counter()
    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read(), time.perf_counter() - started
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read(), time.perf_counter() - started


class FlakyProxy:
    """A TCP proxy to PostgreSQL (or Redis: `target`), in one of these modes:

    - `up`: forwards;
    - `refuse` (alias `down`): refuses new connections and cuts the open ones (a stopped server);
    - `drop` (alias `blackhole`): a lost network: new connections are accepted and never answered, and the
      open ones stay open but nothing passes any more, in either direction (no RST, no FIN);
    - `slow`: forwards, but every chunk waits `delay` seconds (an overloaded server or network).

    Back to `up`, the connections that lived through `drop` are cut (what they carried was lost)."""

    def __init__(self, target=("127.0.0.1", 5432), delay: float = 3.0):
        self.target = target
        self.delay = delay
        self.mode = "up"
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.open: list[socket.socket] = []
        self.lock = threading.Lock()
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.mode in ("down", "refuse"):
                client.close()
                continue
            with self.lock:
                self.open.append(client)
            if self.mode in ("blackhole", "drop"):
                continue
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.open.append(upstream)
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                if self.mode in ("blackhole", "drop"):
                    continue  # lost on the way
                if self.mode == "slow":
                    time.sleep(self.delay)
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        with self.lock:
            for s in self.open:
                with suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                    s.close()
            self.open.clear()

    def set(self, mode: str) -> None:
        previous, self.mode = self.mode, mode
        if mode in ("down", "refuse") or (mode == "up" and previous in ("blackhole", "drop")):
            self.cut()

    def close(self) -> None:
        self.closed = True
        self.set("down")
        self.listener.close()
