"""What-if replay: stored orders under the VN draft decree, compared with what was decided."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from asyncio.subprocess import PIPE
from decimal import Decimal

import asyncpg
import pytest

from clearance.messages import decode_order_event
from clearance.service.assessing import Assessor
from clearance.settings import Settings, to_environment
from factories import encoded, key_of, order
from streams import produce, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("running_worker")]


async def test_replay_under_the_draft_decree_reports_revenue_and_changes(
    settings: Settings, db: asyncpg.Connection
) -> None:
    bodies = [order(n) for n in range(10)]
    for body in bodies:
        body["consignee"]["identity"] = {
            "type": "national_id",
            "number": f"0790000000{body['order_id'][-1]}",
        }
    await produce(settings, "orders.v1", [(key_of(b), encoded(b)) for b in bodies])
    await wait_for(db, "SELECT count(*) FROM decisions", 10)

    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "clearance", "replay", "--pack", "vn-draft-2025",
        "--from", "2026-11-01", "--to", "2026-11-30", "--json",
        env=to_environment(settings), stdout=PIPE, stderr=PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, err.decode()
    report = json.loads(out)
    assert report["parcels"] == 10

    stored = await db.fetchval(
        "SELECT sum(d.duty + d.tax) FROM orders o JOIN decisions d USING (decision_id)"
    )
    assert Decimal(report["revenue"]["VND"]["now"]) == stored
    # the what-if figure is the engine's own answer under that pack, parcel by parcel
    assessor = Assessor(settings.identity_key)
    expected = sum(
        (
            assessor.assess(decode_order_event(encoded(b)), pack_id="vn-draft-2025").decision.duty  # type: ignore[arg-type]
            + assessor.assess(decode_order_event(encoded(b)), pack_id="vn-draft-2025").decision.tax  # type: ignore[arg-type]
            for b in bodies
        ),
        Decimal(0),
    )
    assert Decimal(report["revenue"]["VND"]["what_if"]) == expected
    # USD 50 parcels: dutiable now (over VND 1,000,000), exempt under the draft's VND 2,000,000
    assert Decimal(report["revenue"]["VND"]["difference"]) < 0
    nothing_published = await db.fetchval("SELECT count(*) FROM decisions")
    assert nothing_published == 10


def test_an_unknown_pack_is_a_clear_error(settings: Settings) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "clearance", "replay", "--pack", "atlantis",
         "--from", "2026-11-01", "--to", "2026-11-30"],
        env=to_environment(settings), capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 1 and "atlantis" in result.stderr
