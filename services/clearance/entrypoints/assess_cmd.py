"""``clearance assess``: assess order events (JSON lines) offline, one decision line per input line.

Reads files (or stdin), writes one ``clearance.decision`` JSON line per input line, in order; a bad
line yields a ``dead-letter`` line in its place. Running totals per consignee (anti-splitting) are
kept in memory across the whole input, replacing a parcel's own earlier contribution on amendment.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from clearance.domain.fx import ExchangeRates
    from clearance.service.assessing import Assessor


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments: input files, rates file, as-of date, pack id."""
    parser.add_argument("files", nargs="*", type=Path, help="JSON-lines files (default: stdin)")
    parser.add_argument("--rates", type=Path, help="exchange rates CSV: date,from,to,rate,source")
    parser.add_argument(
        "--as-of", type=dt.date.fromisoformat, help="assess as if every parcel arrived on DATE"
    )
    parser.add_argument("--pack", help="rule pack id (e.g. vn-draft-2025 for a what-if run)")


def _lines(files: list[Path]) -> Iterator[tuple[str, int, bytes]]:
    if not files:
        for number, line in enumerate(sys.stdin.buffer, start=1):
            yield "stdin", number, line
        return
    for path in files:
        with path.open("rb") as handle:
            for number, line in enumerate(handle, start=1):
                yield str(path), number, line


class StreamAssessor:
    """Decode, assess and keep running totals for a stream of order events."""

    def __init__(self, assessor: Assessor, args: argparse.Namespace) -> None:
        self.assessor = assessor
        self.pack_id: str | None = args.pack
        self.as_of: dt.date | None = args.as_of
        from clearance.domain.totals import RunningTotals

        self.totals = RunningTotals()

    def one(self, source: str, offset: int, raw: bytes) -> bytes:
        """One output JSON line (without newline) for one input line: a decision, or a dead
        letter saying why there is none. Never raises: one bad line answers only for itself."""
        from clearance.messages import encode
        from clearance.service.batches import Record, dead_letter

        try:
            return self._assess_line(source, offset, raw)
        except Exception as error:  # noqa: BLE001 - every line gets an answer (faults.py)
            record = Record(
                topic=source, partition=0, offset=offset, key=None, value=raw, timestamp_ms=0
            )
            why = f"{type(error).__name__} while assessing this line: {error}"
            now = dt.datetime.now(dt.UTC)
            return encode(dead_letter(record, "ENGINE_ERROR", why, None, now))

    def _assess_line(self, source: str, offset: int, raw: bytes) -> bytes:
        import msgspec

        from clearance.domain.packs import UnknownPack, UnsupportedDestination
        from clearance.messages import InspectionResult, OrderCancelled, Transport, encode
        from clearance.service.batches import Decoded, Record, dead_letter, decode_record

        record = Record(
            topic=source,
            partition=0,
            offset=offset,
            key=None,
            value=raw.rstrip(b"\n"),
            timestamp_ms=0,
        )
        now = dt.datetime.now(dt.UTC)
        decoded = decode_record(record, inspections_topic="", received_at=now)
        if not isinstance(decoded, Decoded):
            return encode(decoded)
        order = decoded.event
        if isinstance(order, OrderCancelled | InspectionResult):
            message = f"{order.__struct_config__.tag} revises a stored decision; nothing to assess"
            return encode(dead_letter(record, "UNKNOWN_MESSAGE_TYPE", message, "$.type", now))
        if self.as_of is not None:
            transport = order.transport or Transport(mode="express")
            transport = msgspec.structs.replace(transport, arrival_date=self.as_of)
            order = msgspec.structs.replace(order, transport=transport)
        try:
            keys = self.assessor.totals_keys(order, self.pack_id)
        except (UnsupportedDestination, UnknownPack) as error:
            path = "$.destination_country"
            return encode(dead_letter(record, "UNSUPPORTED_DESTINATION", str(error), path, now))
        parcel = (order.platform, order.order_id, order.shipment)
        assessment = self.assessor.assess(
            order, totals=self.totals.excluding(keys, parcel), pack_id=self.pack_id
        )
        self.totals.replace(parcel, {c.key: c.value for c in assessment.contributions})
        return encode(assessment.decision)


def load_rates(path: Path | None) -> ExchangeRates:
    """The rates file given, else the bundled default rates."""
    from clearance.domain.fx import ExchangeRates
    from clearance.service.assessing import bundled_rates

    if path is None:
        return bundled_rates()
    return ExchangeRates.from_csv(path.read_text(encoding="utf-8"), str(path))


def run(args: argparse.Namespace, out: IO[bytes] | None = None) -> int:
    """Assess every input line: 0 once every line is answered (a decision or a dead letter,
    counted on stderr), 2 when the packs or rates cannot be loaded."""
    from clearance.domain.fx import FxError
    from clearance.domain.packs import PackError, PackRegistry

    try:
        from clearance.service.assessing import Assessor
        from clearance.settings import DEV_IDENTITY_KEY

        engine = Assessor(DEV_IDENTITY_KEY, PackRegistry.bundled(), load_rates(args.rates))
        assessor = StreamAssessor(engine, args)
    except (PackError, FxError, OSError) as error:
        print(f"clearance assess: {error}", file=sys.stderr)
        return 2
    sink = out or sys.stdout.buffer
    answered = dead = 0
    for source, offset, raw in _lines(args.files):
        if not raw.strip():
            continue
        line = assessor.one(source, offset, raw)
        answered += 1
        dead += line.startswith(b'{"type":"dead-letter"')
        sink.write(line + b"\n")
    sink.flush()
    print(f"{answered} lines: {answered - dead} decisions, {dead} dead letters", file=sys.stderr)
    return 0
