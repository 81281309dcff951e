"""``clearance traces show TRACE_ID [--file F]``: one trace from a span file, as a waterfall.

The span file is what ``CLEARANCE_TRACES_FILE`` makes the worker and the API write (JSON lines,
one span each; ``clearance dev`` writes one per run). An operator without Jaeger or Tempo at hand
(a single host, a support bundle) can still follow a parcel: the trace's spans in time, each
under its parent, and after them the spans the trace links to (its batch's store and publish),
with the attributes that answer "where did the time go" on each line.

It only reads a file, so it is an operating command: the production image has it.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import msgspec

__all__ = ["SpanLine", "configure", "read_trace", "run", "spans_of", "waterfall"]

#: Width of the time bar, in characters.
BAR = 32


class SpanLink(msgspec.Struct, frozen=True):
    trace_id: str
    span_id: str


class SpanLine(msgspec.Struct, frozen=True, kw_only=True):
    """One span as ``clearance.telemetry.JsonLinesSpanExporter`` writes it."""

    name: str
    trace_id: str
    span_id: str
    parent_span_id: str | None = None
    kind: str = "INTERNAL"
    start_unix_nano: int
    end_unix_nano: int
    status: str = "UNSET"
    attributes: dict[str, Any] = msgspec.field(default_factory=dict)
    links: list[SpanLink] = msgspec.field(default_factory=list)
    service: str | None = None

    @property
    def milliseconds(self) -> float:
        return (self.end_unix_nano - self.start_unix_nano) / 1e6


_DECODER = msgspec.json.Decoder(SpanLine)


def configure(parser: argparse.ArgumentParser) -> None:
    """Sub-command ``show``."""
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    show = actions.add_parser("show", help="draw one trace of a span file as a waterfall")
    show.add_argument("trace_id", metavar="TRACE_ID", help="32 hex digits (a decision's trace_id)")
    show.add_argument(
        "--file",
        type=Path,
        default=None,
        help="JSON-lines span file (default: $CLEARANCE_TRACES_FILE)",
    )


def run(args: argparse.Namespace) -> int:
    """Print the waterfall, or say why there is none."""
    path = args.file or os.environ.get("CLEARANCE_TRACES_FILE")
    if not path:
        print("clearance traces: no --file and no CLEARANCE_TRACES_FILE", file=sys.stderr)
        return 2
    trace_id = args.trace_id.strip().lower()
    try:
        spans, linked = read_trace(Path(path), trace_id)
    except OSError as error:
        print(f"clearance traces: {error}", file=sys.stderr)
        return 2
    if not spans:
        print(f"clearance traces: no span of trace {trace_id} in {path}", file=sys.stderr)
        return 1
    print(waterfall(spans, linked))
    return 0


def _lines(path: Path, needles: Iterable[bytes]) -> Iterator[SpanLine]:
    """The spans of the file whose line contains one of ``needles`` (a cheap filter before
    decoding: a day's file holds millions of spans); lines that are not spans are skipped."""
    wanted = tuple(needles)
    with path.open("rb") as stream:
        for line in stream:
            if any(needle in line for needle in wanted):
                try:
                    yield _DECODER.decode(line)
                except msgspec.DecodeError:
                    continue


def spans_of(path: Path) -> Iterator[SpanLine]:
    """Every span of the file."""
    return _lines(path, [b"{"])


def read_trace(path: Path, trace_id: str) -> tuple[list[SpanLine], list[SpanLine]]:
    """The spans of ``trace_id`` in the file, and the spans they link to (other traces)."""
    spans = [s for s in _lines(path, [trace_id.encode()]) if s.trace_id == trace_id]
    targets = {link.span_id for span in spans for link in span.links if link.trace_id != trace_id}
    linked: list[SpanLine] = []
    if targets:
        found = {s.span_id: s for s in _lines(path, [t.encode() for t in targets])}
        linked = sorted(
            (span for span_id, span in found.items() if span_id in targets),
            key=lambda s: s.start_unix_nano,
        )
    return spans, linked


def _ordered(spans: Sequence[SpanLine]) -> list[tuple[int, SpanLine, bool]]:
    """Depth-first in time: (depth, span, whether its parent is missing from the file)."""
    ids = {span.span_id for span in spans}
    children: dict[str | None, list[SpanLine]] = {}
    for span in spans:
        parent = span.parent_span_id if span.parent_span_id in ids else None
        children.setdefault(parent, []).append(span)
    for group in children.values():
        group.sort(key=lambda s: s.start_unix_nano)
    ordered: list[tuple[int, SpanLine, bool]] = []

    def visit(span: SpanLine, depth: int) -> None:
        orphan = depth == 0 and span.parent_span_id is not None
        ordered.append((depth, span, orphan))
        for child in children.get(span.span_id, []):
            visit(child, depth + 1)

    for root in children.get(None, []):
        visit(root, 0)
    return ordered


def _bar(span: SpanLine, start: int, total: int) -> str:
    first = int((span.start_unix_nano - start) / total * BAR)
    last = int((span.end_unix_nano - start) / total * BAR)
    first = min(first, BAR - 1)
    last = max(first + 1, min(last, BAR))
    return " " * first + "█" * (last - first) + " " * (BAR - last)


def _where(a: dict[str, Any]) -> str:
    """``topic[partition]@offset`` of a messaging span."""
    where = str(a["messaging.destination.name"])
    if "messaging.destination.partition.id" in a:
        where += f"[{a['messaging.destination.partition.id']}]"
    if "messaging.kafka.offset" in a:
        where += f"@{a['messaging.kafka.offset']}"
    return where


def _status(a: dict[str, Any]) -> str:
    status = str(a["clearance.status"])
    return f"{status}/{a['clearance.channel']}" if "clearance.channel" in a else status


#: Attribute -> how a waterfall line shows it, in this order.
_NOTES: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
    ("messaging.destination.name", _where),
    (
        "clearance.record.waited_ms",
        lambda a: f"waited {a['clearance.record.waited_ms']:.0f} ms in the topic",
    ),
    ("clearance.status", _status),
    ("clearance.rule_pack", lambda a: str(a["clearance.rule_pack"])),
    ("clearance.reasons", lambda a: ",".join(a["clearance.reasons"])),
    ("clearance.dead_letter.code", lambda a: f"dead letter {a['clearance.dead_letter.code']}"),
    ("clearance.end_to_end_ms", lambda a: f"end-to-end {a['clearance.end_to_end_ms']:.0f} ms"),
    ("messaging.batch.message_count", lambda a: f"{a['messaging.batch.message_count']} records"),
]


def _notes(span: SpanLine, orphan: bool) -> str:
    """What the span's attributes say that answers "where did the time go"."""
    notes = [show(span.attributes) for key, show in _NOTES if key in span.attributes]
    if span.status == "ERROR":
        notes.append("ERROR")
    if orphan:
        notes.append("(parent not recorded)")
    return ", ".join(notes)


def waterfall(spans: Sequence[SpanLine], linked: Sequence[SpanLine] = ()) -> str:
    """The trace as text: a header, one line per span under its parent, then the linked spans."""
    everything = [*spans, *linked]
    start = min(s.start_unix_nano for s in everything)
    end = max(s.end_unix_nano for s in everything)
    total = max(end - start, 1)
    services = sorted({s.service or "?" for s in spans})
    lines = [
        f"trace {spans[0].trace_id}: {len(spans)} spans from {', '.join(services)}, "
        f"{(end - start) / 1e6:.1f} ms",
    ]
    rows = [(depth, span, orphan) for depth, span, orphan in _ordered(spans)]
    service_width = max(len(s.service or "?") for s in everything)
    name_width = max(2 * depth + len(span.name) for depth, span, _ in rows)
    name_width = max([name_width, *(len(s.name) + 2 for s in linked)])

    def row(depth: int, span: SpanLine, orphan: bool) -> str:
        name = "  " * depth + span.name
        offset = (span.start_unix_nano - start) / 1e6
        return (
            f"{span.service or '?':<{service_width}}  {name:<{name_width}}  {span.kind:<8} "
            f"{offset:>9.1f} {span.milliseconds:>9.1f} ms |{_bar(span, start, total)}| "
            f"{_notes(span, orphan)}"
        ).rstrip()

    heading = f"{'service':<{service_width}}  {'span':<{name_width}}  {'kind':<8} "
    scale = f"{(end - start) / 1e6:.0f} ms"
    lines.append(f"{heading}{'start ms':>9} {'took':>9}    |0{scale:>{BAR - 1}}|")
    lines += [row(depth, span, orphan) for depth, span, orphan in rows]
    if linked:
        batch_traces = sorted({s.trace_id for s in linked})
        lines.append(f"linked (batch trace {', '.join(batch_traces)}):")
        lines += [row(1, span, False) for span in linked]
    return "\n".join(lines)
