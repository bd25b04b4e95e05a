"""A Zigbee2MQTT 2.x bridge simulator speaking Z2M's MQTT contract for door locks.

It follows /work/shared/reference/zigbee2mqtt-locks.md (section numbers below), never lockhub:
- bridge topics (§1.2-1.6): retained `bridge/state` with a last will, `bridge/info`,
  `bridge/devices`, `bridge/groups`; `bridge/request/*` answered on `bridge/response/*`;
  errors only on `bridge/logging`, identical consecutive payloads sent once;
- device topics (§1.7, §1.8): `<fn>` carries the whole cached state deep-merged with each
  update, sorted keys, `linkquality` always, `action*` never cached; `<fn>/availability`;
- commands (§3): `/set` and `/get` as `lib/extension/publish.ts` parses them, nothing
  optimistic for lock/unlock or PINs, the lock's reports arriving after a radio latency;
- failures (§4): validation texts, ZCL timeout / delivery-failure texts after a (shortened)
  timeout, silent refusals.

Two worlds live here: Z2M's view (the state cache, what is published) and the lock's truth
(`SimLock.lock_state`, its slots). The control methods act "at the lock"; what Z2M then
publishes follows from what the lock reports and whether Z2M is running to hear it.
"""

from __future__ import annotations

import asyncio
import contextvars
import copy
import json
import logging
import re
import socket
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, Literal

import aiomqtt

from tests.providers.zigbee2mqtt.models import (
    LOCK_ACTIONS,
    MODELS,
    PROGRAMMING_ACTIONS,
    SOUND_VOLUMES,
    SOURCE_NAMES,
    LockModel,
)

KEYPAD, RF, MANUAL, RFID = 0, 1, 2, 3
NO_USER = 0xFFFF
LOCKED, UNLOCKED, NOT_FULLY_LOCKED = 1, 2, 0  # ZCL closuresDoorLock.lockState
USER_STATUS = {0: "available", 1: "enabled", 3: "disabled"}  # zhc constants.lockUserStatus
USER_TYPES = {"unrestricted": 0, "year_day_schedule": 1, "week_day_schedule": 2, "master": 3,
              "non_access": 4}
STATE_VALUES = ("on", "off", "toggle", "open", "close", "stop", "lock", "unlock")
COORDINATOR_IEEE = "0x00124b0000c0ffee"
ZCL_OPTIONS = ('{"timeout":10000,"disableResponse":false,"disableRecovery":false,'
               '"disableDefaultResponse":true,"direction":0,"reservedBits":0,"writeUndiv":false}')

# Which bridge "process" a task belongs to: a task started by Z2M before a crash must not
# publish from beyond the grave. Tasks started from tests or by the lock itself carry None.
_SESSION: contextvars.ContextVar[int | None] = contextvars.ContextVar("z2m_session", default=None)


def dumps(value: Any) -> str:
    """json-stable-stringify: sorted keys, no spaces."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def deep_merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """objectAssignDeep: nested objects merge key by key, everything else is replaced."""
    out = copy.deepcopy(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _never_cached(key: str) -> bool:
    return key == "action" or key.startswith("action_")


def _js_typeof(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "object"


def _js_int(value: Any) -> int | None:
    """What `isInRange(0, n, user)` lets through: numbers and numeric strings."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _js_string(value: Any) -> str:
    """`value.toString()` for the JSON types a PIN may arrive as."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class ConverterError(Exception):
    """A converter throwing: Z2M logs `Publish '<set|get>' '<key>' to '<fn>' failed: 'Error: …'`."""


class RequestError(Exception):
    """A bridge request failing: `{"data":{},"status":"error","error":…}`."""


@dataclass
class Slot:
    """A PIN slot as the lock holds it."""

    pin: str
    status: int = 1  # ZCL user status: 1 enabled, 3 disabled
    user_type: str = "unrestricted"


@dataclass
class SimLock:
    """One lock: its truth (`lock_state`, `slots` …), its fault switches, and Z2M's cache."""

    ieee: str
    friendly_name: str
    model: LockModel
    network_address: int
    lock_state: int = LOCKED
    battery: int = 87
    sound_volume: str = "low_volume"
    auto_relock_time: int = 0
    door_state: str = "closed"
    linkquality: int = 120
    slots: dict[int, Slot] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    # Per-device behaviour (defaults from the model, see §8 "varies by model and firmware").
    operation_events: bool = True
    rf_programming_events: bool = True
    rf_user: int = NO_USER
    reject_duplicate_pins: bool = True
    # Fault switches.
    reachable: bool = True
    silent: bool = False
    refuse: bool = False
    jammed: bool = False
    # Z2M's side.
    interview_state: str = "SUCCESSFUL"
    state: dict[str, Any] = field(default_factory=dict)
    relock_task: asyncio.Task[None] | None = None

    @property
    def hears(self) -> bool:
        """Whether Z2M receives what the lock sends."""
        return self.reachable and not self.silent


class Z2MBridge:
    """The simulator. `await start()`, drive it over MQTT and with the control methods,
    `await stop()`.

    Times are compressed: `radio_latency` stands for a ZCL round trip, `zcl_timeout` for
    zigbee-herdsman's 10 s command timeout (error texts still say 10000ms, as Z2M's do).
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        username: str | None = None,
        password: str | None = None,
        base_topic: str = "zigbee2mqtt",
        radio_latency: float = 0.02,
        zcl_timeout: float = 0.3,
        availability: bool = True,
        event_order: Literal["event_first", "report_first"] = "event_first",
        pin_code_format: Literal["string", "buffer", "empty"] = "string",
        legacy_availability_payload: bool = False,
        log_publishes: bool = False,
        reconnect_interval: float = 0.1,
        republish_delay: float = 0.2,
        time_scale: float = 1.0,
        version: str = "2.12.1",
    ) -> None:
        self.host, self.port = host, port
        self.username, self.password = username, password
        self.base_topic = base_topic
        self.radio_latency = radio_latency
        self.zcl_timeout = zcl_timeout
        self.availability = availability
        self.event_order = event_order
        self.pin_code_format = pin_code_format
        self.legacy_availability_payload = legacy_availability_payload
        self.log_publishes = log_publishes
        self.reconnect_interval = reconnect_interval
        self.republish_delay = republish_delay
        self.time_scale = time_scale
        self.version = version
        self.devices: dict[str, SimLock] = {}
        self.permit_join = False
        self._next_nwk = 0x1A2B
        self._client: aiomqtt.Client | None = None
        self._connected = asyncio.Event()
        self._ready = asyncio.Event()
        self._alive = False
        self._session = 0
        self._initial_connect = True
        self._run_task: asyncio.Task[None] | None = None
        self._republish_task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._retained: dict[str, tuple[str, int]] = {}
        self._last_logging_payload: str | None = None
        self._tsn = 0
        self._startup_marker: str | None = None

    # --- devices --------------------------------------------------------------------------

    def add_lock(self, ieee: str, friendly_name: str | None = None, model: str | LockModel = "YRD226HA2619",
                 **fields: Any) -> SimLock:
        """Pair a lock before start (it is in `bridge/devices` from the first publish)."""
        lock_model = MODELS[model] if isinstance(model, str) else model
        fields.setdefault("operation_events", lock_model.operation_events)
        fields.setdefault("rf_programming_events", lock_model.rf_programming_events)
        if lock_model.has_pincode and lock_model.options:
            fields.setdefault("options", {"expose_pin": False})
        self._next_nwk += 0x111
        device = SimLock(ieee=ieee, friendly_name=friendly_name or ieee, model=lock_model,
                         network_address=self._next_nwk & 0xFFFF, **fields)
        device.state = self._initial_state(device)
        self.devices[ieee] = device
        return device

    def _initial_state(self, device: SimLock) -> dict[str, Any]:
        """What the configure-time reads left in Z2M's cache."""
        state: dict[str, Any] = {**self._lock_report(device), "battery": device.battery,
                                 "linkquality": device.linkquality}
        model = device.model
        if model.has_expose("sound_volume"):
            state["sound_volume"] = device.sound_volume
        if model.has_expose("auto_relock_time") and not model.nimly:
            state["auto_relock_time"] = device.auto_relock_time
        if model.has_expose("door_state"):
            state["door_state"] = device.door_state
        if model.has_expose("battery_low"):
            state["battery_low"] = device.battery <= 15
        return state

    def device(self, ieee_or_name: str) -> SimLock:
        found = self._resolve(ieee_or_name)
        if found is None:
            raise KeyError(ieee_or_name)
        return found

    def _resolve(self, ident: str) -> SimLock | None:
        """`settings.getDevice`: the friendly name or the IEEE address."""
        if ident in self.devices:
            return self.devices[ident]
        return next((d for d in self.devices.values() if d.friendly_name == ident), None)

    # --- lifecycle --------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._alive

    async def start(self, timeout: float = 10.0) -> None:
        """Start the bridge "process": connect, publish the start-up set, answer commands."""
        if self._alive:
            return
        self._session += 1
        self._alive = True
        self._initial_connect = True
        self._ready.clear()
        session = self._session
        self._run_task = asyncio.create_task(self._run(session), context=contextvars.Context())
        await asyncio.wait_for(self._ready.wait(), timeout)

    async def stop(self) -> None:
        """A clean stop: `bridge/state` offline (retained), then disconnect. Cancels all tasks,
        lock-side ones included, so nothing outlives the test."""
        if self._alive and self._connected.is_set():
            await self._publish("bridge/state", self._state_payload("offline"), retain=True, qos=1)
        await self._end_process()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    async def clear_retained(self) -> None:
        """Empty every retained topic this bridge left on the broker (a shared broker then
        starts the next test clean). Works whether or not the bridge is running."""
        topics = set(self._retained) | {f"{self.base_topic}/bridge/state"} | {
            f"{self.base_topic}/{d.friendly_name}/availability" for d in self.devices.values()}
        async with aiomqtt.Client(self.host, self.port, username=self.username,
                                  password=self.password) as client:
            for topic in sorted(topics):
                await client.publish(topic, b"", qos=1, retain=True)

    async def restart(self) -> None:
        """Z2M restarting: clean stop if running, then the full start-up publish again
        (cached states included, as `cache_state_send_on_startup` does)."""
        if self._alive and self._connected.is_set():
            await self._publish("bridge/state", self._state_payload("offline"), retain=True, qos=1)
        await self._end_process()
        await self.start()

    async def drop_connection(self) -> None:
        """The bridge process disappears mid-whatever: the TCP connection breaks without an
        MQTT DISCONNECT, so the broker publishes the last will (`{"state":"offline"}`).
        Commands in flight still reach the locks, but nothing is published about them."""
        client = self._client
        self._alive = False
        self._session += 1
        if client is not None:
            # No public API for "die without DISCONNECT": break the socket under paho, and
            # stop paho from asking the event loop to write (a DISCONNECT) to the dead fd.
            client._client.on_socket_register_write = None
            sock = client._client.socket()
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        await self._end_process()

    async def _end_process(self) -> None:
        self._alive = False
        self._session += 1
        if self._republish_task is not None:
            self._republish_task.cancel()
        task, self._run_task = self._run_task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        self._client = None
        self._connected.clear()

    async def _run(self, session: int) -> None:
        _SESSION.set(session)
        will = aiomqtt.Will(f"{self.base_topic}/bridge/state", self._state_payload("offline"),
                            qos=1, retain=True)
        while self._alive and session == self._session:
            client = aiomqtt.Client(self.host, self.port, username=self.username,
                                    password=self.password, will=will,
                                    identifier=f"zigbee2mqtt_sim_{id(self):x}_{session}",
                                    logger=logging.getLogger("z2m_sim.mqtt"))
            try:
                async with client:
                    self._client = client
                    self._connected.set()
                    await self._on_connect(client)
                    async for message in client.messages:
                        self._spawn(self._on_message(message))
            except aiomqtt.MqttError:
                pass
            finally:
                self._connected.clear()
                self._client = None
            if not self._alive or session != self._session:
                return
            # mqtt.js reconnects by itself every `reconnectPeriod`.
            await asyncio.sleep(self.reconnect_interval)

    async def _on_connect(self, client: aiomqtt.Client) -> None:
        """`lib/mqtt.ts` onConnect, then (first connect only) the extensions' start-up."""
        await self._publish("bridge/state", self._state_payload("online"), retain=True, qos=1)
        await client.subscribe(f"{self.base_topic}/#")
        if not self._initial_connect:
            # Issue #9629: the broker may have lost retained messages; republish them unless
            # the broker echoes bridge/info back first.
            self._republish_task = self._spawn(self._republish_retained())
            return
        self._initial_connect = False
        await self._publish_info()
        await self._publish_devices()
        await self._publish("bridge/groups", "[]", retain=True)
        if self.availability:
            for device in list(self.devices.values()):
                await self._publish_availability(device)
        for device in list(self.devices.values()):
            if device.state:
                await self._publish(device.friendly_name, dumps(device.state))
        # Ready once the broker has echoed the last start-up publish back (Z2M subscribes to
        # its own base topic), so a client subscribing after start() sees the whole snapshot.
        self._startup_marker = f"{self.base_topic}/bridge/logging"
        started = dumps({"level": "info", "message": "z2m: Zigbee2MQTT started!"})
        await self._publish("bridge/logging", started, log=False)

    async def _republish_retained(self) -> None:
        await asyncio.sleep(self.republish_delay)
        for topic, (payload, qos) in list(self._retained.items()):
            await self._publish(topic, payload, retain=True, qos=qos, absolute=True)

    def _spawn(self, coro: Coroutine[Any, Any, Any], *, lock_side: bool = False) -> asyncio.Task[Any]:
        """Track a task; `lock_side` tasks belong to the lock, not to a bridge process."""
        context = contextvars.Context() if lock_side else None
        task = asyncio.create_task(coro, context=context)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # --- publishing ---------------------------------------------------------------------------

    def _live(self) -> bool:
        """Whether the calling task belongs to the running bridge process."""
        session = _SESSION.get()
        return self._alive and (session is None or session == self._session)

    async def _publish(self, topic: str, payload: str, *, retain: bool = False, qos: int = 0,
                       absolute: bool = False, log: bool = True) -> None:
        if not self._live():
            return
        full = topic if absolute else f"{self.base_topic}/{topic}"
        if retain:
            if payload == "":
                self._retained.pop(full, None)
            else:
                self._retained[full] = (payload, qos)
        client = self._client
        if client is None or not self._connected.is_set():
            return  # Z2M drops publishes while disconnected ("Not connected to MQTT server!")
        try:
            await client.publish(full, payload, qos=qos, retain=retain)
        except aiomqtt.MqttError:
            return
        if log and self.log_publishes:
            await self._log("info", f"MQTT publish: topic '{full}', payload '{payload}'",
                            namespace="z2m:mqtt")

    async def _log(self, level: str, message: str, namespace: str = "z2m") -> None:
        """`bridge/logging`; an identical payload right after itself is not repeated."""
        payload = dumps({"level": level, "message": f"{namespace}: {message}"})
        if payload == self._last_logging_payload or not self._live():
            return
        self._last_logging_payload = payload
        await self._publish("bridge/logging", payload, log=False)

    def _state_payload(self, state: str) -> str:
        return state if self.legacy_availability_payload else dumps({"state": state})

    async def _publish_availability(self, device: SimLock) -> None:
        state = "online" if device.reachable else "offline"
        await self._publish(f"{device.friendly_name}/availability", self._state_payload(state),
                            retain=True, qos=1)

    async def _publish_state(self, device: SimLock, update: dict[str, Any]) -> None:
        """`publishEntityState`: cache deep-merge, `action*` never cached, sorted keys."""
        if not self._live() or device.ieee not in self.devices:
            return
        message = deep_merge(device.state, {**update, "linkquality": device.linkquality})
        device.state = {k: v for k, v in message.items() if not _never_cached(k)}
        await self._publish(device.friendly_name, dumps(message))

    async def _publish_info(self) -> None:
        info = {
            "version": self.version,
            "commit": "6835cbf",
            "zigbee_herdsman": {"version": "10.6.1"},
            "zigbee_herdsman_converters": {"version": "26.76.0"},
            "coordinator": {"ieee_address": COORDINATOR_IEEE, "type": "EmberZNet",
                            "meta": {"manufacturer": "Silicon Labs", "revision": "7.4.4"}},
            "network": {"channel": 11, "pan_id": 6754, "extended_pan_id": "0xdddddddddddddddd"},
            "log_level": "info",
            "permit_join": self.permit_join,
            "restart_required": False,
            "config": {
                "mqtt": {"base_topic": self.base_topic,
                         "server": f"mqtt://{self.host}:{self.port}"},
                "availability": {"enabled": self.availability},
                "advanced": {"cache_state": True, "output": "json", "last_seen": "disable",
                             "legacy_availability_payload": self.legacy_availability_payload},
                "homeassistant": {"enabled": False},
                "devices": {d.ieee: {"friendly_name": d.friendly_name, **d.options}
                            for d in self.devices.values()},
            },
            "config_schema": {},
        }
        await self._publish("bridge/info", dumps(info), retain=True)

    def _device_entry(self, device: SimLock) -> dict[str, Any]:
        model = device.model
        entry: dict[str, Any] = {
            "ieee_address": device.ieee,
            "type": "EndDevice",
            "network_address": device.network_address,
            "friendly_name": device.friendly_name,
            "disabled": False,
            "power_source": "Battery",
            "model_id": model.zigbee_model,
            "manufacturer": model.manufacturer,
            "software_build_id": "3.0.2",
            "date_code": "20231107",
            "interview_state": device.interview_state,
            "interviewing": device.interview_state == "IN_PROGRESS",
            "interview_completed": device.interview_state == "SUCCESSFUL",
            "supported": device.interview_state == "SUCCESSFUL",
            "endpoints": {str(model.endpoint): {
                "bindings": [], "configured_reportings": [], "scenes": [],
                "clusters": {"input": ["genBasic", "genPowerCfg", "genIdentify", "genAlarms",
                                       "genPollCtrl", "closuresDoorLock"],
                             "output": ["genOta", "genTime"]}}},
        }
        if device.interview_state == "SUCCESSFUL":
            entry["definition"] = self._definition(model)
        return entry

    @staticmethod
    def _definition(model: LockModel) -> dict[str, Any]:
        return {"source": "native", "model": model.model, "vendor": model.vendor,
                "description": model.description, "exposes": model.exposes_with_linkquality(),
                "options": list(model.options), "supports_ota": model.supports_ota}

    async def _publish_devices(self) -> None:
        coordinator = {
            "ieee_address": COORDINATOR_IEEE, "type": "Coordinator", "network_address": 0,
            "friendly_name": "Coordinator", "disabled": False, "supported": True,
            "interview_state": "SUCCESSFUL", "interview_completed": True, "interviewing": False,
            "endpoints": {"1": {"bindings": [], "configured_reportings": [], "scenes": [],
                                "clusters": {"input": [], "output": []}}},
        }
        entries = [coordinator, *(self._device_entry(d) for d in self.devices.values())]
        await self._publish("bridge/devices", dumps(entries), retain=True)

    async def _event(self, kind: str, data: dict[str, Any]) -> None:
        await self._publish("bridge/event", dumps({"type": kind, "data": data}))

    # --- incoming MQTT -----------------------------------------------------------------------

    async def _on_message(self, message: aiomqtt.Message) -> None:
        topic = message.topic.value
        raw = message.payload
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes | bytearray) else str(raw or "")
        prefix = f"{self.base_topic}/"
        if not topic.startswith(prefix):
            return
        rest = topic[len(prefix):]
        if topic == self._startup_marker:
            self._startup_marker = None
            self._ready.set()
        if rest == "bridge/info":
            if self._republish_task is not None and message.retain:
                self._republish_task.cancel()
            return
        if rest.startswith("bridge/request/"):
            await self._on_request(rest[len("bridge/request/"):], text)
            return
        if rest.startswith("bridge"):
            return
        match = re.match(r"^(.+?)/(get|set)(?:/(.+))?$", rest)
        if match:
            await self._on_command(match.group(1), match.group(2), match.group(3), text)

    async def _on_request(self, name: str, text: str) -> None:
        try:
            payload: Any = json.loads(text) if text else ""
        except ValueError:
            payload = text
        handlers = {
            "health_check": self._req_health_check,
            "device/rename": self._req_rename,
            "device/options": self._req_options,
            "device/remove": self._req_remove,
            "permit_join": self._req_permit_join,
        }
        handler = handlers.get(name)
        if handler is None:
            return  # no extension handles it: no response at all
        try:
            response: dict[str, Any] = {"data": await handler(payload), "status": "ok"}
        except RequestError as error:
            await self._log("error", f"Request '{self.base_topic}/bridge/request/{name}' failed "
                                     f"with error: '{error}'")
            response = {"data": {}, "status": "error", "error": str(error)}
        if isinstance(payload, dict) and "transaction" in payload:
            response["transaction"] = payload["transaction"]
        await self._publish(f"bridge/response/{name}", dumps(response))

    async def _req_health_check(self, payload: Any) -> dict[str, Any]:
        return {"healthy": True}

    def _request_device(self, payload: Any, key: str) -> SimLock:
        ident = payload.get(key) if isinstance(payload, dict) else None
        device = self._resolve(str(ident)) if ident is not None else None
        if device is None:
            raise RequestError(f"Device '{ident}' does not exist")
        return device

    async def _req_rename(self, payload: Any) -> dict[str, Any]:
        device = self._request_device(payload, "from")
        to = payload.get("to")
        if not isinstance(to, str) or not to:
            raise RequestError("Invalid payload")
        if self._resolve(to) not in (None, device):
            raise RequestError(f"friendly_name '{to}' is already in use")
        old = device.friendly_name
        device.friendly_name = to
        if self.availability:
            await self._publish(f"{old}/availability", "", retain=True, qos=1)
            await self._publish_availability(device)
        await self._publish_devices()
        await self._publish_info()
        return {"from": old, "to": to,
                "homeassistant_rename": bool(payload.get("homeassistant_rename", False))}

    async def _req_options(self, payload: Any) -> dict[str, Any]:
        device = self._request_device(payload, "id")
        options = payload.get("options")
        if not isinstance(options, dict):
            raise RequestError("Invalid payload")
        before = {"friendly_name": device.friendly_name, **device.options}
        device.options.update(options)
        await self._publish_info()
        await self._publish_devices()
        return {"from": before, "to": {"friendly_name": device.friendly_name, **device.options},
                "id": payload["id"], "restart_required": False}

    async def _req_remove(self, payload: Any) -> dict[str, Any]:
        device = self._request_device(payload, "id")
        del self.devices[device.ieee]
        if self.availability:
            await self._publish(f"{device.friendly_name}/availability", "", retain=True, qos=1)
        await self._publish_devices()
        return {"id": payload["id"], "block": bool(payload.get("block", False)),
                "force": bool(payload.get("force", False))}

    async def _req_permit_join(self, payload: Any) -> dict[str, Any]:
        time = payload.get("time", 254) if isinstance(payload, dict) else 254
        self.permit_join = bool(time)
        await self._publish_info()
        return {"time": time}

    async def _on_command(self, ident: str, kind: str, attribute: str | None, text: str) -> None:
        """`lib/extension/publish.ts` onMQTTMessage."""
        device = self._resolve(ident)
        if device is None:
            await self._log("error", f"Entity '{ident}' is unknown")
            return
        if device.interview_state != "SUCCESSFUL":
            await self._log("error", f"Cannot publish to unsupported device '{device.friendly_name}'")
            return
        message: Any
        if attribute:
            try:
                message = {attribute: json.loads(text)}
            except ValueError:
                message = {attribute: text}
        else:
            try:
                message = json.loads(text)
            except ValueError:
                message = {"state": text} if text.lower() in STATE_VALUES else None
        if message is None:
            await self._log("error", "Invalid message 'undefined', skipping...")
            return
        if not isinstance(message, dict):
            return  # Object.entries of a number or string is empty: nothing happens
        setters = {"state": self._set_state, "pin_code": self._set_pin_code,
                   "user_status": self._set_user_status, "sound_volume": self._set_sound_volume,
                   "auto_relock_time": self._set_auto_relock_time, "read": self._set_read}
        getters = {"state": self._get_state, "pin_code": self._get_pin_code,
                   "user_status": self._get_user_status, "sound_volume": self._get_sound_volume,
                   "auto_relock_time": self._get_auto_relock_time}
        table = setters if kind == "set" else getters
        for key, value in message.items():
            handler = table.get(key) if key in device.model.writable_keys else None
            if handler is None:
                await self._log("error", f"No converter available for '{key}' on "
                                         f"'{device.friendly_name}': ({dumps(value)})")
                continue
            try:
                await handler(device, value)
            except ConverterError as error:
                await self._log("error", f"Publish '{kind}' '{key}' to '{device.friendly_name}' "
                                         f"failed: 'Error: {error}'")

    # --- the radio -----------------------------------------------------------------------------

    async def _zcl(self, device: SimLock, call: str, cmd_id: int = 0) -> None:
        """One ZCL request/response: the frame reaches the lock after `radio_latency`, or
        zigbee-herdsman gives up after `zcl_timeout` with the adapter's error text."""
        self._tsn = (self._tsn + 1) % 256
        where = f"ZCL command {device.ieee}/{device.model.endpoint} closuresDoorLock.{call}"
        if not device.reachable:
            await asyncio.sleep(self.zcl_timeout)
            raise ConverterError(f"{where} failed (Delivery failed for '{device.network_address}'.)")
        if device.silent:
            await asyncio.sleep(self.zcl_timeout)
            raise ConverterError(
                f"{where} failed (Timeout after 10000ms [address={device.network_address} "
                f"endpoint={device.model.endpoint} clusterId=257 cmdId={cmd_id} tsn={self._tsn}])")
        await asyncio.sleep(self.radio_latency)

    def _lock_report(self, device: SimLock) -> dict[str, Any]:
        """fz.lock for a lockState attribute report."""
        lock_state = {LOCKED: "locked", UNLOCKED: "unlocked", NOT_FULLY_LOCKED: "not_fully_locked"}
        report: dict[str, Any] = {"state": "LOCK" if device.lock_state == LOCKED else "UNLOCK"}
        if device.lock_state in lock_state:
            report["lock_state"] = lock_state[device.lock_state]
        return report

    async def _lock_sends(self, device: SimLock, update: dict[str, Any]) -> None:
        """A message from the lock: Z2M hears it only if the radio link works."""
        if device.hears:
            await self._publish_state(device, update)

    async def _operation(self, device: SimLock, new_state: int | None, action: str, source: int,
                         user: int, pin: str | None = None) -> None:
        """The lock moves (or not) and reports: operation event notification and lockState
        attribute report, in `event_order`."""
        if new_state is not None:
            device.lock_state = new_state
        messages: list[dict[str, Any]] = []
        if device.model.nimly:
            messages += self._nimly_messages(device, action, source, user, pin)
        if device.operation_events:
            messages.append({"action": action, "action_source": source,
                             "action_source_name": SOURCE_NAMES[source], "action_user": user})
        report = [self._lock_report(device)] if new_state is not None else []
        ordered = messages + report if self.event_order == "event_first" else report + messages
        for update in ordered:
            await self._lock_sends(device, update)
        if new_state == UNLOCKED:
            self._arm_relock(device)
        elif new_state is not None and device.relock_task is not None:
            device.relock_task.cancel()

    @staticmethod
    def _nimly_messages(device: SimLock, action: str, source: int, user: int,
                        pin: str | None) -> list[dict[str, Any]]:
        """onesti.ts: attribute 256/257 report (`last_*`), then the raw `easycodetouch_action`."""
        source_name = {KEYPAD: "keypad", RF: "zigbee", MANUAL: "self", RFID: "rfid"}.get(source, "unknown")
        locking = "lock" in action and "unlock" not in action
        attrs: dict[str, Any] = {f"last_{'lock' if locking else 'unlock'}_user": user,
                                 f"last_{'lock' if locking else 'unlock'}_source": source_name}
        if pin is not None:
            attrs["last_used_pin_code"] = pin
        raw_action = {KEYPAD: "keypad", MANUAL: "manual", RFID: "rfid"}.get(source)
        verb = "lock" if locking else "unlock"
        if raw_action is not None:
            name = f"{raw_action}_{verb}"
        else:
            name = "lock" if locking else "zigbee_unlock"
        if action.endswith("failure_invalid_pin_or_id"):
            return [attrs]
        return [attrs, {"action": name}]

    def _arm_relock(self, device: SimLock) -> None:
        if device.relock_task is not None:
            device.relock_task.cancel()
        if device.auto_relock_time > 0:
            device.relock_task = self._spawn(self._relock(device), lock_side=True)

    async def _relock(self, device: SimLock) -> None:
        await asyncio.sleep(device.auto_relock_time * self.time_scale)
        device.relock_task = None
        if device.lock_state == UNLOCKED:
            await self._operation(device, LOCKED, "auto_lock", MANUAL, NO_USER)

    async def _programming(self, device: SimLock, action: str, source: int, user: int) -> None:
        assert action in PROGRAMMING_ACTIONS
        await self._lock_sends(device, {"action": action, "action_source": source,
                                        "action_source_name": SOURCE_NAMES[source],
                                        "action_user": user})

    def _users_entry(self, device: SimLock, user: int) -> dict[str, Any]:
        """fz.lock_pin_code_response for one slot."""
        slot = device.slots.get(user)
        entry: dict[str, Any] = {"status": USER_STATUS.get(slot.status if slot else 0,
                                                           f"not_supported_{slot and slot.status}")}
        if slot and slot.pin and device.options.get("expose_pin"):
            if self.pin_code_format == "string":
                entry["pin_code"] = slot.pin
            elif self.pin_code_format == "buffer":
                entry["pin_code"] = {"type": "Buffer", "data": [ord(c) for c in slot.pin]}
            else:
                entry["pin_code"] = {}
        return entry

    async def _send_users(self, device: SimLock, user: int) -> None:
        if device.model.answers_pin_reads:
            await self._lock_sends(device, {"users": {str(user): self._users_entry(device, user)}})

    # --- /set and /get converters ---------------------------------------------------------

    async def _set_state(self, device: SimLock, value: Any) -> None:
        """tz.lock: lockDoor/unlockDoor/toggleDoor; Z2M itself publishes nothing."""
        if isinstance(value, str):
            state: str | None = value.upper()
            code = ""
        elif isinstance(value, dict) and isinstance(value.get("state"), str):
            state = value["state"].upper()
            code = value["code"] if isinstance(value.get("code"), str) else ""
        else:
            state, code = None, ""
        if state not in ("LOCK", "UNLOCK", "TOGGLE"):
            raise ConverterError(f"'{state if state is not None else 'null'}' not allowed, "
                                 "choose between: LOCK,UNLOCK,TOGGLE")
        command = f"{state.lower()}Door"
        cmd_id = {"LOCK": 0, "UNLOCK": 1, "TOGGLE": 2}[state]
        await self._zcl(device, f'{command}({{"pincodevalue":"{code}"}}, {ZCL_OPTIONS})', cmd_id)
        if device.refuse:
            return  # lockDoorRsp with a failure status: zh does not check it, nothing happens
        if state == "TOGGLE":
            state = "UNLOCK" if device.lock_state == LOCKED else "LOCK"
        target = LOCKED if state == "LOCK" else UNLOCKED
        if device.jammed:
            target = NOT_FULLY_LOCKED
        await self._operation(device, target, state.lower(), RF, device.rf_user)

    async def _get_state(self, device: SimLock, value: Any) -> None:
        await self._zcl(device, f'read(["lockState"], {ZCL_OPTIONS})')
        await self._lock_sends(device, self._lock_report(device))

    def _slot_number(self, device: SimLock, value: dict[str, Any], message: str) -> int:
        user = _js_int(value.get("user"))
        if user is None and isinstance(value.get("user"), float):
            raise ConverterError("user must be numbers")
        if user is None or not 0 <= user <= device.model.pin_code_count - 1:
            raise ConverterError(message)
        return user

    async def _set_pin_code(self, device: SimLock, value: Any) -> None:
        """tz.pincode_lock: setPinCode / clearPinCode; the lock may send a programming event."""
        if not isinstance(value, dict):
            raise ConverterError(f"pin_code is not a object, got {_js_typeof(value)} ({dumps(value)})")
        user = self._slot_number(device, value, "user must be in range for device")
        pin = value.get("pin_code")
        if pin is None:
            await self._zcl(device, f'clearPinCode({{"userid":{user}}}, {ZCL_OPTIONS})', 7)
            device.slots.pop(user, None)
            if device.rf_programming_events:
                await self._programming(device, "pin_code_deleted", RF, user)
            return
        user_type = value.get("user_type") or "unrestricted"
        if user_type not in USER_TYPES:
            raise ConverterError(f"Expected one of: {', '.join(USER_TYPES)}, got: '{user_type}'")
        enabled = value.get("user_enabled")
        status = 3 if enabled is not None and not enabled else 1
        pin_text = _js_string(pin)
        args = dumps({"userid": user, "userstatus": status, "usertype": USER_TYPES[user_type],
                      "pincodevalue": pin_text})
        await self._zcl(device, f"setPinCode({args}, {ZCL_OPTIONS})", 5)
        if not self._lock_accepts_pin(device, user, pin_text):
            return  # setPinCodeRsp with a failure status: nobody looks at it
        device.slots[user] = Slot(pin=pin_text, status=status, user_type=user_type)
        if device.rf_programming_events:
            await self._programming(device, "pin_code_added", RF, user)

    def _lock_accepts_pin(self, device: SimLock, user: int, pin: str) -> bool:
        model = device.model
        if not pin.isdigit() or not model.min_pin_length <= len(pin) <= model.max_pin_length:
            return False
        if device.reject_duplicate_pins:
            return not any(s.pin == pin for n, s in device.slots.items() if n != user)
        return True

    async def _get_pin_code(self, device: SimLock, value: Any) -> None:
        """getPinCode for one slot, or every slot in turn when no `user` is given."""
        user_value = value.get("user") if isinstance(value, dict) and value else None
        if user_value is None:
            for user in range(device.model.pin_code_count):
                await self._zcl(device, f'getPinCode({{"userid":{user}}}, {ZCL_OPTIONS})', 6)
                await self._send_users(device, user)
            return
        user = self._slot_number(device, value, "userId must be in range for device")
        await self._zcl(device, f'getPinCode({{"userid":{user}}}, {ZCL_OPTIONS})', 6)
        await self._send_users(device, user)

    async def _set_user_status(self, device: SimLock, value: Any) -> None:
        if not isinstance(value, dict):
            raise ConverterError(f"user_status is not a object, got {_js_typeof(value)} ({dumps(value)})")
        user = self._slot_number(device, value, "user must be in range for device")
        names = {v: k for k, v in USER_STATUS.items()}
        status = value.get("status")
        if status not in names:
            raise ConverterError(f"Expected one of: {', '.join(names)}, got: '{status}'")
        args = dumps({"userid": user, "userstatus": names[status]})
        await self._zcl(device, f"setUserStatus({args}, {ZCL_OPTIONS})", 9)
        if status == "available":
            device.slots.pop(user, None)
        elif user in device.slots:
            device.slots[user].status = names[status]

    async def _get_user_status(self, device: SimLock, value: Any) -> None:
        if not isinstance(value, dict):
            raise ConverterError(f"user_status is not a object, got {_js_typeof(value)} ({dumps(value)})")
        user = self._slot_number(device, value, "userId must be in range for device")
        await self._zcl(device, f'getUserStatus({{"userid":{user}}}, {ZCL_OPTIONS})', 10)
        slot = device.slots.get(user)
        await self._lock_sends(device, {"users": {str(user): {
            "status": USER_STATUS.get(slot.status if slot else 0, "available")}}})

    async def _set_sound_volume(self, device: SimLock, value: Any) -> None:
        """tz.lock_sound_volume: optimistic, published once the write succeeds (§3.6)."""
        if value not in SOUND_VOLUMES:
            raise ConverterError(f"'{value}' not allowed, choose between: {','.join(SOUND_VOLUMES)}")
        await self._zcl(device, f'write({{"soundVolume":{SOUND_VOLUMES.index(value)}}}, {ZCL_OPTIONS})')
        device.sound_volume = value
        await self._publish_state(device, {"sound_volume": value})

    async def _get_sound_volume(self, device: SimLock, value: Any) -> None:
        await self._zcl(device, f'read(["soundVolume"], {ZCL_OPTIONS})')
        await self._lock_sends(device, {"sound_volume": device.sound_volume})

    async def _set_auto_relock_time(self, device: SimLock, value: Any) -> None:
        seconds = _js_int(value)
        if seconds is None:
            raise ConverterError(f"auto_relock_time is not a number, got {_js_typeof(value)} "
                                 f"({dumps(value)})")
        await self._zcl(device, f'write({{"autoRelockTime":{seconds}}}, {ZCL_OPTIONS})')
        device.auto_relock_time = seconds
        await self._publish_state(device, {"auto_relock_time": seconds})

    async def _get_auto_relock_time(self, device: SimLock, value: Any) -> None:
        await self._zcl(device, f'read(["autoRelockTime"], {ZCL_OPTIONS})')
        await self._lock_sends(device, {"auto_relock_time": device.auto_relock_time})

    async def _set_read(self, device: SimLock, value: Any) -> None:
        """tz.read (§3.7): publishes the values under `state_property` when given."""
        if not isinstance(value, dict):
            raise ConverterError(f"read is not a object, got {_js_typeof(value)} ({dumps(value)})")
        attributes = value.get("attributes")
        if value.get("cluster") != "closuresDoorLock" or not isinstance(attributes, list):
            raise ConverterError(f"Cluster '{value.get('cluster')}' is not supported by the simulator")
        model = device.model
        known: dict[str, Any] = {
            "lockState": device.lock_state, "soundVolume": SOUND_VOLUMES.index(device.sound_volume),
            "autoRelockTime": device.auto_relock_time, "numOfPinUsersSupported": model.pin_code_count,
            "minPinLen": model.min_pin_length, "maxPinLen": model.max_pin_length,
        }
        await self._zcl(device, f"read({dumps(attributes)}, {ZCL_OPTIONS})")
        missing = [a for a in attributes if a not in known]
        if missing:
            raise ConverterError(f"ZCL command {device.ieee}/{model.endpoint} closuresDoorLock."
                                 f"read({dumps(attributes)}, {ZCL_OPTIONS}) failed "
                                 f"(Status 'UNSUPPORTED_ATTRIBUTE')")
        if isinstance(value.get("state_property"), str):
            await self._publish_state(device, {value["state_property"]: {a: known[a] for a in attributes}})

    # --- control API: the world at the lock -------------------------------------------------

    async def keypad_unlock(self, ieee: str, user: int, pin: str | None = None) -> None:
        """Somebody unlocks with the PIN in slot `user` (ZCL source keypad)."""
        device = self.device(ieee)
        await self._operation(device, UNLOCKED, "unlock", KEYPAD, user, pin)

    async def keypad_lock(self, ieee: str, user: int = NO_USER) -> None:
        device = self.device(ieee)
        await self._operation(device, LOCKED, "lock", KEYPAD, user)

    async def enter_code(self, ieee: str, code: str) -> bool:
        """Type `code` on the keypad: unlocks through the matching enabled slot, otherwise
        an `unlock_failure_invalid_pin_or_id` event and no movement."""
        device = self.device(ieee)
        slot = next((n for n, s in device.slots.items() if s.pin == code and s.status == 1), None)
        if slot is None:
            await self._operation(device, None, "unlock_failure_invalid_pin_or_id", KEYPAD, NO_USER, code)
            return False
        await self._operation(device, UNLOCKED, "unlock", KEYPAD, slot, code)
        return True

    async def manual_lock(self, ieee: str) -> None:
        await self._operation(self.device(ieee), LOCKED, "manual_lock", MANUAL, NO_USER)

    async def manual_unlock(self, ieee: str) -> None:
        await self._operation(self.device(ieee), UNLOCKED, "manual_unlock", MANUAL, NO_USER)

    async def key_unlock(self, ieee: str) -> None:
        await self._operation(self.device(ieee), UNLOCKED, "key_unlock", MANUAL, NO_USER)

    async def rf_lock(self, ieee: str, user: int = NO_USER) -> None:
        """Another Zigbee/RF controller locks it (not through this bridge's /set)."""
        await self._operation(self.device(ieee), LOCKED, "lock", RF, user)

    async def rf_unlock(self, ieee: str, user: int = NO_USER) -> None:
        await self._operation(self.device(ieee), UNLOCKED, "unlock", RF, user)

    async def auto_lock(self, ieee: str) -> None:
        """The lock's own relock timer fires now (source manual, as Yale reports it)."""
        await self._operation(self.device(ieee), LOCKED, "auto_lock", MANUAL, NO_USER)

    async def jam(self, ieee: str) -> None:
        """The bolt sticks: lockState 0 → `not_fully_locked` (state `UNLOCK`)."""
        device = self.device(ieee)
        device.lock_state = NOT_FULLY_LOCKED
        await self._lock_sends(device, self._lock_report(device))

    def set_jammed(self, ieee: str, jammed: bool = True) -> None:
        """While jammed, every lock/unlock command ends in `not_fully_locked`."""
        self.device(ieee).jammed = jammed

    async def battery(self, ieee: str, level: int) -> None:
        device = self.device(ieee)
        device.battery = level
        update: dict[str, Any] = {"battery": level}
        if device.model.has_expose("battery_low"):
            update["battery_low"] = level <= 15
        await self._lock_sends(device, update)

    async def set_code_at_lock(self, ieee: str, slot: int, code: str) -> None:
        """Programmed on the keypad with the master code: programming event, source keypad.
        ID Lock: Z2M then reads the slot back (datek.ts onEvent)."""
        device = self.device(ieee)
        device.slots[slot] = Slot(pin=code)
        await self._programming(device, "pin_code_added", KEYPAD, slot)
        if device.model.rereads_pin_after_keypad_programming and device.hears:
            await asyncio.sleep(self.radio_latency)
            await self._send_users(device, slot)

    async def clear_code_at_lock(self, ieee: str, slot: int) -> None:
        device = self.device(ieee)
        device.slots.pop(slot, None)
        await self._programming(device, "pin_code_deleted", KEYPAD, slot)
        if device.model.rereads_pin_after_keypad_programming and device.hears:
            await asyncio.sleep(self.radio_latency)
            await self._send_users(device, slot)

    def codes(self, ieee: str) -> dict[int, Slot]:
        """What the lock holds, slot by slot (copies)."""
        return {n: copy.copy(s) for n, s in sorted(self.device(ieee).slots.items())}

    async def set_offline(self, ieee: str, offline: bool = True) -> None:
        """The lock drops off the mesh: availability offline (if enabled), commands fail with
        a delivery error after `zcl_timeout`, its own events are lost. Back online, Z2M
        re-reads its state (availability `retrieveState`)."""
        device = self.device(ieee)
        device.reachable = not offline
        if self.availability:
            await self._publish_availability(device)
        if not offline:
            await asyncio.sleep(self.radio_latency)
            await self._lock_sends(device, self._lock_report(device))

    def set_refuse(self, ieee: str, refuse: bool = True) -> None:
        """The lock answers lock/unlock with a failure status: no error, no state change."""
        self.device(ieee).refuse = refuse

    def set_silent(self, ieee: str, silent: bool = True) -> None:
        """The lock never answers: every command times out (`Timeout after 10000ms`) and
        nothing it does reaches Z2M. Availability is not touched (battery locks are passive)."""
        self.device(ieee).silent = silent

    async def publish_raw(self, topic: str, payload: str | bytes, *, retain: bool = False,
                          qos: int = 0) -> None:
        """Publish anything as the bridge (malformed payloads, stray topics). `topic` is
        relative to the base topic unless it starts with '/'."""
        client = self._client
        if client is None:
            raise RuntimeError("the bridge is not connected")
        full = topic[1:] if topic.startswith("/") else f"{self.base_topic}/{topic}"
        await client.publish(full, payload, qos=qos, retain=retain)

    async def join(self, ieee: str, model: str | LockModel = "YRD226HA2619",
                   friendly_name: str | None = None, **fields: Any) -> SimLock:
        """A new lock joins and is interviewed (bridge/event device_joined, device_interview
        started/successful, bridge/devices republished at each step)."""
        device = self.add_lock(ieee, friendly_name, model, **fields)
        device.interview_state = "IN_PROGRESS"
        data = {"friendly_name": device.friendly_name, "ieee_address": ieee}
        await self._event("device_joined", data)
        await self._publish_devices()
        await self._event("device_interview", {**data, "status": "started"})
        await asyncio.sleep(self.radio_latency)
        device.interview_state = "SUCCESSFUL"
        await self._event("device_interview", {**data, "status": "successful", "supported": True,
                                               "definition": self._definition(device.model)})
        await self._publish_devices()
        if self.availability:
            await self._publish_availability(device)
        return device

    async def leave(self, ieee: str) -> None:
        """The lock leaves the network (reset or removed at the lock)."""
        device = self.devices.pop(ieee)
        await self._event("device_leave", {"friendly_name": device.friendly_name, "ieee_address": ieee})
        await self._publish_devices()


__all__ = ["LOCK_ACTIONS", "NO_USER", "SimLock", "Slot", "Z2MBridge", "dumps"]
