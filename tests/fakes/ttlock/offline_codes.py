"""Generated ("offline", "random") passcodes: what `keyboardPwd/get` accepts and which entries
the lock then honours.

The real algorithm is a secret shared by the cloud and the lock; the fake derives a code from a
hash so it is deterministic per (lock, type, window). The rules are the documented ones
(https://open.sciener.com/doc/api/v3/keyboardPwd/get, help.33lock.com/passcode-types):
windows in whole hours of the lock's time zone; a one-time code works once within 6 h of its
start; permanent and period codes must be used once within 24 h of the start or are
suspended; cyclic codes work on their weekdays between the start's and the end's hour.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from tests.fakes.ttlock import errors

if TYPE_CHECKING:
    from tests.fakes.ttlock.world import Passcode

HOUR_MS = 3_600_000
ONE_TIME, PERMANENT, PERIOD, DELETE = 1, 2, 3, 4
CYCLIC_DAYS = {5: {5, 6}, 6: set(range(7)), 7: {0, 1, 2, 3, 4},
               **{kind: {kind - 8} for kind in range(8, 15)}}  # Monday is 0


def check_request(kind: int, start_ms: int, end_ms: int, tz_offset_ms: int) -> None:
    """The fake's -3 for a request the real cloud documents as invalid."""
    if not 1 <= kind <= 14:
        raise errors.TTLockError(errors.INVALID_PARAMETER)
    for value in (start_ms, end_ms):
        if value and (value + tz_offset_ms) % HOUR_MS:
            raise errors.TTLockError(errors.INVALID_PARAMETER)
    if not start_ms:
        raise errors.TTLockError(errors.INVALID_PARAMETER)
    if (kind == PERIOD or kind in CYCLIC_DAYS) and end_ms <= start_ms:
        raise errors.TTLockError(errors.INVALID_PARAMETER)


def generate(lock_id: int, kind: int, start_ms: int, end_ms: int, taken: set[str]) -> str:
    """6 to 9 digits, the same for the same request, never a code the lock already has."""
    attempt = 0
    while True:
        digest = hashlib.sha256(f"{lock_id}:{kind}:{start_ms}:{end_ms}:{attempt}".encode())
        number = int.from_bytes(digest.digest()[:8], "big")
        length = 6 + number % 4
        code = str(number // 4 % 10**length).zfill(length)
        if code not in taken:
            return code
        attempt += 1


def accepts(passcode: Passcode, at_ms: int, tz_offset_ms: int = 0) -> bool:
    """Whether the lock opens for this stored passcode at `at_ms` (lock time rules)."""
    start, end, first = passcode.start_ms, passcode.end_ms, passcode.first_used_ms
    if passcode.is_custom:
        return (start == 0 and end == 0) or start <= at_ms < end
    if at_ms < start:
        return False
    activated = first is not None or at_ms < start + 24 * HOUR_MS
    if passcode.type == ONE_TIME:
        return first is None and at_ms < start + 6 * HOUR_MS
    if passcode.type in (PERMANENT, DELETE):
        return activated
    if passcode.type == PERIOD:
        return at_ms < end and activated
    if at_ms >= end and end:
        return False
    def local(ms: int) -> datetime:
        return datetime.fromtimestamp((ms + tz_offset_ms) / 1000, UTC)

    now = local(at_ms)
    return (now.weekday() in CYCLIC_DAYS[passcode.type]
            and local(start).hour <= now.hour < local(end).hour)
