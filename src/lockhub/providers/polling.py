"""What cloud providers that poll share: the interval setting, and turning a fresh device list
into the reports its differences mean."""

from __future__ import annotations

import os

from lockhub.providers.base import DeviceListReport, DeviceSnapshot, DeviceStateReport, Report


def poll_seconds(variable: str, default: float) -> float:
    """The poll interval from `variable` (seconds; at least 0.05), or `default`."""
    try:
        return max(0.05, float(os.environ.get(variable, default)))
    except ValueError:
        return default


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
