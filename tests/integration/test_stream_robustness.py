"""No input can stop the stream: 3,000 orders with poison mixed in, two worker processes, and
PostgreSQL restarted in the middle.

Every valid order is decided exactly once (those with dates that once stopped the worker, or a
date before the pack's first rule, are decided too: held, saying what is missing); every poison
order is dead-lettered under one id with its code and without personal data; no worker exits;
every stored decision is published. A database trigger plays a database that refuses one order's
value, which the edge cannot foresee: that order alone is dead-lettered, its batch goes on.
"""

from __future__ import annotations

import asyncio
import hashlib
import signal
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from clearance.adapters.kafka import ensure_topics
from clearance.adapters.postgres import migrate
from clearance.devtools.devstack import EmbeddedPostgres, embedded_postgres_server
from clearance.messages import (
    DEAD_LETTER_MAX_BYTES,
    DeadLetter,
    decode_dead_letter,
    decode_decision,
)
from factories import encoded, key_of, order
from streams import produce, read_topic, settings_for, start_worker_process, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ORDERS = 3_000
#: Personal data the poison orders carry; none of it may reach the dead-letter topic.
NAME, PHONE, IDENTITY, STREET = "Tran Thi Poison", "+84999999999", "079123456789", "7 Hang Bac"

REFUSE_SELLER = """
CREATE FUNCTION refuse_seller() RETURNS trigger AS $$
BEGIN
  IF NEW.seller_id = 'refused-by-the-database' THEN
    RAISE EXCEPTION 'value refused' USING ERRCODE = '22023';
  END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER refuse_seller BEFORE INSERT OR UPDATE ON orders
  FOR EACH ROW EXECUTE FUNCTION refuse_seller();
"""


def _personal(n: int, **changes: Any) -> dict[str, Any]:
    body = order(n, **changes)
    body["consignee"] = {
        **body["consignee"],
        "name": NAME,
        "phone": PHONE,
        "identity": {"type": "national_id", "number": IDENTITY},
        "address": {"line1": STREET, "city": "Ha Noi"},
    }
    return body


def _decided_odd(k: int, n: int) -> tuple[str, dict[str, Any]]:
    """Valid orders that once stopped the worker: decided (held), never dead-lettered."""
    kind = k % 3
    if kind == 0:
        body = _personal(n, occurred_at="0001-01-01T00:00:00Z", currency="VND")
        body["transport"] = {**body["transport"], "arrival_date": None}
        return "year-1", body
    if kind == 1:
        body = _personal(n, occurred_at="1900-01-01T00:00:00+07:00", currency="VND")
        body["transport"] = {**body["transport"], "arrival_date": None}
        return "year-1900", body
    body = _personal(
        n,
        destination_country="SG",
        currency="SGD",
        occurred_at="1990-06-03T10:00:00+08:00",
        transport={"mode": "post"},
    )
    return "pack-gap", body


def _poison(k: int, n: int) -> tuple[str, bytes, str]:
    """(kind, record value, expected dead-letter code) of the ``k``th poison, order ``n``."""
    kind = k % 7
    if kind == 6:  # 10000-01-01 in UTC: no database stores it
        body = _personal(n, occurred_at="9999-12-31T23:59:59-12:00")
        return "beyond-9999", encoded(body), "UNSTORABLE_VALUE"
    if kind == 0:
        return "nul-order-id", encoded(_personal(n, order_id=f"ORD-\u0000{n}")), "UNSTORABLE_VALUE"
    if kind == 1:
        body = _personal(n)
        body["seller"] = {**body["seller"], "id": "seller\u0000"}
        return "nul-seller-id", encoded(body), "UNSTORABLE_VALUE"
    if kind == 2:
        return "revision", encoded(_personal(n, revision=2_147_483_648)), "SCHEMA_VIOLATION"
    if kind == 3:
        big = _personal(n, notes="x" * (2 * 1024 * 1024))
        return "two-megabytes", encoded(big), "PAYLOAD_TOO_LARGE"
    if kind == 4:
        text = (
            f'{{"type":"order.placed","order_id":"ORD-{n}","consignee":{{"name":"{NAME}"'.encode()
        )
        return "not-json", text, "MALFORMED_JSON"
    body = _personal(n)
    body["seller"] = {**body["seller"], "id": "refused-by-the-database"}
    return "refused-by-database", encoded(body), "UNSTORABLE_VALUE"


def _stream() -> tuple[list[tuple[bytes, bytes]], int, dict[str, str]]:
    """The records, how many must be decided, and each poison's expected code by sha256."""
    records: list[tuple[bytes, bytes]] = []
    decided = 0
    poison: dict[str, str] = {}
    for n in range(ORDERS):
        if n % 50 == 7:
            _, value, code = _poison(n // 50, n)
            records.append((f"shopmart:buyer-{n % 97}".encode(), value))
            poison[hashlib.sha256(value).hexdigest()] = code
        elif n % 50 == 31:
            _, body = _decided_odd(n // 50, n)
            records.append((key_of(body), encoded(body)))
            decided += 1
        else:
            body = order(n)
            records.append((key_of(body), encoded(body)))
            decided += 1
    return records, decided, poison


@pytest.fixture
def own_database() -> Iterator[EmbeddedPostgres]:
    """A PostgreSQL server of this test's own, so restarting it disturbs no other test (in a
    directory of its own: pytest's are private to root, and pg_ctl runs as the server's user)."""
    with embedded_postgres_server() as server:
        yield server


async def test_poison_and_a_database_restart_stop_nothing(
    own_database: EmbeddedPostgres, kafka_bootstrap: str, unique_name: str, tmp_path: Path
) -> None:
    settings = settings_for(kafka_bootstrap, own_database.uri, unique_name)
    await migrate(own_database.uri, schema=unique_name)
    await ensure_topics(settings)
    setup = await asyncpg.connect(own_database.uri, server_settings={"search_path": unique_name})
    await setup.execute(REFUSE_SELLER)
    await setup.close()

    records, expected, poison = _stream()
    logs = [tmp_path / f"worker-{i}.log" for i in range(2)]
    workers = [start_worker_process(settings, log) for log in logs]
    try:
        await produce(settings, "orders.v1", records[: ORDERS // 2])
        db = await asyncpg.connect(own_database.uri, server_settings={"search_path": unique_name})
        await wait_for(db, "SELECT count(*) FROM decisions", expected // 4, within=90)
        await db.close()
        await asyncio.to_thread(own_database.restart)  # connections cut mid-stream
        await produce(settings, "orders.v1", records[ORDERS // 2 :])
        db = await asyncpg.connect(own_database.uri, server_settings={"search_path": unique_name})
        stored = await wait_for(db, "SELECT count(*) FROM decisions", expected, within=180)
        running = [worker.poll() is None for worker in workers]
        duplicates = await db.fetch(
            "SELECT platform, order_id, shipment_id, decision_revision FROM decisions"
            " GROUP BY 1, 2, 3, 4 HAVING count(*) > 1"
        )
        held = await db.fetch(
            "SELECT body::text AS body FROM decisions WHERE body::text LIKE '%RULE_NOT_IN_FORCE%'"
        )
        await db.close()
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
        exits = [worker.wait(timeout=30) for worker in workers]
    if not all(running) or exits != [0, 0]:
        for log in logs:
            print(log.read_text()[-5000:])
    assert running == [True, True], "a worker process exited"
    assert exits == [0, 0]
    assert stored == expected
    assert duplicates == []
    assert len(held) == ORDERS // 50, "each odd-date or pack-gap order is held, saying why"

    published = await read_topic(settings, "decisions.v1", expected, within=60)
    assert {decode_decision(r.value).decision_id for r in published} == set(
        await _stored_ids(own_database.uri, unique_name)
    )

    dead = await read_topic(settings, "orders.v1.dlt", len(poison), within=60)
    letters: dict[object, DeadLetter] = {}
    for record in dead:
        assert len(record.value) < DEAD_LETTER_MAX_BYTES
        for secret in (NAME, PHONE, IDENTITY, STREET):
            assert secret.encode() not in record.value, secret
        letter = decode_dead_letter(record.value)
        letters.setdefault(letter.dead_letter_id, letter)
    codes = Counter(letter.error.code for letter in letters.values())
    assert {letter.payload_sha256: letter.error.code for letter in letters.values()} == poison
    assert codes == Counter(poison.values())
    print(f"\n{expected} decided, {len(letters)} dead letters ({len(dead)} records)", dict(codes))


async def _stored_ids(uri: str, schema: str) -> list[Any]:
    db = await asyncpg.connect(uri, server_settings={"search_path": schema})
    try:
        return [row["decision_id"] for row in await db.fetch("SELECT decision_id FROM decisions")]
    finally:
        await db.close()
