"""The windows makers' servers issue offline codes for, and what the code's holder is told,
from the catalogue's `offline_code_rules` (TTLock generated passcodes, igloohome algoPINs)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lockhub.catalogue import model
from lockhub.domain import offline_codes as oc

NOW = datetime(2031, 3, 1, 10, 20, tzinfo=UTC)
TTLOCK = oc.rules_for(model("ttlock", "keypad_deadbolt"))
IGLOO = oc.rules_for(model("igloohome", "deadbolt_2s"))
ORACODE = oc.rules_for(model("dormakaba_oracode", "oracode_lock"))


def at(hours: float) -> datetime:
    return NOW + timedelta(hours=hours)


def window(rules: oc.OfflineCodeRules, starts_at: datetime | None, ends_at: datetime | None,
           *, one_time: bool = False, rounding: str | None = None) -> oc.OfflineWindow:
    return oc.window(rules, starts_at=starts_at, ends_at=ends_at, one_time=one_time,
                     max_time_rounding=rounding, now=NOW)


def test_the_window_widens_to_whole_hours_and_a_past_start_counts_from_now() -> None:
    got = window(TTLOCK, at(-5), at(3))  # 05:20 .. 13:20
    assert (got.starts_at, got.ends_at) == (datetime(2031, 3, 1, 10, tzinfo=UTC),
                                            datetime(2031, 3, 1, 14, tzinfo=UTC))
    assert window(TTLOCK, at(2), at(4), rounding="1hour").starts_at == datetime(
        2031, 3, 1, 12, tzinfo=UTC)


def test_day_rounding_makes_whole_days_from_the_start_hour() -> None:
    got = window(IGLOO, at(1), at(24 * 40 + 3), rounding="1d")
    assert got.starts_at == datetime(2031, 3, 1, 11, tzinfo=UTC)
    assert got.ends_at is not None and got.starts_at is not None
    assert (got.ends_at - got.starts_at) == timedelta(days=41)
    assert oc.rounding_of(IGLOO, got.starts_at, got.ends_at) == "day"


@pytest.mark.parametrize(("ends", "rounding", "says"), [
    (24 * 29, None, "at most 672 hours"),  # 29 days hour-bound
    (24 * 10, "1day", "29-367 days"),  # too short to be day-bound
    (24 * 400, "1d", "29-367 days"),  # too long
])
def test_igloohome_refuses_windows_its_algopins_cannot_have(ends: int, rounding: str | None,
                                                            says: str) -> None:
    with pytest.raises(oc.OfflineCodeRefused, match=says):
        window(IGLOO, at(1), at(ends), rounding=rounding)


def test_ttlock_has_no_longest_window() -> None:
    got = window(TTLOCK, at(1), at(24 * 500))
    assert got.ends_at is not None and got.starts_at is not None
    assert oc.rounding_of(TTLOCK, got.starts_at, got.ends_at) == "hour"


def test_one_time_codes_need_a_start_and_last_as_the_maker_says() -> None:
    with pytest.raises(oc.OfflineCodeRefused) as refused:
        window(IGLOO, None, None, one_time=True)
    assert refused.value.field == "starts_at"
    igloo = window(IGLOO, at(2), None, one_time=True)
    ttlock = window(TTLOCK, at(2), None, one_time=True)
    assert igloo.ends_at == datetime(2031, 3, 2, 12, tzinfo=UTC)  # 24 h
    assert ttlock.ends_at == datetime(2031, 3, 1, 18, tzinfo=UTC)  # 6 h
    with pytest.raises(oc.OfflineCodeRefused, match="within 6 hours"):
        window(TTLOCK, at(2), at(30), one_time=True)


def test_permanent_codes_only_where_the_maker_issues_them() -> None:
    assert window(IGLOO, None, None) == oc.OfflineWindow(None, None)
    with pytest.raises(oc.OfflineCodeRefused, match="time-bound"):
        window(ORACODE, None, None)


def test_an_ended_or_backwards_window_is_refused() -> None:
    with pytest.raises(oc.OfflineCodeRefused, match="future"):
        window(TTLOCK, at(-3), at(-1))
    with pytest.raises(oc.OfflineCodeRefused, match="after starts_at"):
        window(TTLOCK, at(3), at(2))


def test_codes_longer_than_a_day_carry_the_first_use_warning() -> None:
    def codes(rules: oc.OfflineCodeRules, win: oc.OfflineWindow,
              one_time: bool = False) -> list[str]:
        return [w["warning_code"] for w in oc.warnings(rules, win, one_time=one_time, now=NOW)]

    day = oc.OfflineWindow(at(0), at(24))
    week = oc.OfflineWindow(at(0), at(24 * 7))
    assert codes(IGLOO, day) == [oc.NOT_REMOVABLE_WARNING]
    assert codes(IGLOO, week) == ["igloo_algopin_must_be_used_within_24_hours",
                                  oc.NOT_REMOVABLE_WARNING]
    assert codes(TTLOCK, oc.OfflineWindow(None, None))[0] == \
        "ttlock_offline_code_must_be_used_within_24_hours"
    assert codes(TTLOCK, week, one_time=True) == [oc.NOT_REMOVABLE_WARNING]


def test_igloohome_counts_offline_pins_against_its_199() -> None:
    deadbolt = model("igloohome", "deadbolt_2s")
    assert not oc.over_capacity(IGLOO, deadbolt, 198)
    assert oc.over_capacity(IGLOO, deadbolt, 199)
    assert not oc.over_capacity(TTLOCK, model("ttlock", "keypad_deadbolt"), 10_000)
