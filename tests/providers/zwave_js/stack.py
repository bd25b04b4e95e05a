"""The Z-Wave JS test stack: the real zwave-js driver + zwave-server (npm) against a mock
controller with mock locks, all on loopback, plus the mock's "at the lock" control API.

    stack = ZWaveStack(); stack.start(tmp_dir)   # stack.ws_url, stack.control_url
    stack.keypad_unlock(2, user=3)               # the lock pushes what a real one would
    stack.temperature(5, 71.5)                   # the thermostat, node 5 (thermostats=False: none)
    stack.stop_server(); stack.start_server()    # restart zwave-server only; the mock keeps state
    stack.stop()

See tests/zwave_harness/README.md for the pieces and for what each action makes the driver emit.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from tests.server import free_port

HARNESS = Path(__file__).resolve().parents[2] / "zwave_harness"
SERVER_JS = HARNESS / "node_modules/@zwave-js/server/dist-esm/bin/server.js"
READY_TIMEOUT = 30.0
STOP_GRACE = 5.0

# Mock node ids in tests/zwave_harness/mock/locks.js
SCHLAGE_BE469 = 2  # Allegion, 30 user codes, no Supervision
YALE_YRD256 = 3  # ASSA ABLOY, 250 user codes, Supervision
KWIKSET_916 = 4  # Spectrum Brands, 30 user codes, no Supervision
LOCK_NODES = (SCHLAGE_BE469, YALE_YRD256, KWIKSET_916)
# tests/zwave_harness/mock/thermostats.js, on every network unless ZWaveStack(thermostats=False)
# (the lock tests include and exclude a lock as INCLUDED_LATER)
HONEYWELL_T6 = 5  # Honeywell TH6320ZW T6 Pro, mains, °F: heat 40-90 (68), cool 50-99 (76)
THERMOSTAT_NODES = (HONEYWELL_T6,)
INCLUDED_LATER = 6  # the node id the inclusion tests give a lock they include and exclude


def missing_prerequisite() -> str | None:
    """Why the stack cannot run here (None if it can): node or the npm harness is missing."""
    if shutil.which("node") is None:
        return "node is not installed (scripts/system-deps.sh installs it)"
    if not SERVER_JS.exists():
        return "the npm harness is not installed (run scripts/test-deps.sh)"
    return None


def _wait(what: str, ready, processes: list[subprocess.Popen[bytes]], log: Path) -> None:
    """Poll `ready()` until true; fail early (with the log's tail) if a process died."""
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        for p in processes:
            if p.poll() is not None:
                raise RuntimeError(f"{what}: process exited with {p.returncode}\n{_tail(log)}")
        if ready():
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what}: not ready after {READY_TIMEOUT}s\n{_tail(log)}")


def _tail(log: Path, lines: int = 40) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _stop(process: subprocess.Popen[bytes] | None) -> None:
    """SIGINT (both node programs shut down cleanly on it), SIGKILL after STOP_GRACE seconds."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=STOP_GRACE)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class ZWaveStack:
    """Mock network process + zwave-server process, on free loopback ports.

    The network has THERMOSTAT_NODES too (their interview adds ~1.4 s to start);
    thermostats=False leaves them out."""

    def __init__(self, log_level: str = "debug", thermostats: bool = True) -> None:
        self.log_level = log_level
        self.thermostats = thermostats
        self.dir: Path | None = None
        self.serial_port = 0
        self.ws_port = 0
        self.control_port = 0
        self.mock: subprocess.Popen[bytes] | None = None
        self.server: subprocess.Popen[bytes] | None = None
        self._server_starts = 0

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.ws_port}"

    @property
    def control_url(self) -> str:
        return f"http://127.0.0.1:{self.control_port}"

    @property
    def cache_dir(self) -> Path:
        assert self.dir is not None
        return self.dir / "cache"

    @property
    def mock_log(self) -> Path:
        assert self.dir is not None
        return self.dir / "mock.log"

    @property
    def server_log(self) -> Path:
        assert self.dir is not None
        return self.dir / f"server-{self._server_starts}.log"

    def start(self, tmp_dir: Path) -> ZWaveStack:
        """Start the mock network, then zwave-server (fresh driver cache under tmp_dir)."""
        self.dir = Path(tmp_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(self.cache_dir, ignore_errors=True)
        self.serial_port, self.ws_port, self.control_port = free_port(), free_port(), free_port()
        log = open(self.mock_log, "ab")
        self.mock = subprocess.Popen(
            ["node", str(HARNESS / "zwave-mock-tcp.cjs"), str(HARNESS / "mock/locks.js"),
             str(self.serial_port)],
            cwd=self.dir, stdout=log, stderr=subprocess.STDOUT,
            env={**os.environ, "ZW_MOCK_CONTROL_PORT": str(self.control_port),
                 "ZW_MOCK_THERMOSTATS": "1" if self.thermostats else "0"},
        )
        log.close()
        # The launcher logs "listening" after the control API and the serial port are bound.
        _wait("zwave mock", lambda: "mock: listening" in self.mock_log.read_text(errors="replace"),
              [self.mock], self.mock_log)
        try:
            self.start_server()
        except BaseException:
            self.stop()
            raise
        return self

    def start_server(self, fresh_cache: bool = False) -> None:
        """Start zwave-server against the running mock; ready when its websocket accepts.

        The cache dir of this stack start is kept (as a real restart would), so the nodes come
        back from the cache without a re-interview; pass fresh_cache=True to re-interview."""
        assert self.mock is not None and self.mock.poll() is None, "the mock is not running"
        assert self.server is None, "zwave-server is already running"
        if fresh_cache:
            shutil.rmtree(self.cache_dir, ignore_errors=True)
        # The mock takes one connection at a time: wait until it saw the previous one go.
        _wait("zwave mock free", self._mock_idle, [self.mock], self.mock_log)
        self._server_starts += 1
        log = open(self.server_log, "ab")
        self.server = subprocess.Popen(
            ["node", str(SERVER_JS), f"tcp://127.0.0.1:{self.serial_port}",
             "--host", "127.0.0.1", "--port", str(self.ws_port), "--disable-dns-sd",
             "--config", str(HARNESS / "server-config.js")],
            cwd=self.dir, stdout=log, stderr=subprocess.STDOUT,
            env={**os.environ, "ZW_CACHE_DIR": str(self.cache_dir), "ZW_LOGLEVEL": self.log_level},
        )
        log.close()
        _wait("zwave-server", lambda: _accepts(self.ws_port), [self.mock, self.server],
              self.server_log)

    def stop_server(self) -> None:
        """Stop zwave-server only (clients see the websocket close); the mock keeps running.

        zwave-server waits for its websocket clients to close: from async code whose event loop
        runs a client, call `await asyncio.to_thread(stack.stop_server)`, or it takes the
        5 s SIGKILL path (and a kill mid-interview leaves a partial cache)."""
        _stop(self.server)
        self.server = None

    def stop(self) -> None:
        self.stop_server()
        _stop(self.mock)
        self.mock = None

    def _mock_idle(self) -> bool:
        text = self.mock_log.read_text(errors="replace")
        return text.count("mock: client connected") == text.count("mock: client disconnected")

    # ---- the control API ("at the lock") ----------------------------------------------------

    def control(self, action: str, **params: Any) -> dict[str, Any]:
        """Call one control API action; raises RuntimeError with the mock's message on a 4xx."""
        query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
        url = f"{self.control_url}/{action}" + (f"?{query}" if query else "")
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as e:
            raise RuntimeError(f"{action}: {json.loads(e.read()).get('error')}") from None

    def keypad_unlock(self, node: int, user: int = 1) -> dict[str, Any]:
        return self.control("keypad_unlock", node=node, user=user)

    def keypad_lock(self, node: int, user: int | None = None) -> dict[str, Any]:
        return self.control("keypad_lock", node=node, user=user)

    def manual_lock(self, node: int) -> dict[str, Any]:
        return self.control("manual_lock", node=node)

    def manual_unlock(self, node: int) -> dict[str, Any]:
        return self.control("manual_unlock", node=node)

    def jam(self, node: int) -> dict[str, Any]:
        return self.control("jam", node=node)

    def wrong_code(self, node: int) -> dict[str, Any]:
        return self.control("wrong_code", node=node)

    def battery(self, node: int, level: int) -> dict[str, Any]:
        return self.control("battery", node=node, level=level)

    def set_code_at_lock(self, node: int, slot: int, code: str) -> dict[str, Any]:
        return self.control("set_code_at_lock", node=node, slot=slot, code=code)

    def clear_code_at_lock(self, node: int, slot: int) -> dict[str, Any]:
        return self.control("clear_code_at_lock", node=node, slot=slot)

    def codes(self, node: int) -> dict[int, str]:
        """The codes the lock itself holds: slot -> code."""
        return {int(k): v for k, v in self.control("codes", node=node)["codes"].items()}

    def state(self, node: int) -> dict[str, Any]:
        """The lock's own state: mode ("locked"/"unlocked"), battery, dead, refuse."""
        return self.control("state", node=node)

    def set_dead(self, node: int, on: bool = True) -> dict[str, Any]:
        return self.control("dead", node=node, on=int(on))

    def set_refuse(self, node: int, on: bool = True) -> dict[str, Any]:
        return self.control("refuse", node=node, on=int(on))

    def include_next(self, node: int, model: str = "schlage_be469") -> dict[str, Any]:
        """The next inclusion the driver starts adds this lock (models: see mock/locks.js)."""
        return self.control("include_next", node=node, model=model)

    def exclude_next(self, node: int) -> dict[str, Any]:
        """The next exclusion the driver starts removes this node."""
        return self.control("exclude_next", node=node)

    # ---- the control API ("at the thermostat"; node HONEYWELL_T6) ---------------------------

    def thermostat_state(self, node: int) -> dict[str, Any]:
        """The thermostat's own state: `mode` (Z-Wave mode, `mode_name` "Heat" ...),
        `heating_set_point`/`cooling_set_point` (°F), `fan_mode` (`fan_mode_name`), `fan_state`,
        `temperature` (°F), `humidity` (%), `operating_state` (`operating_state_name` "Idle",
        "Heating", "Cooling" ...), `dead`, `refuse`."""
        return self.control("thermostat_state", node=node)

    def temperature(self, node: int, fahrenheit: float) -> dict[str, Any]:
        """The room's air temperature: a Multilevel Sensor Report, then the HVAC re-decides
        (an Operating State and a Fan State Report if that changes). Returns the new state."""
        return self.control("temperature", node=node, f=fahrenheit)

    def humidity(self, node: int, percent: int) -> dict[str, Any]:
        """The room's relative humidity: a Multilevel Sensor Report. Returns the new state."""
        return self.control("humidity", node=node, pct=percent)

    def adjust_at_thermostat(self, node: int, mode: int | None = None, heat: float | None = None,
                             cool: float | None = None, fan: int | None = None) -> dict[str, Any]:
        """Someone at the thermostat changes any of the Z-Wave mode (0 Off, 1 Heat, 2 Cool,
        3 Auto), the heating/cooling set point (°F) and the fan mode (0 Auto low, 1 Low,
        6 Circulation): a Mode, Setpoint or Fan Mode Report for each, then the HVAC re-decides.
        Out-of-range values are a RuntimeError. Returns the new state."""
        return self.control("adjust_at_thermostat", node=node, mode=mode, heat=heat, cool=cool,
                            fan=fan)

    def operating_state(self, node: int, state: int) -> dict[str, Any]:
        """Force the operating state (0 Idle, 1 Heating, 2 Cooling, 3 Fan Only ...) and push it
        with the fan state; the next temperature, set point or mode change re-decides it."""
        return self.control("operating_state", node=node, state=state)
