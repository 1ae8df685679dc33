// `npm run bench`: builds the Worker with wrangler, runs it in workerd through Miniflare (no wrangler dev proxy)
// on 127.0.0.1 with in-memory D1, Durable Objects and Queues, and measures the main paths over real HTTP.
// Bounded: a fixed number of requests per scenario, loopback only. Figures go to BENCHMARKS.md.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { signDevToken } from "./token.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const scale = Number(process.env.BENCH_SCALE ?? 1);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 32);

console.log("Building the Worker (wrangler deploy --dry-run)...");
const build = spawnSync(
  process.execPath,
  [`${root}node_modules/wrangler/bin/wrangler.js`, "deploy", "--dry-run", "--outdir", ".bench/build"],
  { cwd: root, stdio: ["ignore", "ignore", "inherit"] },
);
if (build.status !== 0) process.exit(build.status ?? 1);

const secret = randomBytes(32).toString("hex");
// miniflare 5 takes a new option shape; the converter accepts the familiar (v4) one.
const mf = new Miniflare(convertV4MiniflareOptions({
  host: "127.0.0.1",
  port: 0,
  workers: [
    {
      name: "loyalty-events-engine",
      modules: true,
      scriptPath: `${root}.bench/build/index.js`,
      compatibilityDate: "2026-11-01",
      bindings: { JWT_SECRET: secret, JWKS_URL: "", JWT_ISSUER: "", JWT_AUDIENCE: "" },
      d1Databases: { DB: "bench-db" },
      durableObjects: { USER_STATE: { className: "UserState", useSQLite: true } },
      queueProducers: { EVENTS_QUEUE: { queueName: "loyalty-events" } },
      queueConsumers: {
        "loyalty-events": { maxBatchSize: 100, maxBatchTimeout: 1, maxRetries: 8, deadLetterQueue: "loyalty-events-dlq" },
      },
    },
  ],
}));
const base = (await mf.ready).toString().replace(/\/$/, "");

const db = await mf.getD1Database("DB");
for (const file of readdirSync(`${root}migrations`).filter((f) => f.endsWith(".sql")).sort()) {
  for (const statement of readFileSync(`${root}migrations/${file}`, "utf8").split("--> statement-breakpoint")) {
    if (statement.trim()) await db.prepare(statement).run();
  }
}

const admin = await signDevToken({ sub: "bench", project: "bench", role: "admin" }, secret);
const headers = { authorization: `Bearer ${admin}`, "content-type": "application/json" };
const call = async (method, path, body) => {
  const res = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  if (res.status >= 300 && res.status !== 204) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text;
};

await call("PUT", "/v1/admin/events/purchase", {
  title: "Purchase",
  type: "TRANSACTION",
  rewardValueField: "amount",
  reward: { default: 1, gold: 2 },
  limit: 1_000_000,
  limitPeriod: "day",
  conditions: { type: "AND", conditions: [{ field: "amount", operator: "greater_than", value: 0 }] },
  metadataFields: [{ key: "amount", type: "number", required: true }],
});
const USERS = 100;
for (let u = 0; u < USERS; u++) await call("PUT", `/v1/admin/users/u${u}`, { usergroups: u % 2 ? ["gold"] : [] });

/** Runs `total` calls of `fn(i)` with `concurrency` in flight; returns latencies (ms) and wall time. */
async function load(total, fn) {
  const latencies = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, total) }, async () => {
      while (next < total) {
        const i = next++;
        const t = performance.now();
        await fn(i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))].toFixed(1);
  return { total, seconds, perSecond: total / seconds, p50: pct(50), p95: pct(95), p99: pct(99) };
}

const results = [];
const report = (name, r, unit = "req/s") => {
  results.push({ name, ...r });
  console.log(`${name.padEnd(44)} ${r.perSecond.toFixed(0).padStart(7)} ${unit}  p50 ${r.p50} ms  p95 ${r.p95} ms  p99 ${r.p99} ms  (${r.total} in ${r.seconds.toFixed(1)} s)`);
};

const n = (count) => Math.max(10, Math.round(count * scale));
let logged = 0;
await load(n(200), (i) => call("GET", "/v1/event/purchase")); // warm-up
report("GET /v1/event/{id} (read path, no DO)", await load(n(3000), () => call("GET", "/v1/event/purchase")));
const spread = n(3000);
report(
  `POST /v1/event, ${USERS} users`,
  await load(spread, (i) => call("POST", "/v1/event", { eventId: "purchase", userId: `u${i % USERS}`, metadata: { amount: 10 } })),
);
logged += spread;
const hot = n(1000);
report(
  "POST /v1/event, one hot user",
  await load(hot, () => call("POST", "/v1/event", { eventId: "purchase", userId: "u0", metadata: { amount: 10 } })),
);
logged += hot;
const batches = n(10);
const batchRun = await load(batches, () =>
  call("POST", "/v1/events/batch", {
    events: Array.from({ length: 1000 }, (_, k) => ({ eventId: "purchase", userId: `u${k % USERS}`, metadata: { amount: 10 } })),
  }),
);
logged += batches * 1000;
report("POST /v1/events/batch (1000 events per call)", { ...batchRun, perSecond: batchRun.perSecond * 1000 }, "ev/s ");

// How long until the queue consumer has written every logged event to D1 (log + aggregates).
const drainStart = performance.now();
for (;;) {
  const row = await db.prepare("SELECT COUNT(*) AS n FROM event_log").first();
  if (row.n >= logged) break;
  if (performance.now() - drainStart > 120_000) throw new Error(`consumer drained only ${row.n} of ${logged}`);
  await new Promise((r) => setTimeout(r, 100));
}
console.log(`queue drained: ${logged} events in D1 ${((performance.now() - drainStart) / 1000).toFixed(1)} s after the last response`);
report("GET /v1/stats/event?period=30d", await load(n(300), () => call("GET", "/v1/stats/event?period=30d")));
report("GET /v1/stats/event?eventId=purchase&period=90d", await load(n(300), () => call("GET", "/v1/stats/event?eventId=purchase&period=90d")));

const stats = JSON.parse(await call("GET", "/v1/stats/event?period=1d"));
console.log(`check: stats count ${stats.data.totalEvents} = logged ${logged}: ${stats.data.totalEvents === logged ? "ok" : "MISMATCH"}`);
await mf.dispose();
if (stats.data.totalEvents !== logged) process.exit(1);
