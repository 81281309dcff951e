"""``clearance tariff import``: national tariffs from the public schedules in ``../shared/data``
into each pack's ``tariff.tsv`` (read by ``clearance.domain.tariff``).

One reader per source format; each returns a ``Tariff`` (provenance and rows) and
``common.tariff_bytes`` writes it, always the same bytes for the same input.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Final

from clearance.devtools.tariffs.common import Tariff, tariff_bytes
from clearance.devtools.tariffs.eu import read_eu
from clearance.devtools.tariffs.gb import read_gb
from clearance.devtools.tariffs.jp import read_jp
from clearance.devtools.tariffs.us import read_us
from clearance.devtools.tariffs.vn import read_vn

__all__ = ["SOURCES", "TARIFF_FILE", "build_tariff"]

TARIFF_FILE: Final = "tariff.tsv"

SOURCES: Final[dict[str, tuple[Callable[[list[Path]], Tariff], str]]] = {
    "vn": (read_vn, "vn/hs_tariff_2026.json"),
    "us": (read_us, "us_hts/hts_2026_rev_10.json.gz"),
    "eu": (read_eu, "eu/cnCodes_2026.json eu/eu_cet_2020_mfn_from_ukgt_comparison.csv"),
    "gb": (read_gb, "uk/ukgt_2021_vs_eu_cet.csv"),
    "jp": (read_jp, "jp/tariffdata"),
}
"""Source format -> (reader, the file(s) it reads under ../shared/data)."""


def build_tariff(source: str, files: list[Path], pack_id: str) -> bytes:
    """The tariff file of ``pack_id`` from ``files`` in format ``source``."""
    reader, expected = SOURCES[source]
    if len(files) != len(expected.split()):
        raise ValueError(f"{source} reads {len(expected.split())} file(s): {expected}")
    command = f"clearance tariff import {source} {' '.join(p.name for p in files)} --pack {pack_id}"
    return tariff_bytes(reader(files), pack_id, files, command)
