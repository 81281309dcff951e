"""Who sees what: API keys (bearer tokens whose SHA-256 alone is stored, each with a role and, for
a platform, its platform), and the decision as a platform may read it (``platform_view``).

A token looks like ``ck_<key id>_<secret>``: the key id (8 hex characters) is public and names the
key in logs and in ``clearance keys revoke``; the secret is 256 random bits, shown once.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Final, Literal

import msgspec
from msgspec import Struct

from clearance.messages import Channel, ClearanceDecision, Reason, Risk

__all__ = [
    "CUSTOMS_CONTROL",
    "RISK_REASONS",
    "ROLES",
    "ApiKey",
    "NewKey",
    "hash_token",
    "key_id_of",
    "platform_view",
    "token_matches",
]

Role = Literal["platform", "officer", "admin"]
ROLES: Final = ("platform", "officer", "admin")
_TOKEN: Final = re.compile(r"^ck_([0-9a-f]{8})_[A-Za-z0-9_-]{20,}$")


class ApiKey(Struct, frozen=True, kw_only=True):
    """Who is calling: a platform (its own orders only), an officer, or an admin."""

    key_id: str
    role: Role
    platform: str | None = None


class NewKey(Struct, frozen=True, kw_only=True):
    """A key just made: the token is shown once, only its hash is stored."""

    key: ApiKey
    token: str
    token_hash: str


def hash_token(token: str) -> str:
    """What is stored for a token (SHA-256, hex): a leaked table reveals no usable key."""
    return hashlib.sha256(token.encode()).hexdigest()


def key_id_of(token: str) -> str | None:
    """The key id inside a well-formed token, else None."""
    match = _TOKEN.match(token)
    return match.group(1) if match else None


def token_matches(token: str, stored_hash: str) -> bool:
    """Constant-time comparison of a presented token with the stored hash."""
    return hmac.compare_digest(hash_token(token), stored_hash)


#: Reasons that tell how risk is scored (which signals fire, whether the parcel was drawn): an
#: officer's business. A platform told them could tune its declarations until nothing fires.
RISK_REASONS: Final = frozenset({"RISK_SCORE", "COMPLIANCE_SAMPLE", "HS_CODE_MISMATCH"})

#: What a platform reads instead of the risk reasons of a parcel customs holds.
CUSTOMS_CONTROL: Final = Reason(
    code="CUSTOMS_CONTROL",
    message="customs will examine this parcel before it is released; nothing is needed from you",
)


def platform_view(decision: ClearanceDecision) -> ClearanceDecision:
    """The decision as a platform sees it: the outcome, the amounts and the reasons it must act on;
    not the risk score, signals or channel (held parcels read ``yellow``, refused ``red``, others
    ``green``), and one neutral ``CUSTOMS_CONTROL`` reason in place of the risk reasons."""
    reasons = [reason for reason in decision.reasons if reason.code not in RISK_REASONS]
    if len(reasons) < len(decision.reasons) and decision.status == "hold":
        reasons.append(CUSTOMS_CONTROL)
    if decision.status in ("release", "release_on_payment", "cancelled"):
        channel: Channel = "green"
    else:
        channel = "red" if decision.status == "refuse" else "yellow"
    return msgspec.structs.replace(decision, risk=Risk(score=0), channel=channel, reasons=reasons)
