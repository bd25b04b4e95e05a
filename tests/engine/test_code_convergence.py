"""Whatever happens to a device's codes, the lock ends up holding exactly what they say.

Hypothesis drives random sequences of creates, updates (PIN, name, window, type), deletes,
sandbox clock moves and injected lock failures against a live server, on one natively scheduling
lock and one just-in-time lock. After each sequence the failures are cleared and, once every code
has settled, the virtual lock's slots must equal the desired state exactly: every code that
should be on the lock at the (frozen) sandbox time, with its PIN, name and (native) window, and
nothing else; every code reports the status the clock implies, with no errors or pending work.

Each example starts from a freshly reset sandbox workspace (same device ids, empty locks, no
rate-limit history) with its clock frozen.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from seam import NULL, Seam, SeamHttpApiError

from lockhub.domain.access_codes import JUST_IN_TIME_LEAD, NATIVE_PRELOAD
from tests.conformance.helpers import SANDBOX_KEY, raw, sandbox, seed_ids, wait_until
from tests.server import LockhubServer, start_server

# (seed key, natively scheduled): both accept 4-digit PINs and have no other PIN rules.
DEVICES = [("august_device_1", True), ("smartthings_device_1", False)]
PINS = ["1357", "2468", "3579", "4680", None]  # None: let lockhub choose
NAMES = ["Guest", "Cleaner", None]
START_OFFSETS = [-30, 20, 45, 90, 150, 24 * 60, 73 * 60, 5 * 24 * 60]  # minutes from now
DURATIONS = [60, 3 * 60, 2 * 24 * 60]  # minutes
ADVANCES = [1, 30, 61, 3 * 60, 24 * 60, 72 * 60]  # minutes
MAX_INJECTED_FAILURES = 3  # keeps the retry backoff (and the run time) small
SETTLE_TIMEOUT = 20.0
# Kept small for the regular suite; raise it to hunt for counterexamples.
MAX_EXAMPLES = int(os.environ.get("LOCKHUB_CONVERGENCE_EXAMPLES", "20"))

windows = st.one_of(st.none(), st.tuples(st.sampled_from(START_OFFSETS),
                                         st.sampled_from(DURATIONS)))
code_ref = st.integers(0, 7)
operations = st.one_of(
    st.tuples(st.just("create"), st.integers(0, 1), st.sampled_from(PINS),
              st.sampled_from(NAMES), windows),
    st.tuples(st.just("update_code"), code_ref, st.sampled_from(PINS[:-1])),
    st.tuples(st.just("update_name"), code_ref, st.sampled_from(NAMES)),
    st.tuples(st.just("update_window"), code_ref, windows),
    st.tuples(st.just("delete"), code_ref),
    st.tuples(st.just("advance"), st.sampled_from(ADVANCES)),
    st.tuples(st.just("fault"), st.integers(0, 1), st.sampled_from(["set_code", "remove_code"]),
              st.integers(1, 2)),
)


@pytest.fixture(scope="module")
def lockhub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LockhubServer]:
    srv = start_server(tmp_path_factory.mktemp("convergence"),
                       env={"LOCKHUB_SANDBOX_LATENCY_SCALE": "0"})
    yield srv
    srv.stop()


@dataclass
class Code:
    access_code_id: str
    device_id: str
    native: bool
    pin: str
    name: str | None
    starts: datetime | None
    ends: datetime | None

    def ended(self, now: datetime) -> bool:
        return self.ends is not None and now >= self.ends

    def on_lock(self, now: datetime) -> bool:
        if self.starts is None:
            return True
        lead = NATIVE_PRELOAD if self.native else JUST_IN_TIME_LEAD
        return self.starts - lead <= now < self.ends

    def status(self, now: datetime) -> str:
        if not self.on_lock(now):
            return "unset"
        if self.native and self.starts is not None and now < self.starts:
            return "unset"  # preloaded, waiting for its window
        return "set"


@dataclass
class Model:
    now: datetime
    codes: dict[str, Code] = field(default_factory=dict)
    # PINs of codes that ended on the clock: lockhub may still hold them for a moment.
    ended_pins: set[tuple[str, str]] = field(default_factory=set)
    injected: int = 0

    def live(self) -> list[Code]:
        return sorted(self.codes.values(), key=lambda c: c.access_code_id)

    def pick(self, index: int) -> Code | None:
        live = self.live()
        return live[index % len(live)] if live else None

    def clash(self, device_id: str, pin: str | None, exclude: str | None = None) -> str:
        """'yes' if the PIN must be refused as a duplicate, 'maybe', or 'no'."""
        if pin is None:
            return "no"
        if any(c.device_id == device_id and c.pin == pin and c.access_code_id != exclude
               for c in self.codes.values()):
            return "yes"
        return "maybe" if (device_id, pin) in self.ended_pins else "no"

    def advance(self, minutes: int) -> None:
        self.now += timedelta(minutes=minutes)
        for code in list(self.codes.values()):
            if code.ended(self.now):
                del self.codes[code.access_code_id]
                self.ended_pins.add((code.device_id, code.pin))


def lock_slots(server: LockhubServer, device_id: str) -> list[dict[str, Any]]:
    with raw(server) as client:
        response = client.get("/_lockhub/sandbox/devices/list_codes_on_lock",
                              params={"device_id": device_id})
    assert response.status_code == 200, response.text
    return response.json()["codes_on_lock"]


def window(model: Model, spec: tuple[int, int] | None) -> tuple[datetime, datetime] | None:
    if spec is None:
        return None
    starts = model.now + timedelta(minutes=spec[0])
    return starts, starts + timedelta(minutes=spec[1])


def expect(outcome: str, call: Any) -> Any:
    """Run an API call whose duplicate-PIN outcome the model predicts."""
    try:
        result = call()
    except SeamHttpApiError as exc:
        assert exc.status_code == 409 and exc.code == "duplicate_access_code", exc
        assert outcome in ("yes", "maybe"), f"unexpected duplicate refusal: {exc}"
        return None
    assert outcome in ("no", "maybe"), "a duplicate PIN was accepted"
    return result if result is not None else True


def apply(seam: Seam, server: LockhubServer, ids: dict[str, str], model: Model,
          op: tuple[Any, ...]) -> None:
    kind = op[0]
    if kind == "create":
        _, device_index, pin, name, spec = op
        key, native = DEVICES[device_index]
        device_id = ids[key]
        frame = window(model, spec)
        params: dict[str, Any] = {"device_id": device_id}
        if pin is not None:
            params["code"] = pin
        if name is not None:
            params["name"] = name
        if frame is not None:
            params["starts_at"], params["ends_at"] = (t.isoformat() for t in frame)
        created = expect(model.clash(device_id, pin),
                         lambda: seam.access_codes.create(**params))
        if created is not None:
            assert created.status == ("setting" if frame is None else "unset")
            model.codes[created.access_code_id] = Code(
                created.access_code_id, device_id, native, created.code, name,
                *(frame or (None, None)))
    elif kind in ("update_code", "update_name", "update_window", "delete"):
        code = model.pick(op[1])
        if code is None:
            return
        if kind == "delete":
            seam.access_codes.delete(access_code_id=code.access_code_id)
            del model.codes[code.access_code_id]
        elif kind == "update_code":
            if expect(model.clash(code.device_id, op[2], exclude=code.access_code_id),
                      lambda: seam.access_codes.update(access_code_id=code.access_code_id,
                                                       code=op[2])):
                code.pin = op[2]
        elif kind == "update_name":
            seam.access_codes.update(access_code_id=code.access_code_id,
                                     name=NULL if op[2] is None else op[2])
            code.name = op[2]
        else:
            frame = window(model, op[2])
            if frame is None:
                seam.access_codes.update(access_code_id=code.access_code_id, type="ongoing")
                code.starts = code.ends = None
            else:
                seam.access_codes.update(access_code_id=code.access_code_id,
                                         type="time_bound", starts_at=frame[0].isoformat(),
                                         ends_at=frame[1].isoformat())
                code.starts, code.ends = frame
    elif kind == "advance":
        sandbox(server, "clock/advance", seconds=op[1] * 60)
        model.advance(op[1])
    elif kind == "fault":
        _, device_index, operation, count = op
        count = min(count, MAX_INJECTED_FAILURES - model.injected)
        if count > 0:
            sandbox(server, "devices/inject_failure", device_id=ids[DEVICES[device_index][0]],
                    error_type="device_offline", count=count, operations=[operation])
            model.injected += count


def differences(seam: Seam, server: LockhubServer, ids: dict[str, str],
                model: Model) -> list[str]:
    """Everything that differs from the desired state (empty once converged)."""
    found: list[str] = []
    for key, _ in DEVICES:
        device_id = ids[key]
        wanted = {c.access_code_id: c for c in model.codes.values() if c.device_id == device_id}
        listed = {c.access_code_id: c for c in seam.access_codes.list(device_id=device_id)}
        if set(listed) != set(wanted):
            found.append(f"{key}: codes {sorted(listed)} != expected {sorted(wanted)}")
        for access_code_id, code in wanted.items():
            got = listed.get(access_code_id)
            if got is None:
                continue
            status = code.status(model.now)
            pending = {m.mutation_code for m in got.pending_mutations}
            allowed = set() if code.on_lock(model.now) else {"deferring_creation"}
            actual = (got.status, got.code, got.name, got.errors, got.warnings,
                      got.is_scheduled_on_device)
            wanted_state = (status, code.pin, code.name, [], [],
                            code.native and code.starts is not None
                            and code.on_lock(model.now) and status == "unset")
            if actual != wanted_state or not pending <= allowed:
                found.append(f"{key}/{access_code_id}: {actual} pending={pending} != "
                             f"{wanted_state} (now {model.now}, window {code.starts}–"
                             f"{code.ends})")
        expected_slots = sorted(
            (c.pin, c.name,
             c.starts.isoformat() if c.native and c.starts else None,
             c.ends.isoformat() if c.native and c.ends else None)
            for c in wanted.values() if c.on_lock(model.now))
        actual_slots = sorted(
            (s["code"], s.get("name"),
             datetime.fromisoformat(s["starts_at"]).isoformat() if s.get("starts_at") else None,
             datetime.fromisoformat(s["ends_at"]).isoformat() if s.get("ends_at") else None)
            for s in lock_slots(server, device_id))
        if actual_slots != expected_slots:
            found.append(f"{key}: lock holds {actual_slots} != expected {expected_slots}")
    return found


@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(operations, min_size=1, max_size=8))
def test_every_sequence_converges_to_exactly_the_desired_codes_on_the_lock(
    lockhub: LockhubServer, ops: list[tuple[Any, ...]]
) -> None:
    seam = Seam(api_key=SANDBOX_KEY, endpoint=lockhub.url)
    assert seam.workspaces.reset_sandbox().status == "success"
    ids = seed_ids(lockhub)
    clock = sandbox(lockhub, "clock/freeze")["clock"]
    # Whole seconds keep the model's instants exactly representable on the wire (ms).
    model = Model(now=datetime.fromisoformat(clock["now"]))
    assert model.now.microsecond % 1000 == 0

    for op in ops:
        apply(seam, lockhub, ids, model, op)

    for key, _ in DEVICES:
        sandbox(lockhub, "devices/clear_faults", device_id=ids[key])
    last: list[list[str]] = [[]]

    def converged() -> bool:
        last[0] = differences(seam, lockhub, ids, model)
        return not last[0]

    try:
        wait_until(converged, timeout=SETTLE_TIMEOUT, interval=0.1,
                   message="the codes and the locks to converge")
    except AssertionError:
        raise AssertionError("did not converge:\n" + "\n".join(last[0])) from None
