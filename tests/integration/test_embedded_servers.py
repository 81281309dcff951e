"""Smoke tests: the embedded servers the whole suite stands on really work."""

from __future__ import annotations

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

pytestmark = pytest.mark.integration


async def test_postgres_accepts_a_table_and_a_row(database_url: str, unique_name: str) -> None:
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute(f"CREATE TABLE {unique_name} (id int PRIMARY KEY, note text)")
        await connection.execute(f"INSERT INTO {unique_name} VALUES (1, 'hello')")
        assert await connection.fetchval(f"SELECT note FROM {unique_name} WHERE id = 1") == "hello"
    finally:
        await connection.execute(f"DROP TABLE IF EXISTS {unique_name}")
        await connection.close()


async def test_broker_round_trips_a_keyed_message_with_headers(
    kafka_bootstrap: str, unique_name: str
) -> None:
    topic = f"{unique_name}.smoke"
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])
    finally:
        await admin.close()

    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, enable_idempotence=False)
    await producer.start()
    try:
        headers = [
            ("message-type", b"order.placed"),
            ("traceparent", b"00-" + b"a" * 32 + b"-" + b"b" * 16 + b"-01"),
        ]
        sent = await producer.send_and_wait(topic, b'{"hello":1}', key=b"shop:c1", headers=headers)
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka_bootstrap,
        group_id=unique_name,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=1000,
        heartbeat_interval_ms=200,
        fetch_max_wait_ms=20,
    )
    await consumer.start()
    try:
        record = await consumer.getone()
        await consumer.commit()
    finally:
        await consumer.stop()
    assert record.partition == sent.partition
    assert record.key == b"shop:c1"
    assert record.value == b'{"hello":1}'
    assert list(record.headers) == headers
