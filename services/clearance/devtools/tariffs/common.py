"""What every tariff importer shares: the provenance of a source, the rows it produces, and the
one way a tariff file is written (so the same input always gives the same bytes).

The file format is read by ``clearance.domain.tariff.parse_tariff``: ``# key: value`` header lines,
a header row, then one tab-separated row per tariff line, sorted by code. Duty forms are written
with ``format_form`` so the engine reads back exactly what the importer meant.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from clearance.domain.tariff import DutyForm, NotComputable, format_form, parse_form

__all__ = [
    "Provenance",
    "Tariff",
    "TariffRow",
    "not_computable",
    "sha256_of",
    "tariff_bytes",
]


@dataclass(frozen=True)
class Provenance:
    """Where a source file comes from (the upstream repository, its commit, the licence)."""

    title: str
    reference: str
    vintage: str
    source: str
    source_commit: str
    licence: str
    not_modelled: str


@dataclass(frozen=True)
class TariffRow:
    """One tariff line as an importer read it."""

    hs: str
    mfn: DutyForm
    preferential: dict[str, DutyForm] = field(default_factory=dict)
    vat: str = ""
    note: str = ""


@dataclass(frozen=True)
class Tariff:
    """A whole imported schedule: its provenance, preference columns and rows."""

    provenance: Provenance
    rows: list[TariffRow]
    preference_columns: tuple[str, ...] = ()
    vat: bool = False
    notes: bool = False


def not_computable(text: str) -> NotComputable:
    """The tariff's own words for a rate the engine cannot compute (tabs and newlines folded)."""
    return NotComputable(" ".join(text.split()))


def sha256_of(paths: Iterable[Path]) -> str:
    """SHA-256 over the bytes of ``paths`` (a folder counts by its files, sorted by name)."""
    digest = hashlib.sha256()
    for path in paths:
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            digest.update(file.read_bytes())
    return digest.hexdigest()


def _cell(text: str) -> str:
    if "\t" in text or "\n" in text:
        raise ValueError(f"a tab or newline in a tariff cell: {text!r}")
    return text


def _written(form: DutyForm, hs: str) -> str:
    """The form's text, checked to read back as the same form (a quoted text only stands
    alone: inside a sum or a season it could contain the separators)."""
    text = format_form(form)
    if parse_form(text) != form:
        raise ValueError(f"{hs}: {text!r} does not read back as written")
    return text


def tariff_bytes(tariff: Tariff, pack_id: str, source_files: Sequence[Path], command: str) -> bytes:
    """The tariff file's bytes: header, column row, rows sorted by code."""
    provenance = tariff.provenance
    columns = ["hs", "mfn", *tariff.preference_columns]
    columns += ["vat"] if tariff.vat else []
    columns += ["note"] if tariff.notes else []
    header = {
        "tariff": pack_id,
        "title": provenance.title,
        "reference": provenance.reference,
        "vintage": provenance.vintage,
        "source": provenance.source,
        "source_file": ", ".join(path.name for path in source_files),
        "source_commit": provenance.source_commit,
        "source_sha256": sha256_of(source_files),
        "licence": provenance.licence,
        "generated_by": command,
        "not_modelled": provenance.not_modelled,
        "lines": str(len(tariff.rows)),
    }
    lines = [f"# {key}: {_cell(' '.join(value.split()))}" for key, value in header.items()]
    lines.append("\t".join(columns))
    for row in sorted(tariff.rows, key=lambda r: r.hs):
        cells = [row.hs, _written(row.mfn, row.hs)]
        cells += [
            _written(row.preferential[c], row.hs) if c in row.preferential else ""
            for c in tariff.preference_columns
        ]
        cells += [row.vat] if tariff.vat else []
        cells += [row.note] if tariff.notes else []
        lines.append("\t".join(_cell(cell) for cell in cells))
    return ("\n".join(lines) + "\n").encode("utf-8")
