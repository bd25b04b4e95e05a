"""Noise-sensor rules (domain/noise.py): thresholds' daily windows in their zones, which
thresholds a level triggers, the noise risk score, and a virtual sensor's level over time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from lockhub.domain.noise import (
    Threshold,
    baseline,
    decibels_from_nrs,
    level_at,
    nrs_from_decibels,
    parse_time_of_day,
    triggering,
    window_is_open,
)

LA = ZoneInfo("America/Los_Angeles")


def la(hour: int, minute: int = 0, second: int = 0, day: int = 3) -> datetime:
    return datetime(2026, 12, day, hour, minute, second, tzinfo=LA)


@pytest.mark.parametrize("value", ["22:00", "24:00:00", "7:00:00", "22:00:00[Nowhere/City]",
                                   "22:00:00 PM"])
def test_times_of_day_that_are_refused(value: str) -> None:
    with pytest.raises(ValueError):
        parse_time_of_day(value)


def test_a_window_past_midnight_in_the_devices_zone() -> None:
    quiet = ("22:00:00", "07:00:00")
    assert window_is_open(*quiet, la(23, 30), LA)
    assert window_is_open(*quiet, la(3), LA)
    assert window_is_open(*quiet, la(7, 0, 0), LA)  # the end second is inside
    assert not window_is_open(*quiet, la(7, 0, 1), LA)
    assert not window_is_open(*quiet, la(12), LA)
    assert window_is_open(*quiet, la(22).astimezone(UTC), LA)  # any zone for the instant


def test_a_window_in_a_zone_of_its_own_and_the_whole_day() -> None:
    new_york = ("09:00:00[America/New_York]", "17:00:00[America/New_York]")
    assert window_is_open(*new_york, la(6, 30), LA)  # 09:30 in New York
    assert not window_is_open(*new_york, la(14, 30), LA)  # 17:30 in New York
    for hour in (0, 6, 12, 23):
        assert window_is_open("00:00:00", "23:59:59", la(hour, 59, 59), LA)


def test_which_thresholds_a_level_triggers() -> None:
    thresholds = [Threshold("day", "07:00:00", "22:00:00", 70),
                  Threshold("night", "22:00:00", "07:00:00", 60)]
    assert triggering(65, thresholds, la(23), LA) == ["night"]
    assert triggering(65, thresholds, la(12), LA) == []
    assert triggering(70, thresholds, la(12), LA) == ["day"]  # reaching the level triggers


def test_noise_risk_score() -> None:
    assert [nrs_from_decibels(db) for db in (30, 35, 55, 65, 90)] == [0, 0, 40, 60, 100]
    assert decibels_from_nrs(60) == 65


def test_the_quiet_level_follows_the_day_and_is_reproducible() -> None:
    night, evening = baseline("sensor-1", la(3), LA), baseline("sensor-1", la(19), LA)
    assert 30.5 <= night <= 33.5 and 46.5 <= evening <= 49.5
    assert baseline("sensor-1", la(3), LA) == night
    slots = {baseline("sensor-1", la(3) + timedelta(minutes=5 * i), LA) for i in range(12)}
    assert len(slots) > 1  # the jitter moves between slots


def test_a_disturbance_rises_holds_and_falls_back() -> None:
    peak_at = la(23)
    assert level_at("s", peak_at - timedelta(minutes=1), LA, peak=80, peak_at=peak_at) < 40
    assert level_at("s", peak_at, LA, peak=80, peak_at=peak_at) == 80
    assert level_at("s", peak_at + timedelta(minutes=5), LA, peak=80, peak_at=peak_at) == 80
    assert level_at("s", peak_at + timedelta(minutes=10), LA, peak=80, peak_at=peak_at) == 70
    later = peak_at + timedelta(hours=1)
    assert level_at("s", later, LA, peak=80, peak_at=peak_at) == baseline("s", later, LA)
