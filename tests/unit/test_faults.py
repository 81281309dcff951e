"""Which failures are waited out, and which dead-letter the record being processed."""

from __future__ import annotations

import asyncpg
import pytest
from aiokafka.errors import KafkaConnectionError, UnsupportedCodecError

from clearance.adapters.faults import record_fault
from clearance.entrypoints.worker.backoff import Backoff


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (asyncpg.exceptions.InvalidParameterValueError("refused"), "UNSTORABLE_VALUE"),
        (asyncpg.exceptions.CharacterNotInRepertoireError("NUL"), "UNSTORABLE_VALUE"),
        (
            asyncpg.exceptions._base.DataError("invalid input for query argument"),
            "UNSTORABLE_VALUE",
        ),
        (OverflowError("date value out of range"), "UNSTORABLE_VALUE"),
        (KeyError("a bug meeting an unusual order"), "ENGINE_ERROR"),
        (asyncpg.ConnectionDoesNotExistError("closed"), None),
        (asyncpg.exceptions._base.InternalClientError("after a lost connection"), None),
        (asyncpg.exceptions.UndefinedTableError("an operator renamed a table"), None),
        (asyncpg.exceptions.UniqueViolationError("a zombie stored it first"), None),
        (KafkaConnectionError(), None),
        (UnsupportedCodecError(), None),
        (ConnectionResetError(), None),
        (TimeoutError(), None),
    ],
)
def test_a_fault_belongs_to_the_record_only_when_its_value_is_the_cause(
    error: BaseException, code: str | None
) -> None:
    assert record_fault(error) == code


def test_pauses_double_to_a_ceiling_and_reset_on_success() -> None:
    backoff = Backoff()
    pauses = [backoff.failed("database_unavailable") for _ in range(9)]
    assert pauses[:4] == [0.5, 1.0, 2.0, 4.0] and pauses[-1] == Backoff.LONGEST
    assert _failing(backoff) and backoff.seconds >= 0
    backoff.succeeded()
    assert not _failing(backoff) and backoff.failed("x") == Backoff.FIRST


def _failing(backoff: Backoff) -> bool:
    return backoff.failing
