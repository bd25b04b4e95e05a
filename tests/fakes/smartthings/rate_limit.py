"""The per-device rate limit: 12 requests a minute per device for reading its state and sending
it commands (developer.smartthings.com "Rate Limits", device row as summarised by
api-evangelist/smartthings), answered with 429 `TooManyRequestError` whose detail message says
"attempt N limit L - retry in M millis" (a captured answer quoted in
o-lukas/homebridge-smartthings-tv#440) and `X-RateLimit-Limit/-Remaining/-Reset` headers.

Windows are fixed, one minute long, on the fake's clock, so tests move past them with
`clock.advance` rather than waiting.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from lockhub.clock import ManualClock

WINDOW = timedelta(minutes=1)


@dataclass
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset_ms: int  # until the window ends
    attempt: int

    def headers(self) -> dict[str, str]:
        return {"X-RateLimit-Limit": str(self.limit),
                "X-RateLimit-Remaining": str(self.remaining),
                "X-RateLimit-Reset": str(self.reset_ms)}


class DeviceRateLimiter:
    def __init__(self, clock: ManualClock, per_minute: int = 12) -> None:
        self.clock = clock
        self.per_minute = per_minute
        self.mutex = threading.Lock()
        self.windows: dict[str, tuple[datetime, int]] = {}  # device -> (window start, count)

    def hit(self, device_id: str) -> Verdict:
        with self.mutex:
            now = self.clock.now()
            start, count = self.windows.get(device_id, (now, 0))
            if now - start >= WINDOW:
                start, count = now, 0
            count += 1
            self.windows[device_id] = (start, count)
            reset_ms = max(0, int((start + WINDOW - now).total_seconds() * 1000))
            return Verdict(count <= self.per_minute, self.per_minute,
                           max(0, self.per_minute - count), reset_ms, count)
