// Mock Z-Wave thermostat for lockhub's Z-Wave JS provider tests: a Honeywell T6 Pro that the
// driver's device config DB names, an HVAC that heats and cools on its own (the mock decides
// from the room temperature and the set points), and control API actions for things done "at
// the thermostat" (someone turns the dial, the room warms up ...).
//
// Loaded by ./locks.js (which owns the network and the control API): it adds `thermostatNode(id)`
// to the network and `thermostatActions(...)` to the control API. See ../README.md.
"use strict";

const {
	MultilevelSensorCCGet,
	MultilevelSensorCCReport,
	ThermostatFanMode,
	ThermostatFanModeCCGet,
	ThermostatFanModeCCReport,
	ThermostatFanModeCCSet,
	ThermostatFanModeCCSupportedGet,
	ThermostatFanModeCCSupportedReport,
	ThermostatFanState,
	ThermostatFanStateCCGet,
	ThermostatFanStateCCReport,
	ThermostatMode,
	ThermostatModeCCReport,
	ThermostatModeCCSet,
	ThermostatOperatingState,
	ThermostatOperatingStateCCGet,
	ThermostatOperatingStateCCReport,
	ThermostatSetpointCCReport,
	ThermostatSetpointCCSet,
	ThermostatSetpointType,
} = require("@zwave-js/cc");
const { CommandClasses, encodeBitMask, validatePayload } = require("@zwave-js/core");
const { createMockZWaveRequestFrame } = require("@zwave-js/testing");

// In 15.29.0 ThermostatFanModeCCSet can serialize but not parse (`from()` throws
// Deserialization_NotImplemented), so the mock controller cannot hand a Fan Mode Set to the node:
// it sends no ACK and the driver's set fails with ZW0204. This process's copy of @zwave-js/cc
// only (the driver runs in zwave-server's process) gets the parser, the inverse of its serialize().
if (ThermostatFanModeCCSet.from.toString().includes("not implemented")) {
	ThermostatFanModeCCSet.from = function from(raw, ctx) {
		validatePayload(raw.payload.length >= 1);
		return new this({ nodeId: ctx.sourceNodeId, mode: raw.payload[0] & 0x0f, off: !!(raw.payload[0] & 0x80) });
	};
}

/** 0x0039/th6320zw.json: Honeywell "TH6320ZW" T6 Pro Z-Wave Programmable Thermostat (mains). */
const HONEYWELL_T6 = { manufacturerId: 0x0039, productType: 0x0011, productId: 0x0008 };

const HEATING = ThermostatSetpointType.Heating; // 1
const COOLING = ThermostatSetpointType.Cooling; // 2
const FAHRENHEIT = 1; // scale of Thermostat Setpoint and of Multilevel Sensor "Air temperature"
const AIR_TEMPERATURE = 0x01;
const HUMIDITY = 0x05; // scale 0 = %
const SUPPORTED_MODES = [ThermostatMode.Off, ThermostatMode.Heat, ThermostatMode.Cool, ThermostatMode.Auto];
const SUPPORTED_FAN_MODES = [ThermostatFanMode["Auto low"], ThermostatFanMode.Low, ThermostatFanMode.Circulation];
const SETPOINTS = {
	[HEATING]: { minValue: 40, maxValue: 90, defaultValue: 68, scale: "°F" },
	[COOLING]: { minValue: 50, maxValue: 99, defaultValue: 76, scale: "°F" },
};
/** The thermostat switches on at 1 °F past the set point and off once the set point is reached. */
const SWING_F = 1;

// State keys. Mode and set points use zwave-js's own keys, so the built-in Get behaviours
// (ThermostatMode.js, ThermostatSetpoint.js) answer from the same state the handlers below keep.
const MODE = "ThermostatMode_mode";
const setpointKey = (type) => `ThermostatSetpoint_setpoint_${type}`;
const setpointScaleKey = (type) => `ThermostatSetpoint_scale_${type}`;
const FAN_MODE = "lockhub_fanMode";
const OPERATING_STATE = "lockhub_operatingState";
const FAN_STATE = "lockhub_fanState";
const TEMPERATURE_F = "lockhub_temperatureF";
const HUMIDITY_PCT = "lockhub_humidity";
// The per-node switches of locks.js's `dead` and `refuse` actions (same keys).
const DEAD = "lockhub_dead";
const REFUSE = "lockhub_refuse";

const DEFAULT_TEMPERATURE_F = 70;
const DEFAULT_HUMIDITY = 45;

// ---- the thermostat's own state ---------------------------------------------------------------

const modeOf = (node) => node.state.get(MODE) ?? ThermostatMode.Off;
const setpointOf = (node, type) => node.state.get(setpointKey(type)) ?? SETPOINTS[type].defaultValue;
const fanModeOf = (node) => node.state.get(FAN_MODE) ?? ThermostatFanMode["Auto low"];
const operatingStateOf = (node) => node.state.get(OPERATING_STATE) ?? ThermostatOperatingState.Idle;
const fanStateOf = (node) => node.state.get(FAN_STATE) ?? ThermostatFanState["Idle / off"];
const temperatureOf = (node) => node.state.get(TEMPERATURE_F) ?? DEFAULT_TEMPERATURE_F;
const humidityOf = (node) => node.state.get(HUMIDITY_PCT) ?? DEFAULT_HUMIDITY;

function storeSetpoint(node, type, valueF) {
	node.state.set(setpointKey(type), valueF);
	node.state.set(setpointScaleKey(type), FAHRENHEIT);
}

/** What the HVAC should do now: heat in Heat/Auto at T <= heat point - 1 °F (and keep heating
 * until T >= heat point), cool in Cool/Auto at T >= cool point + 1 °F (until T <= cool point). */
function decide(node) {
	const mode = modeOf(node);
	const t = temperatureOf(node);
	const heat = setpointOf(node, HEATING);
	const cool = setpointOf(node, COOLING);
	const current = operatingStateOf(node);
	const mayHeat = mode === ThermostatMode.Heat || mode === ThermostatMode.Auto;
	const mayCool = mode === ThermostatMode.Cool || mode === ThermostatMode.Auto;
	if (mayHeat && (t <= heat - SWING_F || (current === ThermostatOperatingState.Heating && t < heat))) {
		return ThermostatOperatingState.Heating;
	}
	if (mayCool && (t >= cool + SWING_F || (current === ThermostatOperatingState.Cooling && t > cool))) {
		return ThermostatOperatingState.Cooling;
	}
	return ThermostatOperatingState.Idle;
}

/** The blower: on while the HVAC runs, always on in fan mode Low ("on"); Auto low and
 * Circulation follow the HVAC (the T6's circulation duty cycle is not modelled). */
function fanStateFor(node, operatingState) {
	const running = operatingState !== ThermostatOperatingState.Idle || fanModeOf(node) === ThermostatFanMode.Low;
	return running ? ThermostatFanState["Running / running low"] : ThermostatFanState["Idle / off"];
}

function send(controller, node, cc) {
	return node.sendToController(createMockZWaveRequestFrame(cc, { ackRequested: false }));
}

const modeReport = (controller, node) =>
	new ThermostatModeCCReport({ nodeId: controller.ownNodeId, mode: modeOf(node) });
const setpointReport = (controller, node, type) =>
	new ThermostatSetpointCCReport({ nodeId: controller.ownNodeId, type, value: setpointOf(node, type), scale: FAHRENHEIT });
// In 15.29.0 ThermostatFanModeCCReport, ThermostatFanModeCCSupportedReport and
// ThermostatFanStateCCReport only parse (no serialize()): a mock sending one sends an empty payload,
// which the driver drops as invalid. Each gets its payload here (CommandClass takes `payload`).
const fanModeReport = (controller, node) =>
	new ThermostatFanModeCCReport({
		nodeId: controller.ownNodeId,
		mode: fanModeOf(node),
		off: false,
		payload: Uint8Array.from([fanModeOf(node) & 0x0f]), // bit 7 "off" clear
	});
const fanModesReport = (controller) =>
	new ThermostatFanModeCCSupportedReport({
		nodeId: controller.ownNodeId,
		supportedModes: SUPPORTED_FAN_MODES,
		payload: encodeBitMask(SUPPORTED_FAN_MODES, undefined, ThermostatFanMode["Auto low"]), // bit 0 = mode 0
	});
const operatingStateReport = (controller, node) =>
	new ThermostatOperatingStateCCReport({ nodeId: controller.ownNodeId, state: operatingStateOf(node) });
const fanStateReport = (controller, node) =>
	new ThermostatFanStateCCReport({
		nodeId: controller.ownNodeId,
		state: fanStateOf(node),
		payload: Uint8Array.from([fanStateOf(node) & 0x0f]),
	});
const temperatureReport = (controller, node) =>
	new MultilevelSensorCCReport({ nodeId: controller.ownNodeId, type: AIR_TEMPERATURE, scale: FAHRENHEIT, value: temperatureOf(node) });
const humidityReport = (controller, node) =>
	new MultilevelSensorCCReport({ nodeId: controller.ownNodeId, type: HUMIDITY, scale: 0, value: humidityOf(node) });

/** Set the operating state (and the fan state that goes with it); push each report on change
 * (`always`: push both anyway). */
async function setOperatingState(controller, node, state, always = false) {
	const fanState = fanStateFor(node, state);
	const changed = always || state !== operatingStateOf(node);
	const fanChanged = always || fanState !== fanStateOf(node);
	node.state.set(OPERATING_STATE, state);
	node.state.set(FAN_STATE, fanState);
	if (changed) await send(controller, node, operatingStateReport(controller, node));
	if (fanChanged) await send(controller, node, fanStateReport(controller, node));
}

/** Re-decide the HVAC after anything it depends on changed. */
const redecide = (controller, node) => setOperatingState(controller, node, decide(node));

/** After an accepted Set: the thermostat reacts a moment later (not inside the frame's handling). */
function redecideSoon(controller, node) {
	setTimeout(() => void redecide(controller, node).catch(() => {}), 100).unref();
}

// ---- behaviours (consulted in this order, before zwave-js's built-in ones) ---------------------

/** While "dead" the node swallows every frame (no ACK, no answer), as the locks do. */
const deadNode = {
	handleCC(_controller, self) {
		if (self.state.get(DEAD)) return { action: "stop" };
	},
};

/** "Refuse": the thermostat keeps its old value. Supervised sets get a Supervision FAIL; unsupervised
 * ones are taken (ACKed) and answered shortly after with a report of the unchanged value. */
function refused(controller, self, cc, report) {
	if (cc.isEncapsulatedWith(CommandClasses.Supervision)) return { action: "fail" };
	setTimeout(() => void send(controller, self, report()).catch(() => {}), 300).unref();
	return { action: "stop" };
}

/** The stock Setpoint Set handler (ThermostatSetpoint.js, 15.29.0) fails every value above the
 * minimum (`value > minValue || value > maxValue`); this one checks the range in the set point's
 * own scale (converting a Set sent in the other scale), stores the value in °F and re-decides. */
const respondToThermostatSetpointSet = {
	handleCC(controller, self, cc) {
		if (!(cc instanceof ThermostatSetpointCCSet)) return;
		const caps = SETPOINTS[cc.setpointType];
		if (!caps) return { action: "fail" };
		if (self.state.get(REFUSE)) return refused(controller, self, cc, () => setpointReport(controller, self, cc.setpointType));
		const valueF = cc.scale === FAHRENHEIT ? cc.value : Math.round((cc.value * 9) / 5 + 32);
		if (!(valueF >= caps.minValue && valueF <= caps.maxValue)) return { action: "fail" };
		storeSetpoint(self, cc.setpointType, valueF);
		redecideSoon(controller, self);
		return { action: "ok" };
	},
};

/** Mode Set as the built-in one (same state key), plus refuse and the HVAC's reaction. */
const respondToThermostatModeSet = {
	handleCC(controller, self, cc) {
		if (!(cc instanceof ThermostatModeCCSet)) return;
		if (self.state.get(REFUSE)) return refused(controller, self, cc, () => modeReport(controller, self));
		if (!SUPPORTED_MODES.includes(cc.mode)) return { action: "fail" };
		self.state.set(MODE, cc.mode);
		redecideSoon(controller, self);
		return { action: "ok" };
	},
};

/** zwave-js 15.29 mocks have no Thermostat Operating State, Fan Mode or Fan State behaviours:
 * without these answers every interview query of those CCs waits for its timeout. */
const respondToOperatingStateGet = {
	handleCC(controller, self, cc) {
		if (cc instanceof ThermostatOperatingStateCCGet) return { action: "sendCC", cc: operatingStateReport(controller, self) };
	},
};

const respondToFanModeGet = {
	handleCC(controller, self, cc) {
		if (cc instanceof ThermostatFanModeCCGet) return { action: "sendCC", cc: fanModeReport(controller, self) };
	},
};

const respondToFanModeSupportedGet = {
	handleCC(controller, _self, cc) {
		if (cc instanceof ThermostatFanModeCCSupportedGet) return { action: "sendCC", cc: fanModesReport(controller) };
	},
};

const respondToFanModeSet = {
	handleCC(controller, self, cc) {
		if (!(cc instanceof ThermostatFanModeCCSet)) return;
		if (self.state.get(REFUSE)) return refused(controller, self, cc, () => fanModeReport(controller, self));
		if (!SUPPORTED_FAN_MODES.includes(cc.mode)) return { action: "fail" };
		self.state.set(FAN_MODE, cc.mode);
		redecideSoon(controller, self); // the fan state follows the fan mode
		return { action: "ok" };
	},
};

const respondToFanStateGet = {
	handleCC(controller, self, cc) {
		if (cc instanceof ThermostatFanStateCCGet) return { action: "sendCC", cc: fanStateReport(controller, self) };
	},
};

/** The built-in Multilevel Sensor Get asks `capabilities.getValue`, which does not get the node. */
const respondToSensorGet = {
	handleCC(controller, self, cc) {
		if (!(cc instanceof MultilevelSensorCCGet)) return;
		const type = cc.sensorType ?? AIR_TEMPERATURE;
		if (type === HUMIDITY) return { action: "sendCC", cc: humidityReport(controller, self) };
		if (type === AIR_TEMPERATURE) return { action: "sendCC", cc: temperatureReport(controller, self) };
	},
};

function thermostatNode(id) {
	return {
		id,
		capabilities: {
			...HONEYWELL_T6,
			firmwareVersion: "1.0",
			isListening: true, // mains powered (C wire)
			isFrequentListening: false,
			genericDeviceClass: 0x08, // Thermostat
			specificDeviceClass: 0x06, // General Thermostat V2
			commandClasses: [
				CommandClasses.Version,
				{ ccId: CommandClasses["Manufacturer Specific"], version: 2 },
				{ ccId: CommandClasses["Thermostat Mode"], version: 3, supportedModes: SUPPORTED_MODES },
				{ ccId: CommandClasses["Thermostat Setpoint"], version: 3, setpoints: SETPOINTS },
				{ ccId: CommandClasses["Thermostat Operating State"], version: 1 },
				{ ccId: CommandClasses["Thermostat Fan Mode"], version: 3 },
				{ ccId: CommandClasses["Thermostat Fan State"], version: 1 },
				{
					ccId: CommandClasses["Multilevel Sensor"],
					version: 5,
					sensors: { [AIR_TEMPERATURE]: { supportedScales: [FAHRENHEIT] }, [HUMIDITY]: { supportedScales: [0] } },
				},
				// No Configuration CC: the T6's parameters are not interviewed.
			],
		},
		behaviors: [
			deadNode,
			respondToThermostatSetpointSet,
			respondToThermostatModeSet,
			respondToOperatingStateGet,
			respondToFanModeGet,
			respondToFanModeSupportedGet,
			respondToFanModeSet,
			respondToFanStateGet,
			respondToSensorGet,
		],
	};
}

const isThermostat = (node) => node.implementedCCs?.has(CommandClasses["Thermostat Mode"]);

// ---- control API actions ("at the thermostat") ----------------------------------------------

/** The node-5 actions of the control API; `nodeOf(q)` and `num(q, name, fallback)` are locks.js's. */
function thermostatActions(controller, nodeOf, num) {
	const thermostatOf = (q) => {
		const node = nodeOf(q);
		if (!isThermostat(node)) throw new Error(`mock node ${node.id} is not a thermostat`);
		return node;
	};
	const decimal = (q, name) => {
		const v = q.get(name);
		if (v == null) throw new Error(`missing query parameter ${name}`);
		const n = Number.parseFloat(v);
		if (!Number.isFinite(n)) throw new Error(`${name} must be a number`);
		return n;
	};
	const state = (n) => ({
		node: n.id,
		mode: modeOf(n),
		mode_name: ThermostatMode[modeOf(n)],
		heating_set_point: setpointOf(n, HEATING),
		cooling_set_point: setpointOf(n, COOLING),
		fan_mode: fanModeOf(n),
		fan_mode_name: ThermostatFanMode[fanModeOf(n)],
		fan_state: fanStateOf(n),
		temperature: temperatureOf(n),
		humidity: humidityOf(n),
		operating_state: operatingStateOf(n),
		operating_state_name: ThermostatOperatingState[operatingStateOf(n)],
		dead: !!n.state.get(DEAD),
		refuse: !!n.state.get(REFUSE),
	});

	return {
		thermostat_state: async (q) => state(thermostatOf(q)),
		// The room's air temperature (°F, decimals allowed): Multilevel Sensor Report, then the HVAC.
		temperature: async (q) => {
			const n = thermostatOf(q);
			n.state.set(TEMPERATURE_F, decimal(q, "f"));
			await send(controller, n, temperatureReport(controller, n));
			await redecide(controller, n);
			return state(n);
		},
		humidity: async (q) => {
			const n = thermostatOf(q);
			const pct = num(q, "pct");
			if (pct < 0 || pct > 100) throw new Error("pct must be 0-100");
			n.state.set(HUMIDITY_PCT, pct);
			await send(controller, n, humidityReport(controller, n));
			return state(n);
		},
		// Someone at the thermostat: any of mode, heat, cool (°F), fan; a report for each one given.
		adjust_at_thermostat: async (q) => {
			const n = thermostatOf(q);
			const mode = q.has("mode") ? num(q, "mode") : undefined;
			const fan = q.has("fan") ? num(q, "fan") : undefined;
			const points = [[HEATING, "heat"], [COOLING, "cool"]]
				.filter(([, name]) => q.has(name))
				.map(([type, name]) => [type, decimal(q, name)]);
			if (mode !== undefined && !SUPPORTED_MODES.includes(mode)) throw new Error(`mode ${mode} is not supported`);
			if (fan !== undefined && !SUPPORTED_FAN_MODES.includes(fan)) throw new Error(`fan mode ${fan} is not supported`);
			for (const [type, value] of points) {
				const { minValue, maxValue } = SETPOINTS[type];
				if (value < minValue || value > maxValue) throw new Error(`set point ${type} must be ${minValue}-${maxValue} °F`);
			}
			if (mode !== undefined) {
				n.state.set(MODE, mode);
				await send(controller, n, modeReport(controller, n));
			}
			for (const [type, value] of points) {
				storeSetpoint(n, type, value);
				await send(controller, n, setpointReport(controller, n, type));
			}
			if (fan !== undefined) {
				n.state.set(FAN_MODE, fan);
				await send(controller, n, fanModeReport(controller, n));
			}
			await redecide(controller, n);
			return state(n);
		},
		// Force the operating state (e.g. 3 Fan Only) and push it (with the fan state); the next
		// re-decision (temperature, set point, mode) may change it again.
		operating_state: async (q) => {
			const n = thermostatOf(q);
			const s = num(q, "state");
			if (ThermostatOperatingState[s] === undefined) throw new Error(`unknown operating state ${s}`);
			await setOperatingState(controller, n, s, true);
			return state(n);
		},
	};
}

module.exports = { HONEYWELL_T6, thermostatNode, thermostatActions };
