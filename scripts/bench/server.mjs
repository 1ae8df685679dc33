// The built Worker in workerd through Miniflare on 127.0.0.1 (not wrangler dev, whose proxy costs about 10x
// and measures itself), with D1, SQLite Durable Objects and the real queue + consumer.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";

export function buildWorker(root) {
  const build = spawnSync(process.execPath, [`${root}node_modules/wrangler/bin/wrangler.js`, "deploy", "--dry-run", "--outdir", ".bench/build"], {
    cwd: root,
    stdio: ["ignore", "ignore", "inherit"],
  });
  if (build.status !== 0) throw new Error("wrangler build failed");
}

/**
 * The webhooks part's entry module around the built Worker (`countHandover`): it counts what the stats consumer
 * sends to WEBHOOKS_QUEUE per batch of `loyalty-events` (BENCH_TRACE counts the binding's messages only in total,
 * as webhookQueueMessages), and serves the counters at GET /__bench/handover
 * (`?reset=1` resets). A batch that ran alone is attributed exactly (`maxInBatch`); overlapping ones only in the totals.
 */
const HANDOVER_ENTRY = `import worker from "./index.js";
export * from "./index.js";
const fresh = () => ({ statsBatches: 0, statsMessages: 0, webhookSends: 0, webhookMessages: 0, aloneBatches: 0, maxInBatch: 0 });
let counts = fresh();
let inFlight = 0;
let started = 0;
let statsEnv = null;
const counting = (queue) => ({
  send: (body, options) => ((counts.webhookSends += 1), (counts.webhookMessages += 1), queue.send(body, options)),
  sendBatch: (messages, options) => {
    const list = [...messages];
    counts.webhookSends += 1;
    counts.webhookMessages += list.length;
    return queue.sendBatch(list, options);
  },
});
export default {
  fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname === "/__bench/handover") {
      const snapshot = { ...counts };
      if (url.searchParams.get("reset") === "1") counts = fresh();
      return Response.json(snapshot);
    }
    return worker.fetch(request, env, ctx);
  },
  async queue(batch, env, ctx) {
    if (batch.queue !== "loyalty-events") return worker.queue(batch, env, ctx);
    // One env object, so the Worker's own per-binding caches (tracedEnv, getDb) see the same bindings every batch.
    statsEnv ??= { ...env, WEBHOOKS_QUEUE: counting(env.WEBHOOKS_QUEUE) };
    const alone = inFlight === 0;
    const mine = ++started;
    inFlight += 1;
    const before = counts.webhookMessages;
    const own = counts;
    own.statsBatches += 1;
    own.statsMessages += batch.messages.length;
    try {
      return await worker.queue(batch, statsEnv, ctx);
    } finally {
      inFlight -= 1;
      if (alone && started === mine && own === counts) {
        counts.aloneBatches += 1;
        counts.maxInBatch = Math.max(counts.maxInBatch, counts.webhookMessages - before);
      }
    }
  },
  scheduled: (controller, env, ctx) => worker.scheduled(controller, env, ctx),
};
`;

/**
 * Starts the Worker; `persistPath` keeps D1 and the objects on disk across runs (prepared datasets);
 * `countHandover` runs it inside HANDOVER_ENTRY (the webhooks part); `entry` inside another entry module around
 * `./index.js` (its contents; the floor part's, which counts the user objects' starts); `trace: false` runs it
 * without BENCH_TRACE's counters and timers, as deployed (the floor part compares it with a bare Worker).
 */
export async function startWorker(root, { secret, persistPath, consumerBatchTimeout = 1, inspectorPort, countHandover = false, entry, trace = true }) {
  const build = `${root}.bench/build`;
  const wrapper = countHandover ? HANDOVER_ENTRY : entry;
  // Given as contents, read now: another run's build rewriting .bench/build cannot change this Worker afterwards.
  const script = wrapper
    ? {
        modules: [
          { type: "ESModule", path: `${build}/${countHandover ? "bench-handover-entry" : "bench-entry"}.mjs`, contents: wrapper },
          { type: "ESModule", path: `${build}/index.js`, contents: readFileSync(`${build}/index.js`, "utf8") },
        ],
      }
    : { modules: true, scriptPath: `${build}/index.js` };
  const options = convertV4MiniflareOptions({
    host: "127.0.0.1",
    port: 0,
    ...(inspectorPort ? { inspectorPort } : {}),
    workers: [
      {
        name: "loyalty-events-engine",
        ...script,
        compatibilityDate: "2026-11-01",
        bindings: {
          JWT_SECRET: secret,
          JWKS_URL: "",
          JWT_ISSUER: "",
          JWT_AUDIENCE: "",
          JWT_MAX_TTL_SECONDS: "",
          CORS_ORIGINS: "*",
          BENCH_TRACE: trace ? "1" : "0",
          WEBHOOKS_ALLOW_LOOPBACK: "1",
        },
        d1Databases: { DB: "bench-db" },
        r2Buckets: { ARCHIVE: "bench-archive" },
        durableObjects: { USER_STATE: { className: "UserState", useSQLite: true } },
        // WEBHOOKS_ALLOW_LOOPBACK lets endpoints be http://127.0.0.1:<port> (the webhooks part's receiver).
        queueProducers: { EVENTS_QUEUE: { queueName: "loyalty-events" }, WEBHOOKS_QUEUE: { queueName: "loyalty-webhooks" } },
        queueConsumers: {
          "loyalty-events": { maxBatchSize: 100, maxBatchTimeout: consumerBatchTimeout, maxRetries: 8, deadLetterQueue: "loyalty-events-dlq" },
          "loyalty-events-dlq": { maxBatchSize: 100, maxBatchTimeout: 5 },
          // As wrangler.toml: deliveries' own failures are retried by new delayed messages, not by the queue.
          "loyalty-webhooks": { maxBatchSize: 20, maxBatchTimeout: 1, maxRetries: 100 },
        },
      },
    ],
  });
  if (persistPath) options.resourcePersistencePath = persistPath;
  const mf = new Miniflare(options);
  const base = (await mf.ready).toString().replace(/\/$/, "");
  const db = await mf.getD1Database("DB");
  return { mf, base, db, queue: await mf.getQueueProducer("EVENTS_QUEUE") };
}

/** Applies migrations/ that the database has not seen (tracked like wrangler does, in d1_migrations). */
export async function migrate(root, db) {
  await db.prepare("CREATE TABLE IF NOT EXISTS d1_migrations (name TEXT PRIMARY KEY, applied_at TEXT)").run();
  const applied = new Set((await db.prepare("SELECT name FROM d1_migrations").all()).results.map((r) => r.name));
  for (const file of readdirSync(`${root}migrations`)
    .filter((f) => f.endsWith(".sql"))
    .sort()) {
    if (applied.has(file)) continue;
    for (const statement of readFileSync(`${root}migrations/${file}`, "utf8").split("--> statement-breakpoint")) {
      if (statement.trim()) await db.prepare(statement).run();
    }
    await db.prepare("INSERT INTO d1_migrations (name, applied_at) VALUES (?, datetime('now'))").bind(file).run();
  }
}

/** Peak resident memory (VmHWM, MiB) of the workerd processes started by this process tree. */
export function workerdPeakMemoryMiB() {
  let peak = 0;
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      if (!cmdline.includes("workerd")) continue;
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      const ppid = Number(/PPid:\s+(\d+)/.exec(status)?.[1]);
      if (ppid !== process.pid) continue;
      const hwm = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
      peak = Math.max(peak, hwm / 1024);
    } catch {
      // the process ended meanwhile
    }
  }
  return peak;
}
