// Mock Z-Wave network for lockhub's Z-Wave JS provider tests: controller (node 1) and three door
// locks that identify as real products (so the driver's device config DB names them), plus a
// loopback HTTP control API for things done "at the lock" (keypad, thumb turn, jam, battery ...).
// The network also has ./thermostats.js's thermostat as node 5 (unless ZW_MOCK_THERMOSTATS=0).
//
// Loaded by ../zwave-mock-tcp.cjs. The control API listens on 127.0.0.1:$ZW_MOCK_CONTROL_PORT.
// Every answer is JSON; see ../README.md for the actions and what the driver makes of them.
"use strict";

const http = require("node:http");
const {
	BatteryCCGet,
	BatteryCCReport,
	DoorLockCCOperationGet,
	DoorLockCCOperationReport,
	DoorLockCCOperationSet,
	DoorLockMode,
	NotificationCCGet,
	NotificationCCReport,
	UserCodeCCReport,
	UserIDStatus,
} = require("@zwave-js/cc");
const { CommandClasses, Duration } = require("@zwave-js/core");
const { createMockZWaveRequestFrame } = require("@zwave-js/testing");
const {
	RemoveNodeFromNetworkRequest,
	RemoveNodeFromNetworkRequestStatusReport,
	RemoveNodeStatus,
	RemoveNodeType,
} = require("@zwave-js/serial");
const { thermostatActions, thermostatNode } = require("./thermostats");

const ACCESS_CONTROL = 0x06;
const POWER_MANAGEMENT = 0x08;
// Access Control events (zwave-js core registries/Notifications): 1 manual lock, 2 manual
// unlock, 5 keypad lock, 6 keypad unlock, 0x0b lock jammed, 0x0c all codes deleted, 0x0d single
// code deleted, 0x0e new code added, 0x13 "Manually enter user access code exceeds code limit"
// (what a keypad lock reports for wrong codes entered).
const EV = {
	manualLock: 0x01,
	manualUnlock: 0x02,
	keypadLock: 0x05,
	keypadUnlock: 0x06,
	jammed: 0x0b,
	codeDeleted: 0x0d,
	codeAdded: 0x0e,
	wrongCode: 0x13,
};
const REPLACE_BATTERY_SOON = 0x0a;

/** Real products from zwave-js's device config DB (packages/config/config/devices/...). */
const MODELS = {
	// 0x003b/be469.json: Allegion "BE469 Touchscreen Deadbolt" (no Supervision; pre-S2 era)
	schlage_be469: { manufacturerId: 0x003b, productType: 0x6341, productId: 0x5044, numUsers: 30, supervision: false },
	// 0x0129/yrd256-zw3.json: Yale "YRD256-ZW3 Assure Keyless Touch Screen Deadbolt" (700 series: Supervision)
	yale_yrd256: { manufacturerId: 0x0129, productType: 0x8002, productId: 0x46d5, numUsers: 250, supervision: true },
	// 0x0090/916.json: Kwikset "916 Door Lock"
	kwikset_916: { manufacturerId: 0x0090, productType: 0x0003, productId: 0x0642, numUsers: 30, supervision: false },
};

/** Per-node test switches (the lock's own state lives in node.state, as the built-in behaviours expect). */
const DEAD = "lockhub_dead";
const REFUSE = "lockhub_refuse";
const BATTERY = "lockhub_battery";
const MODE = "DoorLock_currentMode"; // key of zwave-js's built-in Door Lock behaviour
const codeKey = (slot) => `UserCode_userCode_${slot}`;
const statusKey = (slot) => `UserCode_userIdStatus_${slot}`;

/** While "dead" the node swallows every frame (no ACK, no answer), so the driver's sends fail. */
const deadNode = {
	handleCC(_controller, self) {
		if (self.state.get(DEAD)) return { action: "stop" };
	},
};

/** "Refuse": the bolt does not move. Supervised sets get a Supervision FAIL; unsupervised ones are
 * taken (ACKed) and answered shortly after with an Operation Report of the unchanged mode. */
const refuseDoorLockSet = {
	handleCC(controller, self, cc) {
		if (!(cc instanceof DoorLockCCOperationSet) || !self.state.get(REFUSE)) return;
		if (cc.isEncapsulatedWith(CommandClasses.Supervision)) return { action: "fail" };
		setTimeout(() => void pushDoorLockReport(controller, self).catch(() => {}), 300).unref();
		return { action: "stop" };
	},
};

/** zwave-js 15.29 mocks have no Battery Get responder. */
const respondToBatteryGet = {
	handleCC(controller, self, cc) {
		if (cc instanceof BatteryCCGet) {
			return {
				action: "sendCC",
				cc: new BatteryCCReport({ nodeId: controller.ownNodeId, level: self.state.get(BATTERY) ?? 87 }),
			};
		}
	},
};

/** zwave-js 15.29 mocks have no Notification Get responder (costs a 1 s timeout per interview). */
const respondToNotificationGet = {
	handleCC(controller, _self, cc) {
		if (cc instanceof NotificationCCGet) {
			return {
				action: "sendCC",
				cc: new NotificationCCReport({
					nodeId: controller.ownNodeId,
					notificationType: cc.notificationType ?? ACCESS_CONTROL,
					notificationEvent: 0,
				}),
			};
		}
	},
};

/** The built-in Door Lock Operation Get answer, minus door/bolt/latch (capabilities say unsupported). */
function operationReport(controller, self) {
	const mode = self.state.get(MODE) ?? DoorLockMode.Unsecured;
	return new DoorLockCCOperationReport({
		nodeId: controller.ownNodeId,
		currentMode: mode,
		targetMode: mode,
		duration: new Duration(0, "seconds"),
		outsideHandlesCanOpenDoor: [true, true, true, true],
		insideHandlesCanOpenDoor: [true, true, true, true],
	});
}

const respondToOperationGet = {
	handleCC(controller, self, cc) {
		if (cc instanceof DoorLockCCOperationGet && !self.state.get("DoorLock_transition")) {
			return { action: "sendCC", cc: operationReport(controller, self) };
		}
	},
};

function lockNode(id, modelName) {
	const m = MODELS[modelName];
	const commandClasses = [
		CommandClasses.Version,
		{ ccId: CommandClasses["Manufacturer Specific"], version: 2 },
		{
			ccId: CommandClasses["Door Lock"],
			version: 4,
			doorSupported: false,
			boltSupported: false,
			latchSupported: false,
		},
		{ ccId: CommandClasses["User Code"], version: 1, numUsers: m.numUsers },
		{
			ccId: CommandClasses.Notification,
			version: 8,
			supportsV1Alarm: false,
			notificationTypesAndEvents: {
				[ACCESS_CONTROL]: Object.values(EV),
				[POWER_MANAGEMENT]: [REPLACE_BATTERY_SOON],
			},
		},
		{ ccId: CommandClasses.Battery, version: 1 },
	];
	if (m.supervision) commandClasses.push(CommandClasses.Supervision);
	return {
		id,
		capabilities: {
			manufacturerId: m.manufacturerId,
			productType: m.productType,
			productId: m.productId,
			firmwareVersion: "1.0",
			isListening: false,
			isFrequentListening: "1000ms", // battery locks are FLiRS
			genericDeviceClass: 0x40, // Entry Control
			specificDeviceClass: 0x03, // Secure Keypad Door Lock
			commandClasses,
		},
		// consulted in this order, before zwave-js's built-in behaviours
		behaviors: [deadNode, refuseDoorLockSet, respondToBatteryGet, respondToNotificationGet, respondToOperationGet],
	};
}

// ---- pushing frames "from the lock" -------------------------------------------------------

function send(controller, node, cc) {
	return node.sendToController(createMockZWaveRequestFrame(cc, { ackRequested: false }));
}

function pushDoorLockReport(controller, node) {
	return send(controller, node, operationReport(controller, node));
}

function pushNotification(controller, node, type, event, eventParameters) {
	return send(
		controller,
		node,
		new NotificationCCReport({
			nodeId: controller.ownNodeId,
			notificationType: type,
			notificationEvent: event,
			eventParameters,
		}),
	);
}

async function lockEvent(controller, node, event, mode, user) {
	node.state.set(MODE, mode);
	await pushNotification(controller, node, ACCESS_CONTROL, event, user ? Uint8Array.from([user]) : undefined);
	await pushDoorLockReport(controller, node);
	return { mode: modeName(mode) };
}

function modeName(mode) {
	return mode === DoorLockMode.Secured ? "locked" : mode === DoorLockMode.Unsecured ? "unlocked" : String(mode);
}

function heldCodes(node) {
	const codes = {};
	for (const [key, value] of node.state) {
		const m = /^UserCode_userCode_(\d+)$/.exec(key);
		if (m && value != null && value !== "") {
			const status = node.state.get(statusKey(m[1]));
			if (status !== UserIDStatus.Available) codes[m[1]] = typeof value === "string" ? value : Buffer.from(value).toString();
		}
	}
	return codes;
}

// ---- inclusion / exclusion --------------------------------------------------------------

/** zwave-js's mock controller never completes an exclusion; this finishes it for an armed node. */
const PENDING_REMOVAL = "lockhub_pendingRemoval";
const handleExclusion = {
	async onHostMessage(controller, msg) {
		if (!(msg instanceof RemoveNodeFromNetworkRequest)) return;
		const nodeId = controller.state.get(PENDING_REMOVAL);
		if (msg.removeNodeType === RemoveNodeType.Stop) {
			controller.state.set("inclusionState", 0);
			if (msg.callbackId) {
				await controller.sendMessageToHost(
					new RemoveNodeFromNetworkRequestStatusReport({ callbackId: msg.callbackId, status: RemoveNodeStatus.Done }),
				);
			}
			return true;
		}
		if (nodeId == undefined) return; // default behaviour: "Ready", then nothing happens
		controller.state.delete(PENDING_REMOVAL);
		const report = (status, extra = {}) =>
			controller.sendMessageToHost(
				new RemoveNodeFromNetworkRequestStatusReport({ callbackId: msg.callbackId, status, ...extra }),
			);
		await report(RemoveNodeStatus.Ready);
		setTimeout(async () => {
			try {
				await report(RemoveNodeStatus.NodeFound);
				await report(RemoveNodeStatus.RemovingSlave, { nodeId });
				const node = controller.nodes.get(nodeId);
				if (node) controller.removeNode(node);
				await report(RemoveNodeStatus.Done, { nodeId });
			} catch (e) {
				console.error("mock: exclusion failed", e);
			}
		}, 20).unref();
		return true;
	},
};

// ---- the control API ----------------------------------------------------------------------

let httpServer;

function startControlApi(controller, nodes) {
	const port = Number.parseInt(process.env.ZW_MOCK_CONTROL_PORT ?? "", 10);
	if (!Number.isInteger(port)) throw new Error("ZW_MOCK_CONTROL_PORT is not set");
	const byId = new Map(nodes.map((n) => [n.id, n]));
	const num = (q, name, fallback) => {
		const v = q.get(name);
		if (v == null) {
			if (fallback !== undefined) return fallback;
			throw new Error(`missing query parameter ${name}`);
		}
		const n = Number.parseInt(v, 10);
		if (!Number.isInteger(n)) throw new Error(`${name} must be an integer`);
		return n;
	};
	const lockOf = (q) => {
		const id = num(q, "node");
		const node = byId.get(id) ?? controller.nodes.get(id);
		if (!node) throw new Error(`no mock node ${id}`);
		return node;
	};
	const flag = (q) => q.get("on") !== "0" && q.get("on") !== "false";

	const actions = {
		nodes: async () => ({ nodes: [...controller.nodes.keys()] }),
		state: async (q) => {
			const n = lockOf(q);
			return {
				node: n.id,
				mode: modeName(n.state.get(MODE) ?? DoorLockMode.Unsecured),
				battery: n.state.get(BATTERY) ?? 87,
				dead: !!n.state.get(DEAD),
				refuse: !!n.state.get(REFUSE),
			};
		},
		keypad_unlock: (q) => lockEvent(controller, lockOf(q), EV.keypadUnlock, DoorLockMode.Unsecured, num(q, "user", 1)),
		keypad_lock: (q) => lockEvent(controller, lockOf(q), EV.keypadLock, DoorLockMode.Secured, num(q, "user", 0)),
		manual_lock: (q) => lockEvent(controller, lockOf(q), EV.manualLock, DoorLockMode.Secured),
		manual_unlock: (q) => lockEvent(controller, lockOf(q), EV.manualUnlock, DoorLockMode.Unsecured),
		jam: async (q) => {
			await pushNotification(controller, lockOf(q), ACCESS_CONTROL, EV.jammed);
			return {};
		},
		wrong_code: async (q) => {
			await pushNotification(controller, lockOf(q), ACCESS_CONTROL, EV.wrongCode);
			return {};
		},
		battery: async (q) => {
			const n = lockOf(q);
			const level = num(q, "level");
			n.state.set(BATTERY, level);
			await send(controller, n, new BatteryCCReport({ nodeId: controller.ownNodeId, level }));
			if (level <= 20) await pushNotification(controller, n, POWER_MANAGEMENT, REPLACE_BATTERY_SOON);
			return { level };
		},
		set_code_at_lock: async (q) => {
			const n = lockOf(q);
			const slot = num(q, "slot");
			const code = q.get("code");
			if (!code || !/^\d{4,10}$/.test(code)) throw new Error("code must be 4-10 digits");
			n.state.set(statusKey(slot), UserIDStatus.Enabled);
			n.state.set(codeKey(slot), code);
			await send(
				controller,
				n,
				new UserCodeCCReport({ nodeId: controller.ownNodeId, userId: slot, userIdStatus: UserIDStatus.Enabled, userCode: code }),
			);
			await pushNotification(controller, n, ACCESS_CONTROL, EV.codeAdded, Uint8Array.from([slot]));
			return { slot, code };
		},
		clear_code_at_lock: async (q) => {
			const n = lockOf(q);
			const slot = num(q, "slot");
			n.state.set(statusKey(slot), UserIDStatus.Available);
			n.state.delete(codeKey(slot));
			await send(
				controller,
				n,
				new UserCodeCCReport({ nodeId: controller.ownNodeId, userId: slot, userIdStatus: UserIDStatus.Available }),
			);
			await pushNotification(controller, n, ACCESS_CONTROL, EV.codeDeleted, Uint8Array.from([slot]));
			return { slot };
		},
		codes: async (q) => ({ codes: heldCodes(lockOf(q)) }),
		refuse: async (q) => {
			lockOf(q).state.set(REFUSE, flag(q));
			return { refuse: flag(q) };
		},
		dead: async (q) => {
			const n = lockOf(q);
			n.state.set(DEAD, flag(q));
			n.autoAckControllerFrames = !flag(q);
			return { dead: flag(q) };
		},
		// The next "begin inclusion" adds this lock (model = a MODELS key); exclusion removes ?node.
		include_next: async (q) => {
			const id = num(q, "node");
			const model = q.get("model") ?? "schlage_be469";
			if (!MODELS[model]) throw new Error(`unknown model ${model}`);
			if (controller.nodes.has(id)) throw new Error(`node ${id} already exists`);
			const { behaviors, ...options } = lockNode(id, model);
			controller.nodePendingInclusion = {
				...options,
				setup: (node) => {
					node.defineBehavior(...behaviors);
					byId.set(id, node);
				},
			};
			return { node: id, model };
		},
		exclude_next: async (q) => {
			const id = lockOf(q).id;
			controller.state.set(PENDING_REMOVAL, id);
			return { node: id };
		},
		...thermostatActions(controller, lockOf, num),
	};

	httpServer = http.createServer(async (req, res) => {
		const url = new URL(req.url, "http://127.0.0.1");
		const action = actions[url.pathname.replace(/^\/+/, "")];
		let status = 200;
		let body;
		try {
			if (!action) {
				status = 404;
				body = { error: `unknown action ${url.pathname}`, actions: Object.keys(actions) };
			} else {
				body = { ok: true, ...(await action(url.searchParams)) };
			}
		} catch (e) {
			status = 400;
			body = { error: String(e?.message ?? e) };
		}
		res.writeHead(status, { "content-type": "application/json" });
		res.end(JSON.stringify(body));
	});
	return new Promise((resolve) => httpServer.listen({ host: "127.0.0.1", port }, resolve));
}

module.exports.MODELS = MODELS;
module.exports.default = {
	controller: { behaviors: [handleExclusion] },
	nodes: [
		lockNode(2, "schlage_be469"),
		lockNode(3, "yale_yrd256"),
		lockNode(4, "kwikset_916"),
		// On by default; ZW_MOCK_THERMOSTATS=0 leaves it out (the lock tests include and exclude
		// a lock as node 6, see ../README.md).
		...(process.env.ZW_MOCK_THERMOSTATS === "0" ? [] : [thermostatNode(5)]),
	],
	onInit: startControlApi,
	onStop: () => new Promise((resolve) => (httpServer ? httpServer.close(() => resolve()) : resolve())),
};
