// Seam's fake server (@seamapi/fake-seam-connect), seeded and bound to 127.0.0.1 only.
// Its startServer() calls server.listen(port) on every interface and has no host option, so
// this wrapper pins the host on net.Server.listen before starting it.
// Usage: node bench/peer.mjs PORT [CODES_DEVICE_ID CODE_COUNT]
//
// POST /_bench/add_codes {device_id, count, prefix} adds `count` set codes straight into the
// fake's state (the fake's own create copies the whole code array per code) and answers their
// ids: bench/api.py's supply of codes for the update and delete routes.
import { createRequire } from "node:module";
import net from "node:net";

// Installed by bench/setup.sh into bench/.peer (npm install --prefix), not the project.
const require = createRequire(new URL("./.peer/", import.meta.url));
const { createFake } = require("@seamapi/fake-seam-connect");

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (port, ...rest) {
  if (typeof port === "number") return listen.call(this, port, "127.0.0.1", ...rest);
  return listen.call(this, port, ...rest);
};

const [port, deviceId, count] = process.argv.slice(2);
const fake = await createFake();
await fake.seed();

// One setState instead of addAccessCode per code: addAccessCode copies the whole array.
function addCodes(device_id, count, prefix) {
  const state = fake.database.getState();
  const created_at = new Date().toISOString();
  const codes = Array.from({ length: count }, (_, n) => ({
    access_code_id: `${prefix}_code_${n}`, device_id, workspace_id: "seed_workspace_1",
    name: `${prefix} code ${n}`, code: String(100000 + n), type: "ongoing", status: "set",
    created_at, is_managed: true, errors: [], warnings: [],
    is_backup_access_code_available: false, is_external_modification_allowed: false,
    is_one_time_use: false, is_offline_access_code: false, common_code_key: null,
  }));
  fake.database.setState({ access_codes: [...state.access_codes, ...codes] });
  return codes.map((c) => c.access_code_id);
}

if (deviceId) addCodes(deviceId, Number(count), "bench");
await fake.startServer({ port: Number(port), signals: ["SIGINT", "SIGTERM"] });

// Route /_bench/ requests to the seeding hook, everything else to the fake as before.
const server = fake.server.server;
const handlers = server.listeners("request");
server.removeAllListeners("request");
server.on("request", (req, res) => {
  if (req.url !== "/_bench/add_codes") {
    for (const handler of handlers) handler.call(server, req, res);
    return;
  }
  let body = "";
  req.on("data", (chunk) => { body += chunk; });
  req.on("end", () => {
    const { device_id, count, prefix } = JSON.parse(body);
    const ids = addCodes(device_id, count, prefix);
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ access_code_ids: ids }));
  });
});
console.log(`peer listening on http://127.0.0.1:${port}`);
