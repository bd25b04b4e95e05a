"""Per-device guardrails (Seam's documented limits, per device per minute)."""

from __future__ import annotations

WINDOW_SECONDS = 60

PER_DEVICE_PER_MINUTE: dict[str, int] = {
    "LOCK_DOOR": 15,
    "UNLOCK_DOOR": 15,
    "CREATE_ACCESS_CODE": 10,
    "UPDATE_ACCESS_CODE": 10,
    "DELETE_ACCESS_CODE": 20,
}
