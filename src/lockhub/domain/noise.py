"""Noise-sensor rules, as pure functions: when a threshold's daily window is open, which
thresholds a level triggers, NoiseAware's noise risk score, and a virtual sensor's level over
workspace time (docs/design/thermostats-and-noise-sensors.md, sections 1.3 and 3.4).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# `HH:MM:SS`, optionally followed by an IANA zone in brackets (`22:00:00[America/New_York]`).
_TIME_OF_DAY = re.compile(r"^(\d{2}):(\d{2}):(\d{2})(?:\[([^\]]+)\])?$")
DAY = timedelta(days=1)
SLOT_MINUTES = 5

# The virtual sensor's quiet level by local hour (start hour, dB): below every sensible
# threshold, so nothing triggers unless a disturbance is simulated.
BASELINE = ((0, 32.0), (7, 42.0), (9, 38.0), (17, 48.0), (22, 36.0))
HOLD_MINUTES = 5  # a disturbance stays at its peak this long
FALL_PER_MINUTE = 2.0  # then the level falls this many dB a minute


@dataclass(frozen=True)
class TimeOfDay:
    at: time
    zone: ZoneInfo | None


def parse_time_of_day(value: str) -> TimeOfDay:
    """`ValueError` with a message for people when `value` is not `HH:MM:SS[Zone]`."""
    found = _TIME_OF_DAY.match(value.strip())
    if found is None:
        raise ValueError(f"{value!r} is not a time of day such as 22:00:00 or "
                         f"22:00:00[America/Los_Angeles]")
    hours, minutes, seconds, zone_name = found.groups()
    try:
        at = time(int(hours), int(minutes), int(seconds))
    except ValueError:
        raise ValueError(f"{value!r} is not a time of day (hours 00-23, minutes and seconds "
                         f"00-59)") from None
    zone = None
    if zone_name:
        try:
            zone = ZoneInfo(zone_name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{zone_name!r} is not a known time zone") from None
    return TimeOfDay(at, zone)


def window_is_open(starts: str, ends: str, at: datetime, default_zone: ZoneInfo) -> bool:
    """Whether `at` falls in the daily window from `starts` to `ends` (both inclusive to the
    second; a window ending before it starts runs past midnight). Each end is read in its own
    zone, else `default_zone` (the device's)."""
    start, end = parse_time_of_day(starts), parse_time_of_day(ends)
    zone = start.zone or default_zone
    local = at.astimezone(zone)
    opened = datetime.combine(local.date(), start.at, tzinfo=zone)
    if opened > local:
        opened -= DAY
    closes = datetime.combine(opened.date(), end.at, tzinfo=end.zone or default_zone)
    while closes < opened:
        closes += DAY
    return opened <= local < closes + timedelta(seconds=1)


@dataclass(frozen=True)
class Threshold:
    noise_threshold_id: str
    starts_daily_at: str
    ends_daily_at: str
    noise_threshold_decibels: float


def triggering(level: float, thresholds: list[Threshold], at: datetime,
               default_zone: ZoneInfo) -> list[str]:
    """Ids of the thresholds whose window is open at `at` and whose level `level` reaches."""
    return [t.noise_threshold_id for t in thresholds
            if level >= t.noise_threshold_decibels
            and window_is_open(t.starts_daily_at, t.ends_daily_at, at, default_zone)]


def nrs_from_decibels(decibels: float) -> int:
    """NoiseAware's noise risk score (0-100) for a level; lockhub's mapping (NoiseAware
    publishes none): 35 dB is 0, each 0.5 dB above it one point."""
    return max(0, min(100, round((decibels - 35) * 2)))


def decibels_from_nrs(nrs: float) -> float:
    return 35 + nrs / 2


def baseline(device_id: str, at: datetime, zone: ZoneInfo) -> float:
    """The quiet level at `at`: the hour's baseline and a jitter of at most 1.5 dB that is the
    same for a device and 5-minute slot on every run."""
    local = at.astimezone(zone)
    level = next(db for hour, db in reversed(BASELINE) if local.hour >= hour)
    slot = int(at.timestamp() // (SLOT_MINUTES * 60))
    digest = hashlib.sha256(f"{device_id}:{slot}".encode()).digest()
    return level + (int.from_bytes(digest[:4], "big") % 31 - 15) / 10


def level_at(device_id: str, at: datetime, zone: ZoneInfo, *, peak: float | None = None,
             peak_at: datetime | None = None) -> float:
    """The level at `at`, after a disturbance that reached `peak` at `peak_at` (if any): held,
    then falling back to the baseline."""
    quiet = baseline(device_id, at, zone)
    if peak is None or peak_at is None or at < peak_at:
        return quiet
    minutes = (at - peak_at).total_seconds() / 60
    return max(quiet, peak - max(0.0, minutes - HOLD_MINUTES) * FALL_PER_MINUTE)
