"""The mock thermostat (node 5, Honeywell T6 Pro) through the real zwave-js driver and
zwave-server, as `zwave-js-server-python` (0.56.0) sees it.

These tests document what the lockhub provider's thermostat mapping is built against: the values
and metadata the interview yields, and which value updates a set, the HVAC's own decision and a
person at the thermostat produce."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from zwave_js_server.client import Client
from zwave_js_server.const import CommandClass, NodeStatus, SetValueStatus
from zwave_js_server.exceptions import FailedZWaveCommand
from zwave_js_server.model.node import Node

from tests.providers.zwave_js.stack import (
    HONEYWELL_T6,
    THERMOSTAT_NODES,
    ZWaveStack,
)
from tests.providers.zwave_js.test_stack import close, next_event, value_is
from tests.providers.zwave_js.test_stack import connect as connect_locks

T6 = HONEYWELL_T6
OFF, HEAT, COOL, AUTO = 0, 1, 2, 3  # Thermostat Mode
IDLE, HEATING = 0, 1  # Thermostat Operating State
AUTO_LOW, LOW, CIRCULATION = 0, 1, 6  # Thermostat Fan Mode
MODE = f"{T6}-64-0-mode"
OPERATING_STATE = f"{T6}-66-0-state"
HEAT_POINT = f"{T6}-67-0-setpoint-1"
COOL_POINT = f"{T6}-67-0-setpoint-2"
FAN_MODE = f"{T6}-68-0-mode"
FAN_STATE = f"{T6}-69-0-state"
AIR_TEMPERATURE = f"{T6}-49-0-Air temperature"
TIMEOUT = 10.0


@pytest.fixture
def stack(zwave_stack: ZWaveStack) -> ZWaveStack:
    """The session network (its thermostat is node 5); each test puts node 5 back (`t6`)."""
    return zwave_stack


@pytest.fixture
async def zwave(stack: ZWaveStack) -> AsyncIterator[Client]:
    async with aiohttp.ClientSession() as session:
        client, listener = await connect_locks(stack, session)
        assert client.driver is not None
        for node_id in THERMOSTAT_NODES:
            node = client.driver.controller.nodes[node_id]
            if not node.ready:
                await next_event(node, "ready")
        yield client
        await close(client, listener)


@pytest.fixture
async def t6(zwave: Client, stack: ZWaveStack) -> Node:
    """Node 5, put back to Off at 70 °F with the default set points (earlier tests change them).

    The temperature report is the last frame the reset pushes (Off at 70 °F is already idle):
    once the driver has it, it has the reports before it too."""
    assert zwave.driver is not None
    node = zwave.driver.controller.nodes[T6]
    stack.set_refuse(T6, on=False)
    stack.adjust_at_thermostat(T6, mode=OFF, heat=68, cool=76, fan=AUTO_LOW)
    reset = next_event(node, "value updated", value_is(AIR_TEMPERATURE, 70))
    stack.temperature(T6, 70)
    await reset
    assert (node.values[MODE].value, node.values[HEAT_POINT].value,
            node.values[OPERATING_STATE].value) == (OFF, 68, IDLE)
    return node


async def eventually(predicate: Callable[[], Any], what: str, timeout: float = TIMEOUT) -> Any:
    """Poll `predicate` (the control API or the driver's cache) until truthy; fail after timeout."""
    deadline = time.monotonic() + timeout
    while not (result := predicate()):
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.05)
    return result


def states(node: Node, value_id: str) -> set[int]:
    return {int(k) for k in node.values[value_id].metadata.states}


async def test_node_5_is_a_honeywell_t6_with_its_thermostat_values(zwave: Client) -> None:
    assert zwave.driver is not None
    node = zwave.driver.controller.nodes[T6]
    assert node.ready and node.status == NodeStatus.ALIVE
    assert (node.device_config.manufacturer, node.device_config.label) == ("Honeywell", "TH6320ZW")
    assert (node.manufacturer_id, node.product_type, node.product_id) == (0x0039, 0x0011, 0x0008)
    ccs = {cc.id for cc in node.command_classes}
    assert {CommandClass.THERMOSTAT_MODE, CommandClass.THERMOSTAT_SETPOINT,
            CommandClass.THERMOSTAT_OPERATING_STATE, CommandClass.THERMOSTAT_FAN_MODE,
            CommandClass.THERMOSTAT_FAN_STATE, CommandClass.SENSOR_MULTILEVEL} <= ccs
    assert CommandClass.DOOR_LOCK not in ccs

    assert {OFF, HEAT, COOL, AUTO} <= states(node, MODE)
    for value_id, low, high in ((HEAT_POINT, 40, 90), (COOL_POINT, 50, 99)):
        meta = node.values[value_id].metadata
        assert (meta.unit, meta.min, meta.max) == ("°F", low, high), value_id
    assert node.values[HEAT_POINT].property_key == 1
    temperature = node.values[AIR_TEMPERATURE]
    assert temperature.metadata.unit == "°F"
    assert temperature.metadata.cc_specific == {"sensorType": 1, "scale": 1}
    assert node.values[f"{T6}-49-0-Humidity"].metadata.unit == "%"
    assert {AUTO_LOW, LOW, CIRCULATION} <= states(node, FAN_MODE)
    assert {IDLE, HEATING, 2} <= states(node, OPERATING_STATE)
    assert FAN_STATE in node.values


async def test_a_set_point_above_the_minimum_is_stored(t6: Node, stack: ZWaveStack) -> None:
    # zwave-js's stock mock refuses every value above the minimum; the harness's handler does not.
    result = await t6.async_set_value(HEAT_POINT, 72)
    assert result is not None and result.status == SetValueStatus.SUCCESS_UNSUPERVISED
    await eventually(lambda: stack.thermostat_state(T6)["heating_set_point"] == 72,
                     "the thermostat to hold 72 °F")
    got = await t6.async_invoke_cc_api(CommandClass.THERMOSTAT_SETPOINT, "get", 1,
                                       wait_for_result=True)
    assert got["value"] == 72


async def test_heat_mode_below_the_set_point_heats_until_the_room_is_warm(
    t6: Node, stack: ZWaveStack
) -> None:
    await t6.async_set_value(HEAT_POINT, 72)
    stack.temperature(T6, 68)
    heating = next_event(t6, "value updated", value_is(OPERATING_STATE, HEATING))
    fan_on = next_event(t6, "value updated", value_is(FAN_STATE, 1))
    result = await t6.async_set_value(MODE, HEAT)
    assert result is not None and result.status == SetValueStatus.SUCCESS_UNSUPERVISED
    await heating
    await fan_on
    state = stack.thermostat_state(T6)
    assert (state["mode_name"], state["operating_state_name"]) == ("Heat", "Heating")

    # 71.5 °F: still below the set point, so it keeps heating (no new report) ...
    stack.temperature(T6, 71.5)
    assert stack.thermostat_state(T6)["operating_state_name"] == "Heating"
    # ... and stops once the room passes it.
    idle = next_event(t6, "value updated", value_is(OPERATING_STATE, IDLE))
    warm = next_event(t6, "value updated", value_is(AIR_TEMPERATURE, 72.5))
    stack.temperature(T6, 72.5)
    await warm
    await idle
    assert stack.thermostat_state(T6)["operating_state_name"] == "Idle"


async def test_cool_mode_above_the_set_point_cools(t6: Node, stack: ZWaveStack) -> None:
    stack.adjust_at_thermostat(T6, mode=COOL, cool=74)
    cooling = next_event(t6, "value updated", value_is(OPERATING_STATE, 2))
    stack.temperature(T6, 75)
    await cooling
    assert stack.thermostat_state(T6)["operating_state_name"] == "Cooling"


async def test_fan_mode_on_runs_the_fan(t6: Node, stack: ZWaveStack) -> None:
    running = next_event(t6, "value updated", value_is(FAN_STATE, 1))
    result = await t6.async_set_value(FAN_MODE, LOW)
    assert result is not None and result.status == SetValueStatus.SUCCESS_UNSUPERVISED
    await running
    assert stack.thermostat_state(T6)["fan_mode_name"] == "Low"


async def test_changes_at_the_thermostat_reach_the_driver(t6: Node, stack: ZWaveStack) -> None:
    expected = {MODE: AUTO, HEAT_POINT: 66, COOL_POINT: 78, FAN_MODE: CIRCULATION}
    updates = [next_event(t6, "value updated", value_is(value_id, value))
               for value_id, value in expected.items()]
    state = stack.adjust_at_thermostat(T6, mode=AUTO, heat=66, cool=78, fan=CIRCULATION)
    assert (state["mode"], state["heating_set_point"], state["cooling_set_point"],
            state["fan_mode"]) == (AUTO, 66, 78, CIRCULATION)
    await asyncio.gather(*updates)
    assert {value_id: t6.values[value_id].value for value_id in expected} == expected


async def test_humidity_and_a_forced_operating_state_are_pushed(
    t6: Node, stack: ZWaveStack
) -> None:
    humidity = next_event(t6, "value updated", value_is(f"{T6}-49-0-Humidity", 38))
    stack.humidity(T6, 38)
    await humidity
    fan_only = next_event(t6, "value updated", value_is(OPERATING_STATE, 3))
    stack.operating_state(T6, 3)
    await fan_only
    assert stack.thermostat_state(T6)["operating_state_name"] == "Fan Only"


async def test_out_of_range_values_are_not_taken(t6: Node, stack: ZWaveStack) -> None:
    with pytest.raises(RuntimeError, match="set point 1 must be 40-90"):
        stack.adjust_at_thermostat(T6, heat=95)
    # zwave-js does not check the metadata's max: it sends 95, reports success (unsupervised) and
    # updates its value optimistically. The thermostat ignores the Set; the driver's own
    # verification poll (~5 s later) or a poll reads 68 back.
    optimistic = next_event(t6, "value updated", value_is(HEAT_POINT, 95))
    result = await t6.async_set_value(HEAT_POINT, 95)
    assert result is not None and result.status == SetValueStatus.SUCCESS_UNSUPERVISED
    await optimistic
    assert stack.thermostat_state(T6)["heating_set_point"] == 68
    read_back = next_event(t6, "value updated", value_is(HEAT_POINT, 68))
    await t6.async_poll_value(HEAT_POINT)
    await read_back


async def test_refused_set_point_keeps_the_old_value(t6: Node, stack: ZWaveStack) -> None:
    stack.set_refuse(T6)
    try:
        # Taken (ACKed): "success" and an optimistic 73, then ~0.3 s later the thermostat's
        # report of the unchanged 68 °F.
        optimistic = next_event(t6, "value updated", value_is(HEAT_POINT, 73))
        result = await t6.async_set_value(HEAT_POINT, 73)
        assert result is not None and result.status == SetValueStatus.SUCCESS_UNSUPERVISED
        await optimistic
        await next_event(t6, "value updated", value_is(HEAT_POINT, 68))
        assert stack.thermostat_state(T6)["heating_set_point"] == 68
        assert t6.values[HEAT_POINT].value == 68
    finally:
        stack.set_refuse(T6, on=False)


async def test_dead_thermostat_takes_no_set(t6: Node, stack: ZWaveStack) -> None:
    stack.set_dead(T6)
    try:
        dead = next_event(t6, "dead", timeout=20)
        # A listening node that does not ACK: the set raises (not a FAIL result) and it is dead.
        with pytest.raises(FailedZWaveCommand, match="ZW0204"):
            await t6.async_set_value(MODE, HEAT)
        await dead
        assert t6.status == NodeStatus.DEAD
        assert stack.thermostat_state(T6)["mode"] == OFF
    finally:
        stack.set_dead(T6, on=False)
    alive = next_event(t6, "alive")
    assert await t6.async_ping() is True
    await alive
