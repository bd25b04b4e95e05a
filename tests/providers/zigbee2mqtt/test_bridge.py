"""The simulator against Z2M's MQTT contract (reference: zigbee2mqtt-locks.md), checked with a
plain MQTT client so the provider can rely on what it sees."""

from __future__ import annotations

import asyncio
import json

import aiomqtt

from tests.providers.zigbee2mqtt.bridge import Z2MBridge
from tests.providers.zigbee2mqtt.broker import MosquittoBroker
from tests.providers.zigbee2mqtt.conftest import BACK_DOOR, FRONT_DOOR, MqttWatcher

Z = "zigbee2mqtt"


def is_error(fragment: str):
    return lambda p: isinstance(p, dict) and p.get("level") == "error" and fragment in p["message"]


async def test_start_up_publishes_retained_bridge_topics(z2m_bridge: Z2MBridge,
                                                          mqtt_watch: MqttWatcher) -> None:
    state = await mqtt_watch.wait_for(f"{Z}/bridge/state")
    assert state.retain and state.payload == {"state": "online"}
    devices = await mqtt_watch.wait_for(f"{Z}/bridge/devices")
    assert devices.retain
    by_ieee = {d["ieee_address"]: d for d in devices.payload}
    assert by_ieee[FRONT_DOOR]["friendly_name"] == "front_door"
    assert [d["type"] for d in devices.payload].count("Coordinator") == 1
    yale = by_ieee[FRONT_DOOR]["definition"]
    assert (yale["model"], yale["vendor"], by_ieee[FRONT_DOOR]["model_id"]) == (
        "YRD226HA2619", "Yale", "YRD226 TSDB")
    exposes = {x.get("name", x["type"]): x for x in yale["exposes"]}
    assert [f["name"] for f in exposes["lock"]["features"]] == ["state", "lock_state"]
    assert exposes["pin_code"]["type"] == "composite"
    assert {"battery", "action", "action_user", "linkquality"} <= set(exposes)
    assert devices.raw == json.dumps(devices.payload, sort_keys=True, separators=(",", ":"))
    info = await mqtt_watch.wait_for(f"{Z}/bridge/info")
    assert info.retain and info.payload["config"]["availability"]["enabled"] is True
    availability = await mqtt_watch.wait_for(f"{Z}/front_door/availability")
    assert availability.retain and availability.payload == {"state": "online"}


async def test_lock_command_is_confirmed_only_by_the_locks_reports(
        z2m_bridge: Z2MBridge, mqtt_watch: MqttWatcher) -> None:
    mark = mqtt_watch.mark()
    await mqtt_watch.publish(f"{Z}/back_door/set", {"state": "LOCK"})
    report = await mqtt_watch.wait_for(f"{Z}/back_door", lambda p: p.get("lock_state") == "locked",
                                       since=mark)
    messages = mqtt_watch.since(mark, f"{Z}/back_door")
    # Nothing optimistic: the first message is the lock's event, with the stale cached state.
    event = messages[0].payload
    assert (event["action"], event["action_source_name"], event["lock_state"]) == (
        "lock", "rf", "unlocked")
    assert report.payload["state"] == "LOCK" and "linkquality" in report.payload
    assert "action" not in report.payload and "action_user" not in report.payload
    assert not report.retain
    assert mqtt_watch.since(mark, f"{Z}/bridge/response/set") == []


async def test_bare_payload_attribute_topic_and_ieee_address_are_accepted(
        z2m_bridge: Z2MBridge, mqtt_watch: MqttWatcher) -> None:
    mark = mqtt_watch.mark()
    await mqtt_watch.publish(f"{Z}/{FRONT_DOOR}/set", "unlock")
    await mqtt_watch.wait_for(f"{Z}/front_door", lambda p: p.get("lock_state") == "unlocked",
                              since=mark)
    mark = mqtt_watch.mark()
    await mqtt_watch.publish(f"{Z}/front_door/set/state", "LOCK")
    await mqtt_watch.wait_for(f"{Z}/front_door", lambda p: p.get("lock_state") == "locked",
                              since=mark)


async def test_pin_set_is_confirmed_by_programming_event_and_read_back(
        z2m_bridge: Z2MBridge, mqtt_watch: MqttWatcher) -> None:
    mark = mqtt_watch.mark()
    await mqtt_watch.publish(f"{Z}/front_door/set", {"pin_code": {
        "user": 3, "user_type": "unrestricted", "user_enabled": True, "pin_code": "0123"}})
    added = await mqtt_watch.wait_for(f"{Z}/front_door", lambda p: "action" in p, since=mark)
    assert (added.payload["action"], added.payload["action_user"]) == ("pin_code_added", 3)
    assert "pin_code" not in added.payload  # Z2M never publishes the PIN it set
    assert z2m_bridge.codes(FRONT_DOOR)[3].pin == "0123"

    mark = mqtt_watch.mark()
    await mqtt_watch.publish(f"{Z}/front_door/get", {"pin_code": {"user": 3}})
    read = await mqtt_watch.wait_for(f"{Z}/front_door", lambda p: "users" in p, since=mark)
    assert read.payload["users"] == {"3": {"status": "enabled"}}  # expose_pin is off

    mark = mqtt_watch.mark()
    await mqtt_watch.publish(f"{Z}/bridge/request/device/options",
                             {"id": "front_door", "options": {"expose_pin": True}, "transaction": "t1"})
    response = await mqtt_watch.wait_for(f"{Z}/bridge/response/device/options", since=mark)
    assert response.payload["status"] == "ok" and response.payload["transaction"] == "t1"
    await mqtt_watch.publish(f"{Z}/front_door/get", {"pin_code": {"user": 3}})
    read = await mqtt_watch.wait_for(
        f"{Z}/front_door", lambda p: p.get("users", {}).get("3", {}).get("pin_code"), since=mark)
    assert read.payload["users"]["3"] == {"status": "enabled", "pin_code": "0123"}

    mark = mqtt_watch.mark()
    await mqtt_watch.publish(f"{Z}/front_door/set", {"pin_code": {"user": 3, "pin_code": None}})
    await mqtt_watch.wait_for(f"{Z}/front_door", lambda p: p.get("action") == "pin_code_deleted",
                              since=mark)
    await mqtt_watch.publish(f"{Z}/front_door/get", {"pin_code": {"user": 3}})
    read = await mqtt_watch.wait_for(
        f"{Z}/front_door", lambda p: p.get("users", {}).get("3", {}).get("status") == "available",
        since=mark)
    # Deep-merge artefact (§1.8): the old PIN survives in the cached `users` entry.
    assert read.payload["users"]["3"] == {"status": "available", "pin_code": "0123"}
    assert 3 not in z2m_bridge.codes(FRONT_DOOR)


async def test_keypad_unlock_event_shape(z2m_bridge: Z2MBridge, mqtt_watch: MqttWatcher) -> None:
    mark = mqtt_watch.mark()
    await z2m_bridge.keypad_unlock(FRONT_DOOR, 3)
    await mqtt_watch.wait_for(f"{Z}/front_door", lambda p: p.get("lock_state") == "unlocked",
                              since=mark)
    event, report = (m.payload for m in mqtt_watch.since(mark, f"{Z}/front_door"))
    assert {k: event[k] for k in ("action", "action_source", "action_source_name", "action_user")} == {
        "action": "unlock", "action_source": 0, "action_source_name": "keypad", "action_user": 3}
    assert event["state"] == "LOCK" and report["state"] == "UNLOCK"
    assert not any(k.startswith("action") for k in report)


async def test_wrong_code_is_an_access_denied_event_without_movement(
        z2m_bridge: Z2MBridge, mqtt_watch: MqttWatcher) -> None:
    mark = mqtt_watch.mark()
    assert await z2m_bridge.enter_code(FRONT_DOOR, "9999") is False
    event = await mqtt_watch.wait_for(f"{Z}/front_door", lambda p: "action" in p, since=mark)
    assert event.payload["action"] == "unlock_failure_invalid_pin_or_id"
    assert event.payload["lock_state"] == "locked"
    assert len(mqtt_watch.since(mark, f"{Z}/front_door")) == 1


async def retained(broker: MosquittoBroker, topic: str) -> bytes:
    """What a client subscribing now gets for `topic` (retained messages only)."""
    async with aiomqtt.Client(broker.host, broker.port) as client:
        await client.subscribe(topic)
        async with asyncio.timeout(5):
            async for message in client.messages:
                assert message.retain
                return bytes(message.payload)
    raise AssertionError("unreachable")


async def test_offline_lock_fails_on_bridge_logging_with_no_state_change(
        z2m_bridge: Z2MBridge, mqtt_watch: MqttWatcher, mqtt_broker: MosquittoBroker) -> None:
    mark = mqtt_watch.mark()
    await z2m_bridge.set_offline(FRONT_DOOR)
    offline = await mqtt_watch.wait_for(f"{Z}/front_door/availability", since=mark)
    assert offline.payload == {"state": "offline"}
    assert await retained(mqtt_broker, f"{Z}/front_door/availability") == b'{"state":"offline"}'
    await mqtt_watch.publish(f"{Z}/front_door/set", {"state": "UNLOCK"})
    error = await mqtt_watch.wait_for(f"{Z}/bridge/logging", is_error("Delivery failed"),
                                      since=mark)
    assert error.payload["message"].startswith(
        "z2m: Publish 'set' 'state' to 'front_door' failed: 'Error: ZCL command "
        f"{FRONT_DOOR}/1 closuresDoorLock.unlockDoor(")
    assert mqtt_watch.since(mark, f"{Z}/front_door") == []
    assert z2m_bridge.device(FRONT_DOOR).lock_state == 1


async def test_silent_lock_times_out_and_refusing_lock_says_nothing(
        z2m_bridge: Z2MBridge, mqtt_watch: MqttWatcher) -> None:
    z2m_bridge.set_silent(BACK_DOOR)
    mark = mqtt_watch.mark()
    await mqtt_watch.publish(f"{Z}/back_door/set", {"state": "LOCK"})
    await mqtt_watch.wait_for(f"{Z}/bridge/logging", is_error("Timeout after 10000ms"), since=mark)
    assert mqtt_watch.since(mark, f"{Z}/back_door") == []

    z2m_bridge.set_silent(BACK_DOOR, False)
    z2m_bridge.set_refuse(BACK_DOOR)
    mark = mqtt_watch.mark()
    await mqtt_watch.publish(f"{Z}/back_door/set", {"state": "LOCK"})
    await mqtt_watch.publish(f"{Z}/back_door/get", {"state": ""})
    read = await mqtt_watch.wait_for(f"{Z}/back_door", since=mark)
    assert read.payload["lock_state"] == "unlocked" and "action" not in read.payload
    assert mqtt_watch.since(mark, f"{Z}/bridge/logging") == []


async def test_validation_errors_use_z2m_texts_and_are_not_repeated(
        z2m_bridge: Z2MBridge, mqtt_watch: MqttWatcher) -> None:
    mark = mqtt_watch.mark()
    for _ in range(2):
        await mqtt_watch.publish(f"{Z}/front_door/set", {"state": "OPEN"})
    await mqtt_watch.publish(f"{Z}/front_door/set", {"pin_code": {"user": 250, "pin_code": "1234"}})
    await mqtt_watch.publish(f"{Z}/nobody/set", {"state": "LOCK"})
    await mqtt_watch.publish(f"{Z}/front_door/set", {"battery": 5})
    await mqtt_watch.wait_for(f"{Z}/bridge/logging", is_error("No converter available"), since=mark)
    assert [m.payload["message"] for m in mqtt_watch.since(mark, f"{Z}/bridge/logging")] == [
        "z2m: Publish 'set' 'state' to 'front_door' failed: "
        "'Error: 'OPEN' not allowed, choose between: LOCK,UNLOCK,TOGGLE'",
        "z2m: Publish 'set' 'pin_code' to 'front_door' failed: "
        "'Error: user must be in range for device'",
        "z2m: Entity 'nobody' is unknown",
        "z2m: No converter available for 'battery' on 'front_door': (5)",
    ]


async def test_rename_keeps_the_ieee_address(z2m_bridge: Z2MBridge, mqtt_watch: MqttWatcher) -> None:
    mark = mqtt_watch.mark()
    await mqtt_watch.publish(f"{Z}/bridge/request/device/rename",
                             {"from": "front_door", "to": "porch/front", "transaction": 7})
    response = await mqtt_watch.wait_for(f"{Z}/bridge/response/device/rename", since=mark)
    assert response.payload == {"data": {"from": "front_door", "to": "porch/front",
                                         "homeassistant_rename": False},
                                "status": "ok", "transaction": 7}
    devices = await mqtt_watch.wait_for(f"{Z}/bridge/devices", since=mark)
    entry = next(d for d in devices.payload if d["ieee_address"] == FRONT_DOOR)
    assert entry["friendly_name"] == "porch/front"
    cleared = await mqtt_watch.wait_for(f"{Z}/front_door/availability", since=mark)
    assert cleared.raw == ""  # the empty retained message deletes the old name's availability
    await mqtt_watch.publish(f"{Z}/porch/front/set", {"state": "UNLOCK"})
    await mqtt_watch.wait_for(f"{Z}/porch/front", lambda p: p.get("lock_state") == "unlocked",
                              since=mark)
    await mqtt_watch.publish(f"{Z}/bridge/request/device/rename", {"from": "nope", "to": "x"})
    failed = await mqtt_watch.wait_for(f"{Z}/bridge/response/device/rename",
                                       lambda p: p["status"] == "error", since=mark)
    assert failed.payload == {"data": {}, "status": "error", "error": "Device 'nope' does not exist"}


async def test_join_interview_and_leave(z2m_bridge: Z2MBridge, mqtt_watch: MqttWatcher) -> None:
    mark = mqtt_watch.mark()
    nimly = "0x0017880100aa0003"
    await z2m_bridge.join(nimly, "Nimly")
    await mqtt_watch.wait_for(f"{Z}/bridge/event",
                              lambda p: p["data"].get("status") == "successful", since=mark)
    events = [m.payload for m in mqtt_watch.since(mark, f"{Z}/bridge/event")]
    assert [(e["type"], e["data"].get("status")) for e in events] == [
        ("device_joined", None), ("device_interview", "started"),
        ("device_interview", "successful")]
    assert events[2]["data"]["definition"]["model"] == "Nimly"
    devices = await mqtt_watch.wait_for(
        f"{Z}/bridge/devices",
        lambda p: any(d["ieee_address"] == nimly and d["interview_state"] == "SUCCESSFUL" for d in p),
        since=mark)
    assert next(d for d in devices.payload if d["ieee_address"] == nimly)["friendly_name"] == nimly

    # Nimly keypad unlock: last_unlock_* attributes and the raw `keypad_unlock` action.
    mark = mqtt_watch.mark()
    await z2m_bridge.keypad_unlock(nimly, 12, pin="4711")
    await mqtt_watch.wait_for(f"{Z}/{nimly}", lambda p: p.get("lock_state") == "unlocked", since=mark)
    payloads = [m.payload for m in mqtt_watch.since(mark, f"{Z}/{nimly}")]
    assert payloads[0]["last_unlock_user"] == 12 and payloads[0]["last_unlock_source"] == "keypad"
    assert [p.get("action") for p in payloads] == [None, "keypad_unlock", "unlock", None]

    mark = mqtt_watch.mark()
    await z2m_bridge.leave(nimly)
    leave = await mqtt_watch.wait_for(f"{Z}/bridge/event", since=mark)
    assert leave.payload == {"type": "device_leave",
                             "data": {"friendly_name": nimly, "ieee_address": nimly}}
    devices = await mqtt_watch.wait_for(f"{Z}/bridge/devices", since=mark)
    assert nimly not in {d["ieee_address"] for d in devices.payload}


async def test_bridge_crash_fires_the_will_and_restart_republishes_cached_state(
        z2m_bridge: Z2MBridge, mqtt_watch: MqttWatcher) -> None:
    mark = mqtt_watch.mark()
    await mqtt_watch.publish(f"{Z}/front_door/set", {"state": "UNLOCK"})
    await z2m_bridge.drop_connection()
    will = await mqtt_watch.wait_for(f"{Z}/bridge/state", since=mark)
    assert will.payload == {"state": "offline"}
    mark = mqtt_watch.mark()
    await z2m_bridge.restart()
    await mqtt_watch.wait_for(f"{Z}/bridge/state", lambda p: p == {"state": "online"}, since=mark)
    cached = await mqtt_watch.wait_for(f"{Z}/front_door", since=mark)
    assert "lock_state" in cached.payload
    # Whatever the lock did while the bridge was gone, a state read tells the truth.
    mark = mqtt_watch.mark()
    await mqtt_watch.publish(f"{Z}/front_door/get", {"state": ""})
    expected = {1: "locked", 2: "unlocked"}[z2m_bridge.device(FRONT_DOOR).lock_state]
    await mqtt_watch.wait_for(f"{Z}/front_door", lambda p: p.get("lock_state") == expected,
                              since=mark)


async def test_broker_restart_bridge_reconnects_and_republishes_retained(
        z2m_bridge: Z2MBridge, mqtt_broker: MosquittoBroker) -> None:
    mqtt_broker.stop()
    mqtt_broker.start()
    # The restarted broker has lost every retained message; the bridge reconnects and,
    # since bridge/info is not echoed back, republishes them (§1.2, issue #9629).
    async with aiomqtt.Client(mqtt_broker.host, mqtt_broker.port) as client:
        await client.subscribe(f"{Z}/bridge/#")
        seen: dict[str, bytes] = {}
        async with asyncio.timeout(5):
            async for message in client.messages:
                seen[message.topic.value] = bytes(message.payload)
                if {f"{Z}/bridge/devices", f"{Z}/bridge/state"} <= set(seen):
                    break
    assert FRONT_DOOR.encode() in seen[f"{Z}/bridge/devices"]
    assert seen[f"{Z}/bridge/state"] == b'{"state":"online"}'


async def test_relock_time_is_optimistic_and_the_lock_relocks_itself(
        z2m_bridge: Z2MBridge, mqtt_watch: MqttWatcher) -> None:
    z2m_bridge.time_scale = 0.01  # 5 s of lock time pass in 50 ms
    mark = mqtt_watch.mark()
    await mqtt_watch.publish(f"{Z}/front_door/set", {"auto_relock_time": 5})
    await mqtt_watch.wait_for(f"{Z}/front_door", lambda p: p.get("auto_relock_time") == 5, since=mark)
    await mqtt_watch.publish(f"{Z}/front_door/set", {"state": "UNLOCK"})
    relock = await mqtt_watch.wait_for(f"{Z}/front_door", lambda p: p.get("action") == "auto_lock",
                                       since=mark)
    assert relock.payload["action_source_name"] == "manual"
    after = mqtt_watch.messages.index(relock) + 1
    report = await mqtt_watch.wait_for(f"{Z}/front_door", since=after)
    assert report.payload["lock_state"] == "locked" and "action" not in report.payload
