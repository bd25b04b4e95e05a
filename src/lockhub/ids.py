"""Identifiers: UUIDs for everything lockhub creates."""

from __future__ import annotations

import os
import threading
import time
import uuid

_lock = threading.Lock()
_last = (0, 0)  # (millisecond, counter) of the last time-ordered id of this process


def new_id() -> str:
    return str(uuid.uuid4())


def new_request_id() -> str:
    """`request_` and a random (version 4) UUID, formatted without building a uuid.UUID. Seam's
    fake numbers its request ids `request1`, `request2`, ...; suites written against it check
    the `request` prefix, and Seam's cloud sends UUIDs: this is both."""
    h = os.urandom(16).hex()
    return (f"request_{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-"
            f"{h[20:]}")


def new_ordered_id() -> str:
    """A UUIDv7 (RFC 9562): sorts by creation time, and within one millisecond by creation
    order in this process (a 12-bit counter in `rand_a`). Used where ties must break in the
    order things happened, e.g. events listed newest first."""
    global _last
    with _lock:
        ms = time.time_ns() // 1_000_000
        last_ms, counter = _last
        if ms <= last_ms:
            ms, counter = last_ms, counter + 1
            if counter > 0xFFF:  # more than 4096 ids in one millisecond: borrow the next one
                ms, counter = ms + 1, 0
        else:
            counter = 0
        _last = (ms, counter)
    rand_b = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (ms << 80) | (0x7 << 76) | (counter << 64) | (0b10 << 62) | rand_b
    return str(uuid.UUID(int=value))
