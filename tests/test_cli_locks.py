"""The lock API from the command line: `lockhub devices list`, `locks lock|unlock`,
`codes list|create|delete` and `events list`, run as a user runs them (a subprocess on the
server's database) while `lockhub serve` runs the engine; the SDK checks what they did."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from seam import Seam

from tests.conformance.helpers import SANDBOX_KEY, SANDBOX_WORKSPACE, wait_until
from tests.server import LockhubServer, start_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LockhubServer]:
    srv = start_server(tmp_path_factory.mktemp("cli_locks"),
                       env={"LOCKHUB_SANDBOX_LATENCY_SCALE": "0"})
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def seam(server: LockhubServer) -> Seam:
    return Seam(api_key=SANDBOX_KEY, endpoint=server.url)


def lockhub(server: LockhubServer, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lockhub.cli", *args, "--workspace", SANDBOX_WORKSPACE,
         "--database-url", server.database_url],
        capture_output=True, text=True, timeout=60, cwd=Path(__file__).parent,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "200"})


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def one_line(result: subprocess.CompletedProcess[str], expected: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], result.stderr


def test_devices_list_shows_each_lock_and_its_state(server: LockhubServer, seam: Seam) -> None:
    out = ok(lockhub(server, "devices", "list", "--search", "Office"))
    expected = [d for d in seam.devices.list(search="Office")]
    assert expected
    for device in expected:
        line = next(line for line in out.splitlines() if device.device_id in line)
        assert device.display_name in line
        assert ("Unlocked" if device.properties.locked is False else "Locked") in line
    assert len([line for line in out.splitlines() if "-" in line and "│" in line]) == len(expected)


def test_devices_list_shows_a_thermostats_mode_and_a_sensors_level(server: LockhubServer,
                                                                   seam: Seam) -> None:
    out = ok(lockhub(server, "devices", "list"))
    thermostat = seam.thermostats.list(manufacturer="nest")[0]
    line = next(line for line in out.splitlines() if thermostat.device_id in line)
    setting = thermostat.properties.current_climate_setting
    assert setting.hvac_mode_setting.replace("_", "-").capitalize() in line
    assert f"{thermostat.properties.temperature_celsius:.1f} °C" in line
    sensor = seam.noise_sensors.list()[0]
    line = next(line for line in out.splitlines() if sensor.device_id in line)
    assert f"{sensor.properties.noise_level_decibels:.0f} dB" in line


def test_unlock_then_lock_a_door_by_name_and_by_id(server: LockhubServer, seam: Seam) -> None:
    door = seam.devices.get(name="Back Door")
    assert [d.device_id for d in seam.devices.list() if d.display_name == "Back Door"] == [
        door.device_id]
    out = ok(lockhub(server, "locks", "unlock", "Back Door"))
    assert out.startswith("Back Door: unlock door done")
    assert seam.devices.get(device_id=door.device_id).properties.locked is False
    out = ok(lockhub(server, "locks", "lock", door.device_id))
    assert out.startswith("Back Door: lock door done")
    assert seam.devices.get(device_id=door.device_id).properties.locked is True


def test_a_failed_or_impossible_action_is_one_line(server: LockhubServer, seam: Seam) -> None:
    one_line(lockhub(server, "locks", "unlock", "Front Door"), "devices are named 'Front Door'")
    one_line(lockhub(server, "locks", "unlock", "No Such Door"), "No device named")
    # TTLock's Front Door has remote unlock switched off: the API's refusal, in one line.
    ttlock = next(d for d in seam.locks.list(manufacturer="ttlock")
                  if d.display_name == "Front Door")
    result = lockhub(server, "locks", "unlock", ttlock.device_id)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert seam.devices.get(device_id=ttlock.device_id).properties.locked is True


def test_codes_create_list_delete(server: LockhubServer, seam: Seam) -> None:
    door = seam.devices.get(name="Back Door")
    out = ok(lockhub(server, "codes", "create", "--device", "Back Door", "--code", "2468",
                     "--name", "Cleaner"))
    code_id = out.split()[0]
    code = seam.access_codes.get(access_code_id=code_id)
    assert (code.device_id, code.code, code.name) == (door.device_id, "2468", "Cleaner")
    wait_until(lambda: seam.access_codes.get(access_code_id=code_id).status == "set",
               message="the code set")
    listed = ok(lockhub(server, "codes", "list", "--device", door.device_id))
    assert any(code_id in line and "2468" in line and "set" in line
               for line in listed.splitlines())
    # The device's rules, from the API: a PIN it cannot take is refused in one line.
    one_line(lockhub(server, "codes", "create", "--device", "Back Door", "--code", "12"),
             "lockhub:")
    ok(lockhub(server, "codes", "delete", code_id))
    wait_until(lambda: code_id not in [c.access_code_id for c in
                                       seam.access_codes.list(device_id=door.device_id)],
               message="the code removed")


def test_events_list_filters_by_type(server: LockhubServer, seam: Seam) -> None:
    door = seam.devices.get(name="Back Door")
    seam.locks.unlock_door(device_id=door.device_id, wait_for_action_attempt=True)
    out = ok(lockhub(server, "events", "list", "--type", "lock.unlocked", "--device",
                     door.device_id))
    rows = [line for line in out.splitlines() if "lock.unlocked" in line]
    assert rows and all(door.device_id in line for line in rows)
    assert "lock.locked " not in out
