"""One MQTT connection to the broker a Zigbee2MQTT bridge publishes to, through `aiomqtt`.

The connection keeps what the retained topics say (`bridge/state`, `bridge/info`,
`bridge/devices`, `<fn>/availability`) and the last state message of every lock, hands every
message to whoever waits for one (a command waiting for its confirmation), and queues what
changed for the live connection. Commands go one at a time per connection (`commands` lock):
Zigbee2MQTT acknowledges nothing, so a command is confirmed by what the lock reports next, and
two commands in flight to one bridge would read each other's answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import ssl
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiomqtt

from lockhub.providers.base import ProviderError
from lockhub.providers.zigbee2mqtt import mapping

log = logging.getLogger("lockhub.providers.zigbee2mqtt")

CONNECT_TIMEOUT_SECONDS = 10.0
# MQTT keepalive: with no traffic for this long the client pings the broker, and drops the
# connection when the ping goes unanswered as long again. It is the only way a connection
# that hears nothing more is noticed: a broker host gone without a TCP reset, or (under
# uvloop) a socket the loop stopped watching when the broker reset it right after sending
# the bridge's last will, so aiomqtt never learns of the disconnect. The default (60 s, so
# up to 2 min) left the account looking connected and its locks offline meanwhile.
KEEPALIVE_SECONDS = 10
BRIDGE_WAIT_SECONDS = 5.0  # retained bridge topics arrive right after subscribing
STATE_WAIT_SECONDS = 3.0  # answers to the start-up `/get {"state": ""}`
DEFAULT_BASE_TOPIC = "zigbee2mqtt"

# A change the live connection reports: ("bridge",), ("devices",), ("availability", name),
# ("state", ieee, message).
Change = tuple[Any, ...]


@dataclass(frozen=True)
class Broker:
    host: str
    port: int
    tls: bool
    username: str | None
    password: str | None
    base_topic: str

    @property
    def url(self) -> str:
        """scheme://host:port, with the default port spelled out."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'mqtts' if self.tls else 'mqtt'}://{host}:{self.port}"

    @property
    def public_url(self) -> str:
        """The broker URL without the password (shown as the account's api_url)."""
        if not self.username:
            return self.url
        scheme, rest = self.url.split("://", 1)
        return f"{scheme}://{self.username}@{rest}"


def check_broker(credentials: dict[str, Any]) -> Broker:
    """mqtt:// or mqtts:// with a host (ports default to 1883 / 8883), or a ProviderError the
    sign-in form can show."""
    url = str(credentials.get("broker_url") or "").strip()
    bad = ProviderError("invalid_credentials",
                        "Enter the MQTT broker's URL, e.g. mqtt://192.168.1.10:1883 "
                        "(or mqtts:// for TLS).")
    if not url or any(c.isspace() or ord(c) < 32 for c in url):
        raise bad
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise bad from exc
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname \
            or parts.path not in ("", "/"):
        raise bad
    tls = parts.scheme == "mqtts"
    username = str(credentials.get("username") or "") or parts.username or None
    password = str(credentials.get("password") or "") or parts.password or None
    base = str(credentials.get("base_topic") or "").strip().strip("/") or DEFAULT_BASE_TOPIC
    if any(c in base for c in "#+") or any(c.isspace() for c in base):
        raise ProviderError("invalid_credentials",
                            "The base topic cannot contain spaces, '#' or '+'.")
    return Broker(host=parts.hostname, port=port or (8883 if tls else 1883), tls=tls,
                  username=username, password=password, base_topic=base)


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


class Waiter:
    """A future resolved by the first message `match(topic, payload)` says something about."""

    def __init__(self, match: Callable[[str, Any], Any]) -> None:
        self.match = match
        self.future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()


class Z2MConnection:
    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        # What this connection last reported per device: each account's connection reports
        # its own changes, even when two accounts reach the same bridge.
        self.reported: dict[str, Any] = {}
        self.base = broker.base_topic
        self.commands = asyncio.Lock()
        self.bridge_online: bool | None = None
        self.info: dict[str, Any] = {}
        self.devices: list[dict[str, Any]] | None = None  # None until bridge/devices arrives
        self.states: dict[str, dict[str, Any]] = {}  # ieee → last state (without action*)
        self.availability: dict[str, bool] = {}  # friendly name → online
        self.slots: dict[str, dict[int, tuple[str, str | None]]] = {}  # ieee → slot → (status, pin)
        self.changes: asyncio.Queue[Change] | None = None
        self.listed: list[Any] | None = None  # the lock list the live connection last reported
        self.changed = asyncio.Event()
        self._waiters: list[Waiter] = []
        self._client: aiomqtt.Client | None = None
        self._listener: asyncio.Task[None] | None = None

    # --- lifecycle ---------------------------------------------------------------------------

    @property
    def closed(self) -> asyncio.Task[None]:
        """Done when the broker connection is lost (its exception says why)."""
        assert self._listener is not None
        return self._listener

    async def open(self, topics: list[str] | None = None) -> None:
        broker = self.broker
        client = aiomqtt.Client(
            broker.host, broker.port, username=broker.username, password=broker.password,
            identifier=f"lockhub-{uuid.uuid4().hex[:12]}", timeout=CONNECT_TIMEOUT_SECONDS,
            keepalive=KEEPALIVE_SECONDS,
            tls_context=ssl.create_default_context() if broker.tls else None,
            logger=logging.getLogger("lockhub.providers.zigbee2mqtt.mqtt"))
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT_SECONDS):
                await client.__aenter__()
        except aiomqtt.MqttCodeError as exc:
            code = getattr(exc.rc, "value", exc.rc)
            if code in (4, 5, 134, 135):
                raise ProviderError("invalid_credentials",
                                    "The MQTT broker refused the username or password.") from exc
            raise ProviderError("account_disconnected",
                                f"The MQTT broker refused the connection: {exc}") from exc
        except (aiomqtt.MqttError, OSError, TimeoutError) as exc:
            raise ProviderError("account_disconnected",
                                f"Cannot reach the MQTT broker at {broker.public_url}.") from exc
        self._client = client
        try:
            for topic in topics or [f"{self.base}/#"]:
                await client.subscribe(topic, qos=1)
        except aiomqtt.MqttError as exc:
            await self.close()
            raise ProviderError("account_disconnected",
                                f"The MQTT broker did not accept a subscription: {exc}") from exc
        self._listener = asyncio.create_task(self._listen())

    async def close(self) -> None:
        if self._listener is not None and not self._listener.done():
            self._listener.cancel()
            with contextlib.suppress(BaseException):
                await self._listener
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.__aexit__(None, None, None), 5)
        for waiter in self._waiters:
            if not waiter.future.done():
                waiter.future.cancel()

    async def wait_for_bridge(self, timeout: float = BRIDGE_WAIT_SECONDS, *,
                              devices: bool = True, info: bool = False) -> bool:
        """Wait until `bridge/state` (and `bridge/devices`, `bridge/info`) have been seen;
        False on timeout."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.bridge_online is None or (devices and self.devices is None) \
                or (info and not self.info):
            remaining = deadline - loop.time()
            if remaining <= 0 or self.closed.done():
                return False
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), remaining)
        return True

    # --- what the bridge says ---------------------------------------------------------------

    def lock_entries(self) -> list[dict[str, Any]]:
        return mapping.locks(self.devices or [])

    def entry(self, ieee: str) -> dict[str, Any] | None:
        return next((d for d in self.lock_entries() if mapping.ieee(d) == ieee), None)

    def _ieee_of(self, name: str) -> str | None:
        return next((mapping.ieee(d) for d in self.devices or []
                     if isinstance(d, dict) and d.get("friendly_name") == name), None)

    def available(self, entry: dict[str, Any]) -> bool | None:
        return self.availability.get(mapping.friendly_name(entry))

    def snapshot(self, entry: dict[str, Any]) -> Any:
        ieee = str(mapping.ieee(entry))
        return mapping.snapshot(entry, self.states.get(ieee), available=self.available(entry),
                                bridge_online=self.bridge_online is not False)

    def expose_pin(self, ieee: str) -> bool:
        devices = (self.info.get("config") or {}).get("devices") if isinstance(
            self.info.get("config"), dict) else None
        options = devices.get(ieee) if isinstance(devices, dict) else None
        return isinstance(options, dict) and options.get("expose_pin") is True

    async def _listen(self) -> None:
        assert self._client is not None
        async for message in self._client.messages:
            try:
                self._on_message(message.topic.value, message.payload)
            except Exception:  # a payload this code did not foresee must not end the connection
                log.debug("ignored a message on %s", message.topic.value, exc_info=True)

    def _on_message(self, topic: str, raw: Any) -> None:
        if not topic.startswith(f"{self.base}/"):
            return
        rel = topic[len(self.base) + 1:]
        payload: Any = raw if isinstance(raw, bytes | bytearray) else str(raw or "").encode()
        parsed: Any = None
        change: Change | None = None
        if rel == "bridge/state":
            online = mapping.parse_online(payload)
            if online is not None:
                self.bridge_online = online
                change = ("bridge",)
        elif rel == "bridge/info":
            info = mapping.parse_json(payload)
            if isinstance(info, dict):
                self.info = info
                self.changed.set()
        elif rel == "bridge/devices":
            devices = mapping.parse_json(payload)
            if isinstance(devices, list):
                self.devices = devices
                change = ("devices",)
            else:
                log.debug("ignored a malformed bridge/devices payload")
        elif rel.startswith("bridge/"):
            parsed = mapping.parse_json(payload)
        elif rel.endswith("/availability"):
            name = rel[:-len("/availability")]
            online = mapping.parse_online(payload)
            if online is None:
                self.availability.pop(name, None)
            else:
                self.availability[name] = online
            change = ("availability", name)
            parsed = online
        else:
            ieee = self._ieee_of(rel)
            message = mapping.parse_json(payload)
            if ieee is not None and isinstance(message, dict):
                self.states[ieee] = {k: v for k, v in message.items()
                                     if k != "action" and not k.startswith("action_")}
                found = mapping.users(message)
                if found:
                    self.slots.setdefault(ieee, {}).update(found)
                change = ("state", ieee, message)
                parsed = message
            elif ieee is not None:
                log.debug("ignored a malformed state message for %s", rel)
        for waiter in list(self._waiters):
            if waiter.future.done():
                continue
            try:
                result = waiter.match(rel, parsed)
            except Exception:
                log.debug("a waiter failed on %s", rel, exc_info=True)
                continue
            if result is not None:
                waiter.future.set_result(result)
        if change is not None:
            self.changed.set()
            if self.changes is not None:
                self.changes.put_nowait(change)

    # --- talking to the bridge ----------------------------------------------------------------

    @contextlib.contextmanager
    def expect(self, match: Callable[[str, Any], Any]) -> Iterator[Waiter]:
        """Catch the first message `match(relative_topic, parsed_payload)` returns a value for
        (register before publishing, so nothing is missed)."""
        waiter = Waiter(match)
        self._waiters.append(waiter)
        try:
            yield waiter
        finally:
            self._waiters.remove(waiter)

    async def result(self, waiter: Waiter, timeout: float) -> Any:
        """The waiter's value, None on timeout; ProviderError if the broker goes away."""
        done, _ = await asyncio.wait({waiter.future, self.closed}, timeout=timeout,
                                     return_when=asyncio.FIRST_COMPLETED)
        if waiter.future in done:
            return waiter.future.result()
        if self.closed in done:
            raise ProviderError("account_disconnected",
                                "The connection to the MQTT broker was lost.", retryable=True)
        return None

    async def publish(self, rel: str, payload: Any) -> None:
        if self._client is None:
            raise ProviderError("account_disconnected", "Not connected to the MQTT broker.")
        try:
            await self._client.publish(f"{self.base}/{rel}", _dumps(payload), qos=1)
        except aiomqtt.MqttError as exc:
            raise ProviderError("account_disconnected",
                                f"The MQTT broker connection failed: {exc}",
                                retryable=True) from exc

    async def request(self, name: str, payload: dict[str, Any],
                      timeout: float = BRIDGE_WAIT_SECONDS) -> dict[str, Any] | None:
        """A `bridge/request/<name>`; its response (paired by transaction), None if none."""
        transaction = f"lockhub-{uuid.uuid4().hex[:12]}"

        def match(rel: str, answer: Any) -> Any:
            if rel == f"bridge/response/{name}" and isinstance(answer, dict) \
                    and answer.get("transaction") == transaction:
                return answer
            return None

        with self.expect(match) as waiter:
            await self.publish(f"bridge/request/{name}", {**payload, "transaction": transaction})
            return await self.result(waiter, timeout)

    async def refresh_states(self, timeout: float = STATE_WAIT_SECONDS,
                             entries: list[dict[str, Any]] | None = None) -> None:
        """`/get {"state": ""}` for every reachable lock (§7.3), then wait a little for the
        answers, which carry the whole cached state."""
        wanted = {mapping.friendly_name(e) for e in (entries if entries is not None
                                                     else self.lock_entries())
                  if self.available(e) is not False}
        if not wanted or self.bridge_online is False:
            return
        pending = set(wanted)

        def match(rel: str, message: Any) -> Any:
            if rel in pending and isinstance(message, dict):
                pending.discard(rel)
                return True if not pending else None
            return None

        with self.expect(match) as waiter:
            for name in sorted(wanted):
                await self.publish(f"{name}/get", {"state": ""})
            await self.result(waiter, timeout)


@contextlib.asynccontextmanager
async def connected(broker: Broker, *, refresh: bool) -> AsyncIterator[Z2MConnection]:
    """A connection for one task (a command from a process that does not hold the account's
    live connection): the bridge's retained topics, and the locks' states if `refresh`."""
    connection = Z2MConnection(broker)
    await connection.open()
    try:
        if not await connection.wait_for_bridge():
            raise ProviderError("account_disconnected",
                                f"No Zigbee2MQTT bridge publishes under '{broker.base_topic}' "
                                "on this broker.")
        if refresh:
            await connection.refresh_states()
        yield connection
    finally:
        await connection.close()
