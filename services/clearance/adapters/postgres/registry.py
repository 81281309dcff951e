"""The administration's AEO registry: replaced whole by ``clearance aeo load``, read by the worker
(through ``ParcelStore.risk_history``) and by ``clearance aeo list``."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from clearance.domain.aeo import AeoCertificate, AeoRegistration

__all__ = ["AeoRegistry"]


class AeoRegistry:
    """The ``aeo_certificates`` table."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def replace_registry(self, registrations: Sequence[AeoRegistration]) -> int:
        """Make ``registrations`` the whole registry, in one transaction (a reader sees the old
        registry or the new one, never half of each); returns how many rows it holds."""
        rows = [
            (
                r.certificate.number,
                r.platform,
                r.seller_id,
                r.certificate.valid_from,
                r.certificate.valid_until,
                r.issued_by,
            )
            for r in registrations
        ]
        async with self.pool.acquire() as connection, connection.transaction():
            await connection.execute("DELETE FROM aeo_certificates")
            if rows:
                await connection.copy_records_to_table(
                    "aeo_certificates",
                    records=rows,
                    columns=[
                        "certificate",
                        "platform",
                        "seller_id",
                        "valid_from",
                        "valid_until",
                        "issued_by",
                    ],
                )
        return len(rows)

    async def registry(self) -> list[AeoRegistration]:
        """Every registration, by platform, seller and certificate."""
        async with self.pool.acquire() as connection:
            rows = await connection.fetch(
                "SELECT certificate, platform, seller_id, valid_from, valid_until, issued_by"
                " FROM aeo_certificates ORDER BY platform, seller_id, certificate"
            )
        return [
            AeoRegistration(
                platform=row["platform"],
                seller_id=row["seller_id"],
                certificate=AeoCertificate(
                    number=row["certificate"],
                    valid_from=row["valid_from"],
                    valid_until=row["valid_until"],
                ),
                issued_by=row["issued_by"],
            )
            for row in rows
        ]
