"""Offline access codes on sandbox locks whose maker issues them (igloohome, TTLock): registered
with the maker's server (played at once by the sandbox), which picks the PIN; the maker's window
rules refused at create; not deletable once issued; a failed registration shown and retried.

Failures come from the lockhub-only sandbox controls; everything else goes through the SDK.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from seam import Seam, SeamHttpApiError, SeamHttpInvalidInputError

from tests.conformance.helpers import EPOCH, SANDBOX_KEY, find_device, raw, wait_until
from tests.server import LockhubServer

RECOVERY_TIMEOUT = 20.0


@pytest.fixture
def seam(own_server: LockhubServer) -> Seam:
    return Seam(api_key=SANDBOX_KEY, endpoint=own_server.url)


def iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def hour(value: datetime) -> datetime:
    return value.replace(minute=0, second=0, microsecond=0)


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def warning_codes(code: Any) -> list[str]:
    return [w.warning_code for w in code.warnings]


def wait_set(seam: Seam, access_code_id: str) -> Any:
    return wait_until(lambda: (c := seam.access_codes.get(access_code_id=access_code_id))
                      and c.status == "set" and c, timeout=RECOVERY_TIMEOUT,
                      message="the offline code registered and set")


def test_an_offline_code_is_issued_by_the_makers_server_and_set_in_its_window(
        seam: Seam) -> None:
    device = find_device(seam, manufacturer="igloohome")
    assert device.can_program_offline_access_codes
    now = datetime.now(UTC)
    created = seam.access_codes.create(
        device_id=device.device_id, name="Guest", is_offline_access_code=True,
        starts_at=iso(now - timedelta(minutes=5)), ends_at=iso(now + timedelta(hours=3)))
    assert created.is_offline_access_code and created.code is None  # the server picks it
    assert created.is_waiting_for_code_assignment is True
    # the window widens to whole hours
    assert parse(created.starts_at) == hour(now)
    assert parse(created.ends_at) == hour(now) + timedelta(hours=4)
    assert warning_codes(created) == ["offline_access_code_cannot_be_removed_remotely"]

    code = wait_set(seam, created.access_code_id)
    assert code.code and code.code.isdigit() and code.errors == []
    assert code.is_waiting_for_code_assignment is False
    [event] = seam.events.list(access_code_id=created.access_code_id, since=EPOCH,
                               event_types=["access_code.set_on_device"])
    assert event.code == code.code

    with pytest.raises(SeamHttpApiError) as refused:
        seam.access_codes.delete(access_code_id=created.access_code_id)
    assert refused.value.code == "offline_access_code_cannot_be_deleted"
    assert seam.access_codes.get(access_code_id=created.access_code_id).status == "set"


def test_a_code_longer_than_a_day_must_be_used_within_24_hours(seam: Seam) -> None:
    device = find_device(seam, manufacturer="igloohome")
    start = hour(datetime.now(UTC)) + timedelta(hours=2)
    created = seam.access_codes.create(
        device_id=device.device_id, name="Week", is_offline_access_code=True,
        starts_at=iso(start), ends_at=iso(start + timedelta(days=7)))
    assert warning_codes(created) == ["igloo_algopin_must_be_used_within_24_hours",
                                      "offline_access_code_cannot_be_removed_remotely"]
    registered = wait_until(lambda: (c := seam.access_codes.get(
        access_code_id=created.access_code_id)).code and c, timeout=RECOVERY_TIMEOUT,
        message="the PIN issued")
    assert registered.status == "unset"  # issued, not yet in its window


def test_day_rounding_asks_for_a_day_bound_code(seam: Seam) -> None:
    device = find_device(seam, manufacturer="igloohome")
    start = hour(datetime.now(UTC)) + timedelta(hours=1, minutes=30)
    created = seam.access_codes.create(
        device_id=device.device_id, name="Tenant", is_offline_access_code=True,
        max_time_rounding="1d", starts_at=iso(start),
        ends_at=iso(start + timedelta(days=40, hours=5)))
    starts_at, ends_at = parse(created.starts_at), parse(created.ends_at)
    assert starts_at == hour(start)
    assert ends_at - starts_at == timedelta(days=41)  # same time of day at both ends


@pytest.mark.parametrize(("window", "rounding", "field", "says"), [
    (timedelta(days=30), None, "ends_at", "at most 672 hours"),
    (timedelta(days=10), "1day", "ends_at", "29-367 days"),
    (timedelta(days=400), "1d", "ends_at", "29-367 days"),
])
def test_windows_the_maker_cannot_issue_are_refused(seam: Seam, window: timedelta,
                                                    rounding: str | None, field: str,
                                                    says: str) -> None:
    device = find_device(seam, manufacturer="igloohome")
    start = hour(datetime.now(UTC)) + timedelta(hours=1)
    with pytest.raises(SeamHttpInvalidInputError) as refused:
        seam.access_codes.create(device_id=device.device_id, is_offline_access_code=True,
                                 starts_at=iso(start), ends_at=iso(start + window),
                                 **({"max_time_rounding": rounding} if rounding else {}))
    assert says in str(refused.value)
    assert refused.value.get_validation_error_messages(field)


def test_one_time_codes_need_a_start_and_last_as_long_as_the_maker_says(seam: Seam) -> None:
    ttlock = find_device(seam, manufacturer="ttlock")
    with pytest.raises(SeamHttpInvalidInputError) as refused:
        seam.access_codes.create(device_id=ttlock.device_id, is_offline_access_code=True,
                                 is_one_time_use=True)
    assert "needs starts_at" in str(refused.value)
    start = hour(datetime.now(UTC)) + timedelta(hours=3)
    once = seam.access_codes.create(device_id=ttlock.device_id, is_offline_access_code=True,
                                    is_one_time_use=True, starts_at=iso(start))
    assert parse(once.ends_at) == start + timedelta(hours=6)  # TTLock: within 6 h of start
    assert once.is_one_time_use


def test_a_custom_pin_or_a_lock_whose_maker_issues_none_is_refused(seam: Seam) -> None:
    igloo = find_device(seam, manufacturer="igloohome")
    with pytest.raises(SeamHttpInvalidInputError):
        seam.access_codes.create(device_id=igloo.device_id, is_offline_access_code=True,
                                 code="123456")
    august = find_device(seam, manufacturer="august")
    with pytest.raises(SeamHttpApiError) as refused:
        seam.access_codes.create(device_id=august.device_id, is_offline_access_code=True)
    assert refused.value.code == "device_cannot_perform_action"


def test_a_failed_registration_shows_on_the_code_and_is_retried(
        seam: Seam, own_server: LockhubServer) -> None:
    device = find_device(seam, manufacturer="ttlock")
    with raw(own_server) as client:
        response = client.post("/_lockhub/sandbox/devices/inject_failure", json={
            "device_id": device.device_id, "error_type": "provider_error", "count": 2,
            "operations": ["create_offline_code"]})
    assert response.status_code == 200, response.text
    created = seam.access_codes.create(device_id=device.device_id, is_offline_access_code=True)
    failing = wait_until(lambda: (c := seam.access_codes.get(
        access_code_id=created.access_code_id)).errors and c, timeout=RECOVERY_TIMEOUT,
        message="the failed registration on the code")
    assert failing.status == "setting" and failing.code is None
    assert {e.error_code for e in failing.errors} == {"failed_to_set_on_device"}
    assert "delay_in_setting_on_device" in warning_codes(failing)
    code = wait_set(seam, created.access_code_id)  # an ongoing code: active once issued
    assert code.errors == [] and "delay_in_setting_on_device" not in warning_codes(code)
    assert code.type == "ongoing" and code.code
    assert warning_codes(code)[0] == "ttlock_offline_code_must_be_used_within_24_hours"
