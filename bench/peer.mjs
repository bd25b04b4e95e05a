// Seam's fake server (@seamapi/fake-seam-connect), seeded and bound to 127.0.0.1 only.
// Its startServer() calls server.listen(port) on every interface and has no host option, so
// this wrapper pins the host on net.Server.listen before starting it.
// Usage: node bench/peer.mjs PORT [CODES_DEVICE_ID CODE_COUNT]
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
if (deviceId) {
  // One setState instead of addAccessCode per code: addAccessCode copies the whole array.
  const state = fake.database.getState();
  const created_at = new Date().toISOString();
  const codes = Array.from({ length: Number(count) }, (_, n) => ({
    access_code_id: `bench_code_${n}`, device_id: deviceId, workspace_id: "seed_workspace_1",
    name: `Bench code ${n}`, code: String(1000 + n), type: "ongoing", status: "set",
    created_at, is_managed: true, errors: [], warnings: [],
    is_backup_access_code_available: false, is_external_modification_allowed: false,
    is_one_time_use: false, is_offline_access_code: false, common_code_key: null,
  }));
  fake.database.setState({ access_codes: [...state.access_codes, ...codes] });
}
await fake.startServer({ port: Number(port), signals: ["SIGINT", "SIGTERM"] });
console.log(`peer listening on http://127.0.0.1:${port}`);
