"""Dead letters that are safe to keep: no personal data, a bounded size, one id per record.

A dead letter says why a record could not be processed and keeps enough of it to fix the cause,
but it lands on a topic that operators read and retain: so the consignee's name, address, phone,
e-mail and identity document are replaced by ``"[redacted]"`` wherever they appear, a payload that
is not a JSON object is withheld whole (nothing personal can hide in it), and what is kept is cut
to ``PAYLOAD_EXCERPT_BYTES``. The original's size and SHA-256 say what it was; the original itself
stays at its topic, partition and offset for as long as the platform's topic retains it.

``dead_letter_id`` is derived from (topic, partition, offset): a record redelivered after a crash
gets the same id, so a consumer of the dead-letter topic drops the duplicates.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from typing import Any, Final, Protocol

import msgspec

from clearance.messages import (
    DEAD_LETTER_MAX_BYTES,
    DeadLetter,
    DeadLetterCode,
    DeadLetterError,
    encode,
)

__all__ = [
    "PAYLOAD_EXCERPT_BYTES",
    "RecordRef",
    "dead_letter_id",
    "make_dead_letter",
    "redacted_payload",
]

#: Most of the (redacted) original kept in ``payload``: enough to see what was wrong with it.
PAYLOAD_EXCERPT_BYTES: Final = 64 * 1024
#: Longest error message and key kept (both come from outside).
MESSAGE_MAX_CHARS: Final = 2_000
KEY_MAX_CHARS: Final = 1_024

REDACTED: Final = "[redacted]"
#: Keys whose values are personal data wherever they appear in a payload.
PERSONAL_KEYS: Final = frozenset({"name", "address", "phone", "email", "identity"})

_NAMESPACE: Final = uuid.UUID("6f1c8e4a-1d7b-5c2e-9a43-0c2d5b7e8f10")


class RecordRef(Protocol):
    """Where a record came from and what it held (a Kafka record, or a line of a file)."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes | None: ...


def dead_letter_id(topic: str, partition: int, offset: int) -> uuid.UUID:
    """The same id for every dead letter made of one record."""
    return uuid.uuid5(_NAMESPACE, f"{topic}\n{partition}\n{offset}")


def _redact(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: REDACTED if key in PERSONAL_KEYS and item is not None else _redact(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_redact(item) for item in value]
    return value


def redacted_payload(value: bytes | None) -> tuple[str, bool, bool]:
    """(payload text, redacted, truncated): the original without personal data, cut to size."""
    if not value:
        return "", False, False
    try:
        parsed = msgspec.json.decode(value)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return "", True, False  # not JSON: cannot tell what is personal in it, so keep none
    if not isinstance(parsed, dict):
        return "", True, False
    cleaned = _redact(parsed)
    text = msgspec.json.encode(cleaned)
    redacted = cleaned != parsed
    if len(text) <= PAYLOAD_EXCERPT_BYTES:
        return text.decode("utf-8"), redacted, False
    return text[:PAYLOAD_EXCERPT_BYTES].decode("utf-8", "ignore"), redacted, True


def make_dead_letter(
    record: RecordRef,
    code: DeadLetterCode,
    message: str,
    path: str | None,
    received_at: datetime,
    trace_id: str | None = None,
) -> DeadLetter:
    """The dead letter for ``record``: why, and a redacted, bounded excerpt of what it held."""
    original = record.value or b""
    payload, redacted, truncated = redacted_payload(record.value)
    letter = DeadLetter(
        source_topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        key=None if record.key is None else record.key.decode("utf-8", "replace")[:KEY_MAX_CHARS],
        received_at=received_at,
        error=DeadLetterError(code=code, message=message[:MESSAGE_MAX_CHARS], path=path),
        payload=payload,
        dead_letter_id=dead_letter_id(record.topic, record.partition, record.offset),
        trace_id=trace_id,
        payload_bytes=len(original),
        payload_sha256=hashlib.sha256(original).hexdigest(),
        payload_redacted=redacted,
        payload_truncated=truncated,
    )
    if len(encode(letter)) > DEAD_LETTER_MAX_BYTES:  # escapes can grow the excerpt six-fold
        letter = msgspec.structs.replace(letter, payload="", payload_truncated=True)
    return letter
