"""Offline checks against the signed revocation list (the one certificates use)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tongban.codes.token import Payload


def check_revocations(rl: Any, public_keys: Mapping[str, str], payload: Payload) -> bool:
    """Is the code revoked in `rl`? ValueError if the list is not validly signed."""
    from tongban.services.certificates import verify_revocation_list

    if not isinstance(rl, dict) or not verify_revocation_list(rl, public_keys):
        raise ValueError("the revocation list is not signed by a known key")
    return any(isinstance(r, dict) and r.get("identifier") == payload.identifier for r in rl["revoked"])
