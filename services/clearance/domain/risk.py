"""Risk score and channel: a minimal honest version until issue #7 (risk engine) lands.

The score is the sum of the pack's weights for the signals raised here (screening hits and missing
data), capped at 100. Undervaluation, velocity, seller history, the threshold cliff and the seeded
compliance sample come with issue #7; ``SellerHistory`` in the context is their extension point.
"""

from __future__ import annotations

from collections.abc import Sequence

from clearance.domain.packs import RulePack
from clearance.domain.screening import ScreeningHit
from clearance.messages import Channel, Reason, Risk

__all__ = ["channel_for", "risk_for"]


def risk_for(pack: RulePack, hits: Sequence[ScreeningHit], problems: Sequence[Reason]) -> Risk:
    """Signals (in a stable order, no duplicates) and their weighted score."""
    signals: list[str] = []
    for hit in hits:
        signals.append(
            "SCREENING_PROHIBITED" if hit.kind == "prohibited" else "SCREENING_RESTRICTED"
        )
    signals.extend(problem.code for problem in problems)
    unique = list(dict.fromkeys(signals))
    score = min(100, sum(pack.risk_weights.get(signal, 0) for signal in unique))
    return Risk(score=score, signals=unique)


def channel_for(hits: Sequence[ScreeningHit], needs_information: bool) -> Channel:
    """Red for prohibited goods, yellow for restricted goods or missing data, else green."""
    if any(hit.kind == "prohibited" for hit in hits):
        return "red"
    if hits or needs_information:
        return "yellow"
    return "green"
