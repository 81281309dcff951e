"""``clearance dev`` as a newcomer runs it: a stream in, a summary out, nothing left running."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from factories import encoded, order

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _stream(path: Path, orders: int) -> Path:
    lines = [encoded(order(n)) for n in range(orders)]
    lines.append(b"{this is not an order")
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _children_of(pid: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                children.append(int(entry.name))
    return children


def _dev(*args: str) -> subprocess.Popen[str]:
    env = {
        k: v for k, v in os.environ.items() if k not in ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL")
    }
    return subprocess.Popen(
        [sys.executable, "-m", "clearance", "dev", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )


def test_dev_exit_replays_a_stream_and_summarises_it(tmp_path: Path) -> None:
    process = _dev("--exit", "--json", "--stream", str(_stream(tmp_path / "s.jsonl", 60)))
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err[-3000:]
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["records"] == 61
    assert summary["decisions"] == 60
    assert summary["dead_letters"] == {"MALFORMED_JSON": 1}
    assert summary["parcels_by_destination"] == {"VN": 60}
    assert sum(summary["parcels_by_outcome"].values()) == 60
    assert set(summary["duty_and_tax"]) == {"VND"}
    for port in summary["ports"].values():
        assert not _listening(port), f"port {port} still open after exit"
    assert not _database_running(summary["database"])


def test_ctrl_c_stops_everything_cleanly(tmp_path: Path) -> None:
    process = _dev("--json", "--stream", str(_stream(tmp_path / "s.jsonl", 20)))
    assert process.stdout is not None
    summary: dict[str, object] = {}
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if line.startswith("{"):
            summary = json.loads(line)
        if line.startswith("Ctrl-C to stop"):
            break
    assert summary, "no summary printed"
    children = _children_of(process.pid)
    assert children, "the broker, database and API run as child processes"
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err[-3000:]
    for port in summary["ports"].values():  # type: ignore[attr-defined]
        assert not _listening(port), f"port {port} still open after Ctrl-C"
    assert not _database_running(summary["database"])  # type: ignore[arg-type]
    alive = [pid for pid in children if Path(f"/proc/{pid}").exists() and _state(pid) != "Z"]
    assert alive == [], "a child process outlived clearance dev"


def _database_running(url: str) -> bool:
    """Whether the embedded PostgreSQL of ``url`` still has its socket or data directory."""
    socket_dir = Path(url.split("host=", 1)[1])
    return socket_dir.exists() and any(socket_dir.glob(".s.PGSQL.*"))


def _state(pid: int) -> str:
    try:
        return (Path(f"/proc/{pid}") / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"
