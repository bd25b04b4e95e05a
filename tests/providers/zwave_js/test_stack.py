"""The Z-Wave JS test stack works, and what `zwave-js-server-python` (0.56.0) sees from it.

These tests document the driver's behaviour the lockhub provider is built against: which
command results, value updates and notifications each lock operation produces."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from zwave_js_server.client import Client
from zwave_js_server.const import CommandClass, InclusionStrategy, NodeStatus, SetValueStatus
from zwave_js_server.model.node import Node
from zwave_js_server.util.lock import clear_usercode, set_usercode

from tests.providers.zwave_js.stack import (
    INCLUDED_LATER,
    KWIKSET_916,
    LOCK_NODES,
    SCHLAGE_BE469,
    YALE_YRD256,
    ZWaveStack,
)

LOCKED, UNLOCKED = 255, 0
TIMEOUT = 10.0


async def connect(stack: ZWaveStack, session: aiohttp.ClientSession) -> tuple[Client, asyncio.Task]:
    """Connect, start listening, wait for the driver and every lock node to be ready."""
    client = Client(stack.ws_url, session)
    await client.connect()
    driver_ready = asyncio.Event()
    listener = asyncio.create_task(client.listen(driver_ready))
    await asyncio.wait_for(driver_ready.wait(), TIMEOUT)
    assert client.driver is not None
    for node_id in LOCK_NODES:
        node = client.driver.controller.nodes[node_id]
        if not node.ready:
            await next_event(node, "ready")
    return client, listener


async def close(client: Client, listener: asyncio.Task) -> None:
    await client.disconnect()
    listener.cancel()
    await asyncio.gather(listener, return_exceptions=True)


@pytest.fixture
async def zwave(zwave_stack: ZWaveStack) -> AsyncIterator[Client]:
    async with aiohttp.ClientSession() as session:
        client, listener = await connect(zwave_stack, session)
        yield client
        await close(client, listener)


def lock(client: Client, node_id: int) -> Node:
    assert client.driver is not None
    return client.driver.controller.nodes[node_id]


def next_event(emitter: Any, names: str | tuple[str, ...],
               predicate: Callable[[dict], bool] = lambda _: True,
               timeout: float = TIMEOUT) -> asyncio.Future:
    """Subscribe now (before the action), resolve with the first matching event's data."""
    future: asyncio.Future = asyncio.get_running_loop().create_future()

    def on_event(data: dict) -> None:
        if not future.done() and predicate(data):
            future.set_result(data)

    unsubscribes = [emitter.on(name, on_event)
                    for name in ((names,) if isinstance(names, str) else names)]
    future.add_done_callback(lambda _: [unsubscribe() for unsubscribe in unsubscribes])
    return asyncio.ensure_future(asyncio.wait_for(future, timeout))


def value_is(value_id: str, expected: Any) -> Callable[[dict], bool]:
    return lambda d: d["value"].value_id == value_id and d["value"].value == expected


def notification(event_label: str) -> Callable[[dict], bool]:
    return lambda d: getattr(d["notification"], "event_label", None) == event_label


async def test_nodes_are_identified_as_real_locks(zwave: Client) -> None:
    expected = {
        SCHLAGE_BE469: ("Allegion", "BE469", 0x003B),
        YALE_YRD256: ("Yale", "YRD256-ZW3", 0x0129),
        KWIKSET_916: ("Kwikset", "916", 0x0090),
    }
    for node_id, (manufacturer, label, manufacturer_id) in expected.items():
        node = lock(zwave, node_id)
        assert node.ready and node.status == NodeStatus.ALIVE
        assert (node.device_config.manufacturer, node.device_config.label) == (manufacturer, label)
        assert node.manufacturer_id == manufacturer_id
        assert CommandClass.DOOR_LOCK in {cc.id for cc in node.command_classes}


@pytest.mark.parametrize(("node_id", "status"), [
    (SCHLAGE_BE469, SetValueStatus.SUCCESS_UNSUPERVISED),  # optimistic currentMode update
    (YALE_YRD256, SetValueStatus.SUCCESS),  # Supervision: the lock confirmed
])
async def test_lock_and_unlock_through_target_mode(
    zwave: Client, zwave_stack: ZWaveStack, node_id: int, status: SetValueStatus
) -> None:
    node = lock(zwave, node_id)
    for mode, name in ((LOCKED, "locked"), (UNLOCKED, "unlocked")):
        updated = next_event(node, "value updated", value_is(f"{node_id}-98-0-currentMode", mode))
        result = await node.async_set_value(f"{node_id}-98-0-targetMode", mode)
        assert result is not None and result.status == status
        await updated
        assert zwave_stack.state(node_id)["mode"] == name


async def test_refused_lock_reports_failure_or_the_unchanged_mode(
    zwave: Client, zwave_stack: ZWaveStack
) -> None:
    zwave_stack.set_refuse(YALE_YRD256)
    zwave_stack.set_refuse(SCHLAGE_BE469)
    try:
        # Supervised: the set itself fails.
        result = await lock(zwave, YALE_YRD256).async_set_value(f"{YALE_YRD256}-98-0-targetMode", LOCKED)
        assert result is not None and result.status == SetValueStatus.FAIL
        # Unsupervised: "success", an optimistic currentMode=255, then the lock's report of 0.
        node = lock(zwave, SCHLAGE_BE469)
        optimistic = next_event(node, "value updated", value_is(f"{SCHLAGE_BE469}-98-0-currentMode", LOCKED))
        result = await node.async_set_value(f"{SCHLAGE_BE469}-98-0-targetMode", LOCKED)
        assert result is not None and result.status == SetValueStatus.SUCCESS_UNSUPERVISED
        await optimistic
        await next_event(node, "value updated", value_is(f"{SCHLAGE_BE469}-98-0-currentMode", UNLOCKED))
        assert zwave_stack.state(YALE_YRD256)["mode"] == zwave_stack.state(SCHLAGE_BE469)["mode"] == "unlocked"
    finally:
        zwave_stack.set_refuse(YALE_YRD256, on=False)
        zwave_stack.set_refuse(SCHLAGE_BE469, on=False)


async def test_user_code_set_read_back_and_clear(zwave: Client, zwave_stack: ZWaveStack) -> None:
    node = lock(zwave, YALE_YRD256)
    await set_usercode(node, 200, "4321")
    got = await node.async_invoke_cc_api(CommandClass.USER_CODE, "get", 200, wait_for_result=True)
    assert got == {"userIdStatus": 1, "userCode": "4321"}
    assert zwave_stack.codes(YALE_YRD256) == {200: "4321"}
    await clear_usercode(node, 200)
    got = await node.async_invoke_cc_api(CommandClass.USER_CODE, "get", 200, wait_for_result=True)
    assert got["userIdStatus"] == 0
    assert zwave_stack.codes(YALE_YRD256) == {}


async def test_code_programmed_at_the_lock_is_pushed(zwave: Client, zwave_stack: ZWaveStack) -> None:
    node = lock(zwave, KWIKSET_916)
    added = next_event(node, "notification", notification("New user code added"))
    # A slot the driver never saw before is a "value added", not a "value updated".
    code = next_event(node, ("value added", "value updated"),
                      value_is(f"{KWIKSET_916}-99-0-userCode-9", "2580"))
    zwave_stack.set_code_at_lock(KWIKSET_916, 9, "2580")
    assert (await added)["notification"].parameters == {"userId": 9}
    await code
    deleted = next_event(node, "notification", notification("Single user code deleted"))
    zwave_stack.clear_code_at_lock(KWIKSET_916, 9)
    assert (await deleted)["notification"].parameters == {"userId": 9}
    assert zwave_stack.codes(KWIKSET_916) == {}


async def test_keypad_unlock_arrives_with_the_user_id(zwave: Client, zwave_stack: ZWaveStack) -> None:
    node = lock(zwave, SCHLAGE_BE469)
    zwave_stack.manual_lock(SCHLAGE_BE469)
    event = next_event(node, "notification", notification("Keypad unlock operation"))
    unlocked = next_event(node, "value updated", value_is(f"{SCHLAGE_BE469}-98-0-currentMode", UNLOCKED))
    zwave_stack.keypad_unlock(SCHLAGE_BE469, user=3)
    n = (await event)["notification"]
    assert (n.label, n.type_, n.event, n.parameters) == ("Access Control", 6, 6, {"userId": 3})
    await unlocked


@pytest.mark.parametrize(("action", "event_label", "mode"), [
    ("manual_lock", "Manual lock operation", LOCKED),
    ("manual_unlock", "Manual unlock operation", UNLOCKED),
    ("keypad_lock", "Keypad lock operation", LOCKED),
])
async def test_operations_at_the_lock_are_pushed(
    zwave: Client, zwave_stack: ZWaveStack, action: str, event_label: str, mode: int
) -> None:
    node = lock(zwave, YALE_YRD256)
    event = next_event(node, "notification", notification(event_label))
    moved = next_event(node, "value updated", value_is(f"{YALE_YRD256}-98-0-currentMode", mode))
    getattr(zwave_stack, action)(YALE_YRD256)
    await event
    await moved


async def test_jam_is_a_state_value_and_wrong_code_an_event(zwave: Client, zwave_stack: ZWaveStack) -> None:
    node = lock(zwave, KWIKSET_916)
    jammed = next_event(node, "value updated", value_is(f"{KWIKSET_916}-113-0-Access Control-Lock state", 11))
    zwave_stack.jam(KWIKSET_916)
    await jammed
    wrong = next_event(node, "notification",
                       notification("Manually enter user access code exceeds code limit"))
    zwave_stack.wrong_code(KWIKSET_916)
    assert (await wrong)["notification"].event == 0x13


async def test_battery_level_and_low_battery_are_pushed(zwave: Client, zwave_stack: ZWaveStack) -> None:
    node = lock(zwave, KWIKSET_916)
    level = next_event(node, "value updated", value_is(f"{KWIKSET_916}-128-0-level", 15))
    low = next_event(node, "value updated", value_is(
        f"{KWIKSET_916}-113-0-Power Management-Battery maintenance status", 0x0A))
    zwave_stack.battery(KWIKSET_916, 15)
    await level
    await low


async def test_dead_node_is_marked_dead_and_revives(zwave: Client, zwave_stack: ZWaveStack) -> None:
    node = lock(zwave, KWIKSET_916)
    zwave_stack.set_dead(KWIKSET_916)
    try:
        dead = next_event(node, "dead", timeout=20)
        assert await node.async_ping() is False
        await dead
        assert node.status == NodeStatus.DEAD
    finally:
        zwave_stack.set_dead(KWIKSET_916, on=False)
    alive = next_event(node, "alive")
    assert await node.async_ping() is True
    await alive
    assert node.status == NodeStatus.ALIVE


async def test_server_restart_keeps_the_network_and_clients_reconnect(
    zwave_stack: ZWaveStack,
) -> None:
    async with aiohttp.ClientSession() as session:
        client, listener = await connect(zwave_stack, session)
        unlocked = next_event(lock(client, SCHLAGE_BE469), "value updated",
                              value_is(f"{SCHLAGE_BE469}-98-0-currentMode", UNLOCKED))
        zwave_stack.manual_unlock(SCHLAGE_BE469)
        await unlocked
        # In a thread: this loop's client must answer the websocket close for the server to exit.
        await asyncio.to_thread(zwave_stack.stop_server)
        await asyncio.wait_for(listener, TIMEOUT)  # listen() returns when the server goes away
        assert not client.connected
        zwave_stack.manual_lock(SCHLAGE_BE469)  # while no driver listens: the push is lost
        await asyncio.to_thread(zwave_stack.start_server)
        client, listener = await connect(zwave_stack, session)
        try:
            node = lock(client, SCHLAGE_BE469)
            value_id = f"{SCHLAGE_BE469}-98-0-currentMode"
            assert node.values[value_id].value == UNLOCKED  # from the driver's cache: stale
            locked = next_event(node, "value updated", value_is(value_id, LOCKED))
            await node.async_poll_value(value_id)  # asks the lock; the update follows
            await locked
        finally:
            await close(client, listener)


async def test_include_and_exclude_a_lock(zwave: Client, zwave_stack: ZWaveStack) -> None:
    controller = zwave.driver.controller
    zwave_stack.include_next(INCLUDED_LATER, model="kwikset_916")
    added = next_event(controller, "node added")
    assert await controller.async_begin_inclusion(InclusionStrategy.INSECURE)
    node = (await added)["node"]
    assert node.node_id == INCLUDED_LATER
    if not node.ready:
        await next_event(node, "ready", timeout=20)
    assert node.device_config.label == "916"
    zwave_stack.exclude_next(INCLUDED_LATER)
    removed = next_event(controller, "node removed")
    assert await controller.async_begin_exclusion()
    assert (await removed)["node"].node_id == INCLUDED_LATER
    assert INCLUDED_LATER not in controller.nodes
