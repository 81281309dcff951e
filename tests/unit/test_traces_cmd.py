"""``clearance traces show``: one trace of a span file as a waterfall, linked spans after it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from clearance.entrypoints.cli import COMMANDS, main
from clearance.entrypoints.traces_cmd import read_trace, waterfall

PARCEL = "4bf92f3577b34da6a3ce929d0e0e4736"
BATCH = "7d1c3f3577b34da6a3ce929d0e0e0001"
MS = 1_000_000
T0 = 1_790_000_000_000 * MS


def _span(
    name: str, trace_id: str, span_id: str, start_ms: float, end_ms: float, **more: Any
) -> str:
    line = {
        "name": name,
        "trace_id": trace_id,
        "span_id": span_id,
        "parent_span_id": more.pop("parent", None),
        "kind": more.pop("kind", "INTERNAL"),
        "start_unix_nano": T0 + int(start_ms * MS),
        "end_unix_nano": T0 + int(end_ms * MS),
        "status": more.pop("status", "UNSET"),
        "attributes": more.pop("attributes", {}),
        "events": [],
        "links": [{"trace_id": t, "span_id": s} for t, s in more.pop("links", [])],
        "service": more.pop("service", "clearance-worker"),
    }
    return json.dumps(line)


@pytest.fixture
def span_file(tmp_path: Path) -> Path:
    lines = [
        _span("clearance.store", BATCH, "b000000000000002", 130, 190, parent="b000000000000001",
              links=[(PARCEL, "c000000000000001")]),
        _span("send orders.v1", PARCEL, "a000000000000001", 0, 2, kind="PRODUCER",
              service="shopmart-platform",
              attributes={"messaging.destination.name": "orders.v1",
                          "messaging.destination.partition.id": "3",
                          "messaging.kafka.offset": 41}),
        "not a span",
        _span("clearance.assess", PARCEL, "c000000000000002", 121, 121.3, parent="c000000000000001",
              attributes={"clearance.status": "hold", "clearance.channel": "yellow",
                          "clearance.rule_pack": "vn@2026.3"}),
        _span("process orders.v1", PARCEL, "c000000000000001", 120, 230, kind="CONSUMER",
              parent="a000000000000001",
              links=[(BATCH, "b000000000000002"), (BATCH, "b000000000000003")],
              attributes={"messaging.destination.name": "orders.v1",
                          "messaging.destination.partition.id": "3",
                          "messaging.kafka.offset": 41, "clearance.record.waited_ms": 118.0,
                          "clearance.status": "hold", "clearance.end_to_end_ms": 230.0}),
        _span("clearance.publish", BATCH, "b000000000000003", 190, 228, parent="b000000000000001",
              kind="PRODUCER"),
        _span("clearance.batch", BATCH, "b000000000000001", 110, 190),
        _span("clearance.slow", "0af7651916cd43dd8448eb211c80319c", "d000000000000001", 0, 9,
              parent="e000000000000001"),
    ]  # fmt: skip
    path = tmp_path / "spans.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_trace_is_drawn_in_time_each_span_under_its_parent_then_what_it_links_to(
    span_file: Path,
) -> None:
    spans, linked = read_trace(span_file, PARCEL)
    assert sorted(s.name for s in spans) == [
        "clearance.assess",
        "process orders.v1",
        "send orders.v1",
    ]
    assert [s.name for s in linked] == ["clearance.store", "clearance.publish"]
    lines = waterfall(spans, linked).splitlines()
    assert lines[0] == (
        f"trace {PARCEL}: 3 spans from clearance-worker, shopmart-platform, 230.0 ms"
    )
    rows = [line.split("|")[0].split() for line in lines[2:]]
    assert [row[1] for row in rows if row[0] != "linked"] == [
        "send",  # the platform's send first, ...
        "process",  # ... our consume under it, ...
        "clearance.assess",  # ... the assessment under that, then the linked batch steps
        "clearance.store",
        "clearance.publish",
    ]
    consume = next(line for line in lines if "process orders.v1" in line)
    assert "orders.v1[3]@41" in consume and "waited 118 ms in the topic" in consume
    assert "hold" in consume and "end-to-end 230 ms" in consume
    assert "  clearance.assess" in next(line for line in lines if "clearance.assess" in line)
    bar = consume.split("|")[1]  # 120 to 230 ms of 230: the right half of the bar
    assert bar.startswith(" " * 16) and bar.endswith("█")
    assert f"linked (batch trace {BATCH}):" in lines


def test_a_span_whose_parent_was_not_recorded_is_shown_and_said_so(span_file: Path) -> None:
    spans, linked = read_trace(span_file, "0af7651916cd43dd8448eb211c80319c")
    assert linked == []
    assert "clearance.slow" in waterfall(spans) and "(parent not recorded)" in waterfall(spans)


def test_the_command_reads_the_file_and_says_when_a_trace_is_absent(
    span_file: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "traces" in COMMANDS  # an operating command: it only reads a file
    assert main(["traces", "show", PARCEL.upper(), "--file", str(span_file)]) == 0
    assert capsys.readouterr().out.startswith(f"trace {PARCEL}")
    monkeypatch.setenv("CLEARANCE_TRACES_FILE", str(span_file))
    assert main(["traces", "show", "f" * 32]) == 1
    assert "no span of trace" in capsys.readouterr().err
    monkeypatch.delenv("CLEARANCE_TRACES_FILE")
    assert main(["traces", "show", PARCEL]) == 2
