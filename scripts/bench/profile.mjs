// `node scripts/bench/profile.mjs`: a CPU profile of the Worker's isolate (workerd's inspector) while
// POST /v1/event runs over 200 users, summarised by self time per function: where a log's time goes.
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import { buildWorker, migrate, startWorker } from "./server.mjs";
import { client, MIX, setupProject, userIds } from "./workload.mjs";
import { signDevToken } from "../token.mjs";

const root = fileURLToPath(new URL("../..", import.meta.url));
const inspectorPort = 9339;
buildWorker(root);
const secret = randomBytes(32).toString("hex");
const worker = await startWorker(root, { secret, inspectorPort });
try {
  await migrate(root, worker.db);
  const token = await signDevToken({ sub: "bench", project: "bench", role: "admin", ttl: "1h" }, secret);
  const call = client(worker.base, token);
  const users = userIds("u", 200);
  await setupProject(call, users);
  const targets = await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json();
  const target = targets.find((t) => t.title?.includes("loyalty")) ?? targets[0];
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((r) => ws.once("open", r));
  let id = 0;
  const pending = new Map();
  ws.on("message", (data) => {
    const msg = JSON.parse(data.toString());
    if (msg.id && pending.has(msg.id)) pending.get(msg.id)(msg.result);
  });
  const send = (method, params = {}) =>
    new Promise((r) => {
      const n = ++id;
      pending.set(n, r);
      ws.send(JSON.stringify({ id: n, method, params }));
    });
  await send("Profiler.enable");
  await send("Profiler.setSamplingInterval", { interval: 200 });
  await send("Profiler.start");
  const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  const started = Date.now();
  let done = 0;
  await Promise.all(
    Array.from({ length: 50 }, async () => {
      while (Date.now() - started < 4000) {
        const entry = MIX[Math.floor(Math.random() * MIX.length)];
        const res = await fetch(`${worker.base}/v1/event`, {
          method: "POST",
          headers,
          body: JSON.stringify({ eventId: entry.eventId, userId: users[Math.floor(Math.random() * users.length)], metadata: entry.metadata }),
        });
        await res.arrayBuffer();
        done++;
      }
    }),
  );
  const { profile } = await send("Profiler.stop");
  writeFileSync(`${root}.bench/profile.cpuprofile`, JSON.stringify(profile));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const dt = profile.timeDeltas;
  profile.samples.forEach((nodeId, i) => {
    const node = byId.get(nodeId);
    const f = node.callFrame;
    const key = `${f.functionName || "(anonymous)"} ${f.url.split("/").slice(-1)[0]}:${f.lineNumber}`;
    self.set(key, (self.get(key) ?? 0) + (dt[i] ?? 0));
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  console.log(`${done} logs in 4 s; profile total ${(total / 1000).toFixed(0)} ms`);
  for (const [key, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 40)) console.log(`${((us / total) * 100).toFixed(1).padStart(5)}%  ${key}`);
  ws.close();
} finally {
  await worker.mf.dispose();
}
void readFileSync;
