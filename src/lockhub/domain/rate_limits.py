"""Per-device guardrails (Seam's documented limits, per device per minute)."""

from __future__ import annotations

import os

WINDOW_SECONDS = 60

PER_DEVICE_PER_MINUTE: dict[str, int] = {
    "LOCK_DOOR": 15,
    "UNLOCK_DOOR": 15,
    "CREATE_ACCESS_CODE": 10,
    "UPDATE_ACCESS_CODE": 10,
    "DELETE_ACCESS_CODE": 20,
}


def limit_for(action_type: str) -> int | None:
    """The per-minute limit for an action, or None. An operator may switch the guardrails off
    (LOCKHUB_RATE_LIMITS=off), e.g. for load tests of their own deployment."""
    if os.environ.get("LOCKHUB_RATE_LIMITS", "on").lower() == "off":
        return None
    return PER_DEVICE_PER_MINUTE.get(action_type)
