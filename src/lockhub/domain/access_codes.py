"""Access-code rules: PIN and name validation against a device model, PIN generation, and the
lifecycle (what should be on the lock at a given instant, and when that next changes).

Interpretations of Seam's constraint names (objects.md §2.5), decided here:
- `no_triple_consecutive_ints`: no run of three consecutive ascending or descending digits
  (e.g. 345 or 543); repeated digits (555) are allowed.
- `no_ascending_or_descending_sequence`: the whole PIN is not one running sequence (1234, 9876).
- `pin_code_matches_existing_set`: cannot be checked against a set lockhub does not know; it is
  treated like `cannot_specify_pin_code` (the device assigns the PIN).
- `unique_first_four_digits`: the first four digits differ from every other code's on the device.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from lockhub.catalogue import DeviceModel

_PIN = re.compile(r"[0-9]+")
NATIVE_PRELOAD = timedelta(hours=72)
JUST_IN_TIME_LEAD = timedelta(minutes=60)


@dataclass(frozen=True)
class RuleViolation:
    """A PIN or name rule the device enforces; becomes a 400 at the API."""

    error_type: str
    message: str
    constraint_type: str | None = None
    field: str = "code"


def is_pin(code: str) -> bool:
    """A PIN is ASCII digits only: `str.isdigit` and `\\d` also take other scripts' digits
    (`١٢٣٤`), which no keypad has."""
    return _PIN.fullmatch(code) is not None


def constraint_types(model: DeviceModel) -> set[str]:
    return {c["constraint_type"] for c in model.code_constraints}


def device_assigns_pin(model: DeviceModel) -> bool:
    return bool(constraint_types(model) & {"cannot_specify_pin_code",
                                            "pin_code_matches_existing_set"})


def _runs(code: str, step: int, length: int) -> bool:
    digits = [int(c) for c in code]
    run = 1
    for a, b in zip(digits, digits[1:], strict=False):
        run = run + 1 if b - a == step else 1
        if run >= length:
            return True
    return False


def pin_violations(model: DeviceModel, code: str, other_codes: Iterable[str] = ()) -> list[
        RuleViolation]:
    """Every rule `code` breaks on a device of this model (empty when it is acceptable)."""
    found: list[RuleViolation] = []
    if device_assigns_pin(model):
        return [RuleViolation("code_constraints_violated",
                              "This device assigns its own PINs; omit `code`.",
                              "cannot_specify_pin_code")]
    if not is_pin(code):
        return [RuleViolation("invalid_code", "The code must contain digits only.")]
    if len(code) not in model.supported_code_lengths:
        lengths = ", ".join(str(n) for n in model.supported_code_lengths)
        found.append(RuleViolation(
            "invalid_code_length",
            f"The code must be {lengths} digits long on this device; got {len(code)}."))
    types = constraint_types(model)
    checks = {
        "no_zeros": ("0" in code, "The code may not contain the digit 0."),
        "cannot_start_with_12": (code.startswith("12"), "The code may not start with 12."),
        "no_triple_consecutive_ints": (
            _runs(code, 1, 3) or _runs(code, -1, 3),
            "The code may not contain three consecutive digits such as 345 or 543."),
        "no_ascending_or_descending_sequence": (
            len(code) > 1 and (_runs(code, 1, len(code)) or _runs(code, -1, len(code))),
            "The code may not be an ascending or descending sequence such as 1234."),
        "at_least_three_unique_digits": (
            len(set(code)) < 3, "The code needs at least three different digits."),
        "cannot_contain_089": (
            any(c in code for c in "089"), "This keypad has no 0, 8 or 9 keys."),
        "cannot_contain_0789": (
            any(c in code for c in "0789"), "This keypad has no 0, 7, 8 or 9 keys."),
        "no_all_same_digits": (
            len(set(code)) == 1, "The code may not repeat one digit only."),
        "unique_first_four_digits": (
            any(other[:4] == code[:4] for other in other_codes),
            "Another code on this device starts with the same four digits."),
    }
    for constraint, (broken, message) in checks.items():
        if constraint in types and broken:
            found.append(RuleViolation("code_constraints_violated", message, constraint))
    return found


def name_violations(model: DeviceModel, name: str | None,
                    other_names: Iterable[str | None] = ()) -> list[RuleViolation]:
    found: list[RuleViolation] = []
    for constraint in model.code_constraints:
        kind = constraint["constraint_type"]
        if kind == "name_length" and name is not None:
            low, high = constraint.get("min_length"), constraint.get("max_length")
            if (low is not None and len(name) < low) or (high is not None and len(name) > high):
                bounds = f"{low or 0}-{high}" if high is not None else f"at least {low}"
                found.append(RuleViolation(
                    "code_constraints_violated",
                    f"The name must be {bounds} characters long on this device.",
                    "name_length", "name"))
        if kind == "name_must_be_unique" and name is not None and name in set(other_names):
            found.append(RuleViolation("code_constraints_violated",
                                       "Another code on this device already has this name.",
                                       "name_must_be_unique", "name"))
    return found


def code_length_for(model: DeviceModel, preferred: int | None) -> int:
    lengths = sorted(model.supported_code_lengths)
    if preferred is not None and preferred in lengths:
        return preferred
    return lengths[0]


def generate_pin(model: DeviceModel, *, length: int | None = None,
                 taken: Iterable[str] = (), rng: Any = None) -> str:
    """A random PIN that satisfies every rule of the model and is not already taken."""
    rng = rng or secrets.SystemRandom()
    length = length or code_length_for(model, None)
    taken_set = set(taken)
    alphabet = "0123456789"
    types = constraint_types(model)
    for banned, kinds in (("0789", {"cannot_contain_0789"}), ("089", {"cannot_contain_089"}),
                          ("0", {"no_zeros"})):
        if types & kinds:
            alphabet = "".join(c for c in alphabet if c not in banned)
            break
    for _ in range(10_000):
        code = "".join(rng.choice(alphabet) for _ in range(length))
        if code not in taken_set and not pin_violations(model, code, taken_set):
            return code
    raise ValueError("no PIN satisfies this device's rules")


# --- lifecycle ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Schedule:
    """When a code should be programmed on the lock and when it works."""

    program_at: datetime | None  # None: now (ongoing)
    starts_at: datetime | None
    ends_at: datetime | None
    native: bool


def schedule_for(model: DeviceModel, starts_at: datetime | None, ends_at: datetime | None,
                 prefer_native: bool = True) -> Schedule:
    if starts_at is None or ends_at is None:
        return Schedule(None, None, None, native=False)
    native = model.native_scheduling and prefer_native
    lead = NATIVE_PRELOAD if native else JUST_IN_TIME_LEAD
    return Schedule(starts_at - lead, starts_at, ends_at, native=native)


def should_be_on_device(schedule: Schedule, now: datetime) -> bool:
    if schedule.ends_at is not None and now >= schedule.ends_at:
        return False
    return schedule.program_at is None or now >= schedule.program_at


def is_active(schedule: Schedule, now: datetime) -> bool:
    """Whether the PIN opens the lock at `now` (on the device, inside its window)."""
    if schedule.starts_at is None:
        return True
    return schedule.starts_at <= now < (schedule.ends_at or now)


def next_boundary(schedule: Schedule, now: datetime) -> datetime | None:
    """The next instant at which what should be on the lock (or its status) changes."""
    for instant in (schedule.program_at, schedule.starts_at, schedule.ends_at):
        if instant is not None and instant > now:
            return instant
    return None
