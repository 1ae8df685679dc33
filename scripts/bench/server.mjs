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

/** Starts the Worker; `persistPath` keeps D1 and the objects on disk across runs (prepared datasets). */
export async function startWorker(root, { secret, persistPath, consumerBatchTimeout = 1, inspectorPort }) {
  const options = convertV4MiniflareOptions({
    host: "127.0.0.1",
    port: 0,
    ...(inspectorPort ? { inspectorPort } : {}),
    workers: [
      {
        name: "loyalty-events-engine",
        modules: true,
        scriptPath: `${root}.bench/build/index.js`,
        compatibilityDate: "2026-11-01",
        bindings: { JWT_SECRET: secret, JWKS_URL: "", JWT_ISSUER: "", JWT_AUDIENCE: "", JWT_MAX_TTL_SECONDS: "", CORS_ORIGINS: "*", BENCH_TRACE: "1" },
        d1Databases: { DB: "bench-db" },
        r2Buckets: { ARCHIVE: "bench-archive" },
        durableObjects: { USER_STATE: { className: "UserState", useSQLite: true } },
        queueProducers: { EVENTS_QUEUE: { queueName: "loyalty-events" } },
        queueConsumers: {
          "loyalty-events": { maxBatchSize: 100, maxBatchTimeout: consumerBatchTimeout, maxRetries: 8, deadLetterQueue: "loyalty-events-dlq" },
          "loyalty-events-dlq": { maxBatchSize: 100, maxBatchTimeout: 5 },
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
  for (const file of readdirSync(`${root}migrations`).filter((f) => f.endsWith(".sql")).sort()) {
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
