"""PIN rules, PIN generation and the schedule math behind every access code (domain layer).

The PIN rules are checked against an independent oracle written here from the interpretations
in `lockhub.domain.access_codes`' docstring, and against hand-written examples per constraint.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from lockhub.catalogue import DeviceModel, brands
from lockhub.domain.access_codes import (
    JUST_IN_TIME_LEAD,
    NATIVE_PRELOAD,
    device_assigns_pin,
    generate_pin,
    is_active,
    name_violations,
    next_boundary,
    pin_violations,
    schedule_for,
    should_be_on_device,
)

ALL_MODELS: list[tuple[str, DeviceModel]] = [
    (f"{brand.key}/{key}", model) for brand in brands().values()
    for key, model in brand.models.items() if model.kind == "lock"
]
PIN_MODELS = [(name, m) for name, m in ALL_MODELS if not device_assigns_pin(m)]
BASE = next(m for _, m in ALL_MODELS if m.online_access_codes and not m.code_constraints)


def model_with(*constraints: dict[str, Any], lengths: list[int] | None = None,
               native: bool = True) -> DeviceModel:
    """A device model that has exactly these constraints (and lengths 4-8 unless given)."""
    return msgspec.structs.replace(BASE, code_constraints=list(constraints),
                                   supported_code_lengths=lengths or [4, 5, 6, 7, 8],
                                   native_scheduling=native)


def broken(model: DeviceModel, pin: str, others: list[str] | tuple[str, ...] = ()) -> set[str]:
    """The constraint types (or error types) a PIN breaks on a model."""
    return {v.constraint_type or v.error_type for v in pin_violations(model, pin, others)}


# --- generated PINs --------------------------------------------------------------------------


def test_the_catalogue_has_models_whose_pins_lockhub_chooses() -> None:
    assert len(PIN_MODELS) >= 20
    assert all(m.supported_code_lengths for _, m in PIN_MODELS)


@settings(max_examples=300, deadline=None)
@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_generated_pin_fits_every_rule_of_every_catalogue_model(data: st.DataObject,
                                                                 seed: int) -> None:
    name, model = data.draw(st.sampled_from(PIN_MODELS), label="model")
    length = data.draw(st.sampled_from(model.supported_code_lengths), label="length")
    taken = data.draw(st.lists(st.text("0123456789", min_size=length, max_size=length),
                               max_size=5), label="taken")
    pin = generate_pin(model, length=length, taken=taken, rng=random.Random(seed))
    assert len(pin) == length and pin.isascii() and pin.isdigit(), (name, pin)
    assert pin not in taken
    assert pin_violations(model, pin, taken) == [], (name, pin)


@pytest.mark.parametrize(("name", "model"), PIN_MODELS, ids=[n for n, _ in PIN_MODELS])
def test_generated_pin_without_a_length_uses_the_shortest_supported_length(
    name: str, model: DeviceModel
) -> None:
    pin = generate_pin(model, rng=random.Random(7))
    assert len(pin) == min(model.supported_code_lengths)
    assert pin_violations(model, pin) == []


def test_device_assigned_pins_reject_any_pin_the_caller_chooses() -> None:
    assigned = [m for _, m in ALL_MODELS if device_assigns_pin(m)]
    assert assigned, "the catalogue has a brand that assigns PINs itself (dormakaba Oracode)"
    for model in assigned:
        assert broken(model, "482913") == {"cannot_specify_pin_code"}
    assert device_assigns_pin(model_with({"constraint_type": "pin_code_matches_existing_set"}))


# --- PIN rules: hand-written examples --------------------------------------------------------


@pytest.mark.parametrize(("constraint", "bad", "good"), [
    ("no_zeros", ["1024", "0000", "4560"], ["1234", "9999"]),
    ("cannot_start_with_12", ["1234", "129999"], ["2134", "1134", "3412"]),
    ("no_triple_consecutive_ints", ["1345", "5431", "9012", "7789"], ["5557", "1357", "8901",
                                                                      "1243"]),
    ("no_ascending_or_descending_sequence", ["1234", "9876", "45678", "3210"],
     ["1235", "1243", "5555", "2109"]),
    ("at_least_three_unique_digits", ["1122", "7777", "121212"], ["1123", "9870"]),
    ("cannot_contain_089", ["1238", "9111", "1011"], ["1234", "7654"]),
    ("cannot_contain_0789", ["1237", "1110", "8888"], ["1234", "6543"]),
    ("no_all_same_digits", ["1111", "00000"], ["1112", "1211"]),
])
def test_each_code_constraint_rejects_its_examples_and_accepts_others(
    constraint: str, bad: list[str], good: list[str]
) -> None:
    model = model_with({"constraint_type": constraint})
    for pin in bad:
        violations = pin_violations(model, pin)
        assert [(v.error_type, v.constraint_type) for v in violations] == [
            ("code_constraints_violated", constraint)], pin
        assert violations[0].field == "code"
    for pin in good:
        assert pin_violations(model, pin) == [], pin


def test_unique_first_four_digits_compares_with_the_other_codes_on_the_device() -> None:
    model = model_with({"constraint_type": "unique_first_four_digits"})
    assert broken(model, "123456", ["123499"]) == {"unique_first_four_digits"}
    assert broken(model, "123456", ["223456", "1243"]) == set()
    assert broken(model, "123456") == set()


def test_wrong_length_is_invalid_code_length_and_non_digits_are_invalid_code() -> None:
    model = model_with(lengths=[4, 6])
    assert broken(model, "12345") == {"invalid_code_length"}
    assert broken(model, "123") == {"invalid_code_length"}
    assert broken(model, "1234") == broken(model, "123456") == set()
    for pin in ("12a4", "12 4", "-123", "١٢٣٤", "12.4"):
        assert broken(model, pin) == {"invalid_code"}, pin


def test_a_pin_breaking_several_rules_reports_each_of_them() -> None:
    model = model_with({"constraint_type": "no_zeros"}, {"constraint_type": "cannot_start_with_12"},
                       lengths=[6])
    assert broken(model, "1203") == {"invalid_code_length", "no_zeros", "cannot_start_with_12"}


def test_name_length_and_uniqueness() -> None:
    model = model_with({"constraint_type": "name_length", "min_length": 2, "max_length": 9},
                       {"constraint_type": "name_must_be_unique"})
    assert name_violations(model, "Guest 1") == []
    assert name_violations(model, None) == []
    too_long = name_violations(model, "x" * 10)
    assert [(v.error_type, v.constraint_type, v.field) for v in too_long] == [
        ("code_constraints_violated", "name_length", "name")]
    assert [v.constraint_type for v in name_violations(model, "x")] == ["name_length"]
    assert [v.constraint_type for v in name_violations(model, "Guest", ["Guest"])] == [
        "name_must_be_unique"]
    assert name_violations(model, "Guest", ["Other", None]) == []
    only_max = model_with({"constraint_type": "name_length", "max_length": 9})
    assert name_violations(only_max, "") == [] and name_violations(only_max, "x" * 9) == []


# --- PIN rules: an independent oracle --------------------------------------------------------


def _has_run(digits: list[int], length: int) -> bool:
    for start in range(len(digits) - length + 1):
        window = digits[start:start + length]
        steps = {b - a for a, b in zip(window, window[1:], strict=False)}
        if steps in ({1}, {-1}):
            return True
    return False


ORACLE = {
    "no_zeros": lambda p, o: "0" in p,
    "cannot_start_with_12": lambda p, o: p.startswith("12"),
    "no_triple_consecutive_ints": lambda p, o: _has_run([int(c) for c in p], 3),
    "no_ascending_or_descending_sequence":
        lambda p, o: len(p) > 1 and _has_run([int(c) for c in p], len(p)),
    "at_least_three_unique_digits": lambda p, o: len(set(p)) < 3,
    "cannot_contain_089": lambda p, o: bool(set(p) & set("089")),
    "cannot_contain_0789": lambda p, o: bool(set(p) & set("0789")),
    "no_all_same_digits": lambda p, o: len(set(p)) == 1,
    "unique_first_four_digits": lambda p, o: any(x[:4] == p[:4] for x in o),
}
DIGITS = st.text("0123456789", min_size=4, max_size=8)


@settings(max_examples=400, deadline=None)
@given(constraint=st.sampled_from(sorted(ORACLE)), pin=DIGITS,
       others=st.lists(DIGITS, max_size=3))
def test_pin_violations_agree_with_the_documented_interpretation(
    constraint: str, pin: str, others: list[str]
) -> None:
    model = model_with({"constraint_type": constraint})
    expected = {constraint} if ORACLE[constraint](pin, others) else set()
    assert broken(model, pin, others) == expected


@settings(max_examples=200, deadline=None)
@given(types=st.sets(st.sampled_from(sorted(ORACLE)), max_size=4), pin=DIGITS)
def test_combined_constraints_report_exactly_the_rules_broken(types: set[str],
                                                              pin: str) -> None:
    model = model_with(*({"constraint_type": t} for t in sorted(types)))
    assert broken(model, pin) == {t for t in types if ORACLE[t](pin, [])}


# --- schedule math ---------------------------------------------------------------------------

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)
INSTANTS = st.integers(-10 * 86400, 10 * 86400).map(lambda s: T0 + timedelta(seconds=s))
DURATIONS = st.integers(1, 10 * 86400).map(lambda s: timedelta(seconds=s))
NATIVE = model_with(native=True)
JUST_IN_TIME = model_with(native=False)


def test_ongoing_codes_belong_on_the_lock_and_work_at_every_instant() -> None:
    schedule = schedule_for(NATIVE, None, None)
    assert schedule.program_at is None and not schedule.native
    for now in (T0, T0 + timedelta(days=4000)):
        assert should_be_on_device(schedule, now) and is_active(schedule, now)
        assert next_boundary(schedule, now) is None


def test_native_codes_preload_72_hours_ahead_and_just_in_time_codes_60_minutes_ahead() -> None:
    starts, ends = T0, T0 + timedelta(days=2)
    native = schedule_for(NATIVE, starts, ends)
    assert native.native and native.program_at == starts - timedelta(hours=72)
    assert NATIVE_PRELOAD == timedelta(hours=72)
    jit = schedule_for(JUST_IN_TIME, starts, ends)
    assert not jit.native and jit.program_at == starts - timedelta(minutes=60)
    assert JUST_IN_TIME_LEAD == timedelta(minutes=60)
    # A caller may decline native scheduling on a brand that has it.
    declined = schedule_for(NATIVE, starts, ends, prefer_native=False)
    assert not declined.native and declined.program_at == jit.program_at
    # One bound alone is not a window.
    assert schedule_for(NATIVE, starts, None).program_at is None


@settings(max_examples=300, deadline=None)
@given(native=st.booleans(), starts=INSTANTS, length=DURATIONS, now=INSTANTS)
def test_on_the_lock_from_programming_until_ends_at_and_working_inside_the_window(
    native: bool, starts: datetime, length: timedelta, now: datetime
) -> None:
    ends = starts + length
    schedule = schedule_for(NATIVE if native else JUST_IN_TIME, starts, ends)
    lead = NATIVE_PRELOAD if native else JUST_IN_TIME_LEAD
    assert should_be_on_device(schedule, now) == (starts - lead <= now < ends)
    assert is_active(schedule, now) == (starts <= now < ends)
    # A PIN that opens the door is always one the lock holds.
    assert not is_active(schedule, now) or should_be_on_device(schedule, now)


@settings(max_examples=300, deadline=None)
@given(native=st.booleans(), starts=INSTANTS, length=DURATIONS, now=INSTANTS,
       fraction=st.floats(0, 1, exclude_max=True))
def test_nothing_changes_before_the_next_boundary_and_something_changes_at_it(
    native: bool, starts: datetime, length: timedelta, now: datetime, fraction: float
) -> None:
    schedule = schedule_for(NATIVE if native else JUST_IN_TIME, starts, starts + length)

    def state(at: datetime) -> tuple[bool, bool]:
        return should_be_on_device(schedule, at), is_active(schedule, at)

    boundary = next_boundary(schedule, now)
    if boundary is None:
        assert now >= schedule.ends_at
        assert state(now) == (False, False) == state(now + timedelta(days=365))
        return
    assert boundary > now
    assert boundary in (schedule.program_at, schedule.starts_at, schedule.ends_at)
    between = now + (boundary - now) * fraction
    assume(between < boundary)
    assert state(between) == state(now)
    assert state(boundary) != state(now)
    # The engine looks again at each boundary in turn and ends after ends_at.
    seen = [boundary]
    while (nxt := next_boundary(schedule, seen[-1])) is not None:
        seen.append(nxt)
    assert seen[-1] == schedule.ends_at and seen == sorted(set(seen))
