"""Time comes from one injected clock so tests and sandbox workspaces can control it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to; used by tests."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)


def iso(value: datetime) -> str:
    """Seam's timestamp format: UTC with milliseconds and a Z."""
    # isoformat is C code (about twice as fast as strftime); it ends in "+00:00" here.
    return value.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "Z"
