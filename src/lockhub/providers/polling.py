"""What cloud providers that poll share: the interval setting, the loop that polls one account,
and turning a fresh device list into the reports its differences mean."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import TypeVar

from lockhub.providers.base import (
    ConnectionReport,
    CredentialsRefused,
    DeviceListReport,
    DeviceSnapshot,
    DeviceStateReport,
    ProviderError,
    Report,
    ReportSink,
)

T = TypeVar("T")
REFUSED = frozenset({"account_disconnected"})


def poll_seconds(variable: str, default: float) -> float:
    """The poll interval from `variable` (seconds; at least 0.05), or `default`."""
    try:
        return max(0.05, float(os.environ.get(variable, default)))
    except ValueError:
        return default


async def poll_account(sink: ReportSink, *, interval: float,
                       listing: Callable[[], Awaitable[list[T]]],
                       changes: Callable[[list[T]], list[Report]],
                       events: Callable[[list[T]], Awaitable[list[Report]]],
                       on_connect: Callable[[list[T]], Awaitable[None]] | None = None,
                       refused: frozenset[str] = REFUSED) -> None:
    """Poll one account until cancelled. The first `listing` that succeeds is the connection
    (`on_connect`, then `ConnectionReport`); each pass then reports what `changes` makes of the
    listing and the devices' new `events`, sleeps `interval` and lists again.

    A brand's refusal (an error type in `refused`, not retryable) raises CredentialsRefused,
    since retrying cannot help; any other ProviderError ends the connection and the engine
    reconnects with backoff."""
    try:
        items = await listing()
        if on_connect is not None:
            await on_connect(items)
        await sink(ConnectionReport(connected=True))
        while True:
            for report in changes(items):
                await sink(report)
            for report in await events(items):
                await sink(report)
            await asyncio.sleep(interval)
            items = await listing()
    except CredentialsRefused:
        raise
    except ProviderError as exc:
        if exc.error_type in refused and not exc.retryable:
            raise CredentialsRefused(exc.message) from exc
        raise


class ReportedDevices:
    """What one connection last reported of each device: the first list is reported whole,
    later ones by their differences."""

    def __init__(self) -> None:
        self.snapshots: dict[str, DeviceSnapshot] | None = None

    def changes(self, snapshots: list[DeviceSnapshot]) -> list[Report]:
        if self.snapshots is None:
            self.snapshots = {s.provider_device_id: s for s in snapshots}
            return [DeviceListReport(devices=snapshots)]
        return snapshot_changes(snapshots, self.snapshots)

    def state(self, snapshot: DeviceSnapshot) -> list[Report]:
        """One device's state as the brand pushed it: a report if it changed."""
        if self.snapshots is None or snapshot.provider_device_id not in self.snapshots or \
                self.snapshots[snapshot.provider_device_id] == snapshot:
            return []
        self.snapshots[snapshot.provider_device_id] = snapshot
        return [DeviceStateReport(snapshot=snapshot)]


def snapshot_changes(snapshots: list[DeviceSnapshot],
                     reported: dict[str, DeviceSnapshot]) -> list[Report]:
    """The whole list when devices came or went, else a state report per changed device;
    `reported` (what this connection last reported) is updated."""
    if {s.provider_device_id for s in snapshots} != set(reported):
        reported.clear()
        reported.update({s.provider_device_id: s for s in snapshots})
        return [DeviceListReport(devices=snapshots)]
    changed: list[Report] = []
    for snap in snapshots:
        if reported.get(snap.provider_device_id) != snap:
            reported[snap.provider_device_id] = snap
            changed.append(DeviceStateReport(snapshot=snap))
    return changed
