"""HS codes in the engine: suggest one where the order has none, question one that contradicts
its description.

- An item without a code is classified. From the pack's ``suggested_hs_code_min_confidence`` on,
  the assessment uses the suggestion and says so (``HS_CODE_SUGGESTED``: the code, its confidence
  and the alternatives); below it, or when the pack needs a national line that its tariff cannot
  tell apart, the item stays without a code and the parcel needs it (``MISSING_HS_CODE``).
- An item whose declared code is in another chapter than a confident suggestion, and in none of
  the five candidates' headings, raises the risk signal ``HS_CODE_MISMATCH`` (weighted by the
  pack) with a reason naming both codes. The declared code is still the one assessed: a
  classifier's opinion never silently replaces a declaration.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec
from msgspec import Struct

from clearance.domain.hs import HsClassifier, HsSuggestion
from clearance.domain.hs.text import words
from clearance.domain.packs import RulePack
from clearance.messages import Item, OrderAmended, OrderPlaced, Reason

__all__ = ["HS_CODE_MISMATCH", "HS_CODE_SUGGESTED", "Classified", "classify_items"]

HS_CODE_SUGGESTED = "HS_CODE_SUGGESTED"
HS_CODE_MISMATCH = "HS_CODE_MISMATCH"
_CANDIDATES = 5

Order = OrderPlaced | OrderAmended


class Classified(Struct, frozen=True, kw_only=True):
    """The order to assess (suggested codes filled in), the reasons, and the risk signals."""

    order: OrderPlaced | OrderAmended
    reasons: tuple[Reason, ...] = ()
    signals: tuple[str, ...] = ()


def classify_items(order: Order, pack: RulePack, classifier: HsClassifier | None) -> Classified:
    """Suggested codes for items without one, mismatches for items with one (see module)."""
    if classifier is None:
        return Classified(order=order)
    items: list[Item] = []
    reasons: list[Reason] = []
    mismatched = False
    for position, item in enumerate(order.items, start=1):
        line_id = item.line_id or position
        found = classifier.suggest(item.description, item.category, _CANDIDATES)
        if item.hs_code is None:
            code, reason = _suggested(item, line_id, found, pack)
            if code is not None:
                item = msgspec.structs.replace(item, hs_code=code)
            if reason is not None:
                reasons.append(reason)
        else:
            reason = _mismatch(item.hs_code, line_id, found, pack)
            if reason is not None:
                reasons.append(reason)
                mismatched = True
        items.append(item)
    if not reasons:
        return Classified(order=order)
    return Classified(
        order=msgspec.structs.replace(order, items=items),
        reasons=tuple(reasons),
        signals=(HS_CODE_MISMATCH,) if mismatched else (),
    )


def _suggested(
    item: Item, line_id: int, found: Sequence[HsSuggestion], pack: RulePack
) -> tuple[str | None, Reason | None]:
    """The code to assess an item without one with, and the reason that says so."""
    threshold = pack.requirements.suggested_hs_code_min_confidence
    if threshold is None or not pack.requirements.hs_code or not found:
        return None, None
    best = found[0]
    if best.confidence < threshold:
        return None, None
    code = national_line(best.hs_code, item.description, pack)
    if code is None:
        return None, None
    alternatives = ", ".join(f"{s.hs_code} ({s.confidence:.2f})" for s in found[1:3])
    message = (
        f"line {line_id} has no HS code; assessed as {code} ({best.description}), suggested "
        f"from its description at confidence {best.confidence:.2f} (at least {threshold:.2f} "
        f"is accepted)" + (f"; alternatives: {alternatives}" if alternatives else "")
    )
    reason = Reason(
        code=HS_CODE_SUGGESTED,
        message=message,
        reference=pack.requirements.reference or None,
        line_id=line_id,
    )
    return code, reason


def national_line(hs6: str, description: str, pack: RulePack) -> str | None:
    """The code at the pack's required length: the subheading itself when six digits do, else
    the one national line of the pack's tariff under it, or the one whose description shares
    most words with the item's; ``None`` when the tariff cannot tell."""
    digits = pack.requirements.hs_code_min_digits
    if digits <= 6:
        return hs6
    national = pack.duty.table.national
    if national is not None:  # the national schedule knows every line, but not their texts
        codes = [line.hs for line in national.leaves_under(hs6) if len(line.hs) >= digits]
        if len(codes) == 1:
            return codes[0]
    lines = [line for line in pack.duty.table.lines_under(hs6) if len(line.hs) >= digits]
    if len(lines) == 1:
        return lines[0].hs
    wanted = set(words(description))
    overlaps = sorted(
        ((len(wanted & set(words(line.description))), line.hs) for line in lines), reverse=True
    )
    if overlaps and overlaps[0][0] > 0 and (len(overlaps) == 1 or overlaps[1][0] < overlaps[0][0]):
        return overlaps[0][1]
    return None


def _mismatch(
    declared: str, line_id: int, found: Sequence[HsSuggestion], pack: RulePack
) -> Reason | None:
    """A reason when the description strongly points elsewhere than the declared code."""
    if not found:
        return None
    best = found[0]
    if best.confidence < pack.risk.hs_mismatch_min_confidence:
        return None
    if best.hs_code[:2] == declared[:2] or any(s.hs_code[:4] == declared[:4] for s in found):
        return None
    return Reason(
        code=HS_CODE_MISMATCH,
        message=(
            f"line {line_id}: declared HS {declared} but the description reads as "
            f"{best.hs_code} ({best.description}) at confidence {best.confidence:.2f}; "
            "the declared code is assessed, an officer may check it"
        ),
        line_id=line_id,
    )
