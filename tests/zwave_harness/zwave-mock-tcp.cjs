#!/usr/bin/env node
// A mock Z-Wave controller (plus mock nodes) served as a "serial port" over TCP on loopback.
//
// Usage: node zwave-mock-tcp.cjs <config.js> <port>
//
// Why not zwave-js's own bin/mock-server.cjs (15.29.0): it hands every raw TCP chunk to the
// mock controller, which expects exactly one Serial API frame per chunk, so the first
// coalesced "ACK + next request" from the driver kills it; and it always advertises itself
// over mDNS. This launcher builds the same MockController/MockNodes from the same config
// format, re-chunks host->mock bytes with zwave-js's own SerialAPIParser (as upstream's
// DriverMock.serveMockPortViaTCP does), binds 127.0.0.1 only and advertises nothing.
// One connection at a time; the next one is accepted once the previous one closed, so
// zwave-server can be stopped and started again against the same (stateful) mock network.
"use strict";

const net = require("node:net");
const path = require("node:path");
const { MockController, MockNode } = require("@zwave-js/testing");
const {
	createDefaultMockControllerBehaviors,
	createDefaultMockNodeBehaviors,
} = require("zwave-js/Testing");
const { Faucet, SerialAPIParser, ZWaveSerialFrameType } = require("@zwave-js/serial");
const { createAndOpenMockedZWaveSerialPort } = require("@zwave-js/serial/mock");

const [configArg, portArg] = process.argv.slice(2);
const port = Number.parseInt(portArg ?? "", 10);
if (!configArg || !Number.isInteger(port)) {
	console.error("usage: node zwave-mock-tcp.cjs <config.js> <port>");
	process.exit(2);
}

// The mock throws from fire-and-forget promises when the host does not ACK in time (e.g. a
// lock event pushed while no driver is connected). That must not take the network down.
process.on("unhandledRejection", (e) => {
	console.error("mock: unhandled rejection:", e?.stack ?? e);
});

let config = require(path.resolve(configArg)).default;
if (typeof config === "function") config = config({ require });

async function main() {
	const { serial, port: mockPort } = await createAndOpenMockedZWaveSerialPort();

	const controllerOptions = config.controller ?? {};
	const controller = await MockController.create({
		homeId: 0x7e570001,
		ownNodeId: 1,
		...controllerOptions,
		mockPort,
		serial,
	});
	controller.defineBehavior(...createDefaultMockControllerBehaviors());
	if (controllerOptions.behaviors) controller.defineBehavior(...controllerOptions.behaviors);

	const nodes = [];
	for (const nodeOptions of config.nodes ?? []) {
		const node = await MockNode.create({ ...nodeOptions, controller });
		controller.addNode(node);
		node.defineBehavior(...createDefaultMockNodeBehaviors());
		if (nodeOptions.behaviors) node.defineBehavior(...nodeOptions.behaviors);
		nodes.push(node);
	}
	if (typeof config.onInit === "function") await config.onInit(controller, nodes);

	// mock controller -> whichever socket is connected
	const faucet = new Faucet(serial.readable);
	const server = net.createServer((socket) => {
		console.log("mock: client connected");
		socket.setNoDelay(true);
		const toHost = new WritableStream({
			write(frame) {
				if (frame.type !== ZWaveSerialFrameType.SerialAPI) return;
				const data = typeof frame.data === "number" ? Uint8Array.from([frame.data]) : frame.data;
				if (!socket.destroyed) socket.write(data);
			},
		});
		faucet.connect(toHost);

		// host -> mock controller, one complete Serial API frame (or ACK/NAK/CAN) per chunk
		const parser = new SerialAPIParser();
		const parserIn = parser.writable.getWriter();
		void parser.readable
			.pipeTo(
				new WritableStream({
					async write(frame) {
						if (frame.type !== ZWaveSerialFrameType.SerialAPI) return;
						const data =
							typeof frame.data === "number" ? Uint8Array.from([frame.data]) : frame.data;
						await serial.writeAsync(data).catch((e) => console.error("mock: write failed", e));
					},
				}),
			)
			.catch(() => {});
		socket.on("data", (chunk) => void parserIn.write(chunk).catch(() => {}));
		socket.on("error", () => {});
		socket.on("close", () => {
			faucet.disconnect();
			void toHost.close().catch(() => {});
			void parserIn.abort().catch(() => {});
			console.log("mock: client disconnected");
		});
	});
	server.maxConnections = 1;
	await new Promise((resolve, reject) => {
		server.once("error", reject);
		server.listen({ host: "127.0.0.1", port }, resolve);
	});
	console.log(`mock: listening on tcp://127.0.0.1:${port} with nodes ${nodes.map((n) => n.id)}`);

	let stopping = false;
	const stop = async () => {
		if (stopping) return;
		stopping = true;
		console.log("mock: shutting down");
		if (typeof config.onStop === "function") await config.onStop();
		controller.destroy();
		server.close();
		await serial.close().catch(() => {});
		mockPort.destroy();
		process.exit(0);
	};
	process.on("SIGINT", stop);
	process.on("SIGTERM", stop);
}

main().catch((e) => {
	console.error(e);
	process.exit(1);
});
