"""Offline access codes: the window a maker's server will issue a generated PIN for, and what
the holder must know about it (pure: no I/O).

A generated PIN is derived by the maker's server from the lock's secret and the window; the
lock recognises it without being told. So the window must be one the server accepts, and is
fixed once issued. The rules are data (`offline_code_rules` of the catalogue model, refined by
what the provider reports of the lock), never a brand's name:

- Windows are whole hours. `max_time_rounding` ("1h"/"1hour", the default, or "1d"/"1day")
  widens the window to the hour or to whole days: `starts_at` down, `ends_at` up, so the holder
  is never locked out of the time asked for. A `starts_at` in the past counts from now (a maker's
  server refuses past starts).
- `hourly_max_hours`: the longest hour-bound code; longer ones need `1d` rounding, which asks
  for a day-bound code of `daily_min_days`..`daily_max_days` (the start and end at the same time
  of day).
- `one_time_valid_hours`: a one-time code works once, within that many hours of its start;
  that is its window (an `ends_at` given must match it).
- `permanent`: the server issues codes without an end (an ongoing offline code).
- `first_use_within_hours` / `first_use_warning`: a code longer than that must be entered once
  within that many hours of its start or the lock suspends it; the code carries the warning.
- `counts_against_capacity`: generated PINs share the lock's `max_active_codes_supported`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import msgspec

from lockhub.catalogue import DeviceModel

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
Rounding = Literal["hour", "day"]
ROUNDINGS: dict[str, Rounding] = {"1h": "hour", "1hour": "hour", "1d": "day", "1day": "day"}
NOT_REMOVABLE_WARNING = "offline_access_code_cannot_be_removed_remotely"


class OfflineCodeRules(msgspec.Struct, frozen=True, kw_only=True):
    """What one model's maker server issues (see the module docstring)."""

    hourly_max_hours: int | None = None
    daily_min_days: int | None = None
    daily_max_days: int | None = None
    one_time_valid_hours: int | None = None
    permanent: bool = False
    first_use_within_hours: int | None = None
    first_use_warning: str | None = None
    counts_against_capacity: bool = False


def rules_for(model: DeviceModel) -> OfflineCodeRules:
    return msgspec.convert(model.offline_code_rules or {}, OfflineCodeRules)


class OfflineCodeRefused(ValueError):
    """The window breaks the maker's rules; `field` is the request field to blame."""

    def __init__(self, message: str, field: str = "ends_at") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class OfflineWindow:
    starts_at: datetime | None
    ends_at: datetime | None


def _floor_hour(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _ceil_hour(value: datetime) -> datetime:
    floor = _floor_hour(value)
    return floor if floor == value else floor + HOUR


def _hours(span: timedelta) -> str:
    hours = span / HOUR
    return f"{hours:g} h"


def window(rules: OfflineCodeRules, *, starts_at: datetime | None, ends_at: datetime | None,
           one_time: bool, max_time_rounding: str | None, now: datetime) -> OfflineWindow:
    """The window the maker's server will be asked for, or OfflineCodeRefused."""
    rounding = ROUNDINGS[max_time_rounding or "1h"]
    if one_time:
        return _one_time(rules, starts_at, ends_at, now)
    if starts_at is None and ends_at is None:
        if not rules.permanent:
            raise OfflineCodeRefused("Offline access codes on this device are time-bound: "
                                     "give starts_at and ends_at.")
        return OfflineWindow(None, None)  # starts when the maker's server issues it
    if starts_at is None or ends_at is None:
        raise OfflineCodeRefused("starts_at and ends_at must be given together",
                                 "ends_at" if ends_at is None else "starts_at")
    if ends_at <= starts_at:
        raise OfflineCodeRefused("ends_at must be after starts_at")
    if ends_at <= now:
        raise OfflineCodeRefused("ends_at must be in the future")
    start = _floor_hour(max(starts_at, now))
    end = _ceil_hour(ends_at)
    if rounding == "day":
        end = start + DAY * -(-(end - start) // DAY)
        low, high = rules.daily_min_days, rules.daily_max_days
        days = (end - start) // DAY
        if low is not None and days < low or high is not None and days > high:
            raise OfflineCodeRefused(
                f"A day-bound offline code on this device lasts {low}-{high} days "
                f"(max_time_rounding 1d); this one would last {days} days.")
    elif rules.hourly_max_hours is not None and end - start > rules.hourly_max_hours * HOUR:
        longer = (" Codes that long are day-bound: set max_time_rounding to 1d."
                  if rules.daily_max_days else "")
        raise OfflineCodeRefused(
            f"An offline code on this device lasts at most {rules.hourly_max_hours} hours; "
            f"this one would last {_hours(end - start)}.{longer}")
    return OfflineWindow(start, end)


def _one_time(rules: OfflineCodeRules, starts_at: datetime | None, ends_at: datetime | None,
              now: datetime) -> OfflineWindow:
    if starts_at is None:
        raise OfflineCodeRefused("A one-time offline code needs starts_at.", "starts_at")
    start = _floor_hour(max(starts_at, now))
    if rules.one_time_valid_hours is None:
        if ends_at is None:
            raise OfflineCodeRefused("A one-time offline code on this device needs ends_at.")
        if ends_at <= max(starts_at, now):
            raise OfflineCodeRefused("ends_at must be in the future and after starts_at")
        return OfflineWindow(start, _ceil_hour(ends_at))
    end = start + rules.one_time_valid_hours * HOUR
    if ends_at is not None and _ceil_hour(ends_at) != end:
        raise OfflineCodeRefused(
            f"A one-time offline code on this device works within "
            f"{rules.one_time_valid_hours} hours of its start: omit ends_at or set it to "
            f"{end.isoformat().replace('+00:00', 'Z')}.")
    return OfflineWindow(start, end)


def issue_start(starts_at: datetime | None, now: datetime) -> datetime:
    """The start to register: the window's, or the current hour once that has passed (makers'
    servers refuse past starts; a code registered late works from then)."""
    return _floor_hour(max(starts_at or now, now))


def rounding_of(rules: OfflineCodeRules, starts_at: datetime | None,
                ends_at: datetime | None) -> Rounding:
    """Whether a stored window is a day-bound code: longer than an hour-bound one may be."""
    if starts_at is None or ends_at is None or rules.hourly_max_hours is None:
        return "hour"
    return "day" if ends_at - starts_at > rules.hourly_max_hours * HOUR else "hour"


def warnings(rules: OfflineCodeRules, win: OfflineWindow, *, one_time: bool,
             now: datetime) -> list[dict[str, Any]]:
    """What the code's holder must know: when it must first be used, and that it stays valid
    whatever happens to the code in the API."""
    created_at = now.astimezone(UTC).isoformat().replace("+00:00", "Z")
    found = [{"warning_code": NOT_REMOVABLE_WARNING, "created_at": created_at,
              "message": "An offline code is issued by the lock maker's server and works "
                         "until its end; it cannot be removed from the lock remotely."}]
    limit = rules.first_use_within_hours
    if (limit is not None and rules.first_use_warning and not one_time
            and (win.ends_at is None or win.starts_at is None
                 or win.ends_at - win.starts_at > limit * HOUR)):
        found.insert(0, {"warning_code": rules.first_use_warning, "created_at": created_at,
                         "message": f"The code must be entered once within {limit} hours of "
                                    "starts_at, or the lock stops accepting it."})
    return found


def over_capacity(rules: OfflineCodeRules, model: DeviceModel, codes_on_device: int) -> bool:
    return rules.counts_against_capacity and codes_on_device >= model.max_active_codes_supported
