// `npm run bench [-- --quick]`: the built Worker in workerd through Miniflare on 127.0.0.1, driven over real
// HTTP by autocannon from a separate process (50 connections, fixed duration per scenario). Every run starts
// with the GET /health baseline and reports each scenario beside it. Bounded in time, loopback only, and it
// stops every process it started. Writes bench/results.json and prints a table; BENCHMARKS.md explains it.
import { execFile, execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { buildWorker, migrate, startWorker, workerdPeakMemoryMiB } from "./bench/server.mjs";
import { client, fetchAgain, inParallel, MIX, setupProject, userIds } from "./bench/workload.mjs";
import { seedEventDataset, seedParticipants } from "./bench/datasets.mjs";
import { benchReconciliation, RECONCILE_EVENTS_PER_USER, RECONCILE_GAP, RECONCILE_USERS } from "./bench/reconciliation.mjs";
import { benchArchive } from "./bench/archive.mjs";
import { benchStorage } from "./bench/storage.mjs";
import { benchFloor } from "./bench/floor.mjs";
import { benchFanout, benchWebhookWrites, startReceiver } from "./bench/webhooks.mjs";
import { signDevToken } from "./token.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
// --quick: smaller and shorter (about 6 minutes, 4.5 of them the floor part); --only=write|floor|reads|reconcile|archive|ledger|storage|webhooks: one part; --fresh: rebuild the datasets.
const { values: flags } = parseArgs({
  options: { quick: { type: "boolean", default: false }, fresh: { type: "boolean", default: false }, only: { type: "string" } },
});
const quick = flags.quick;
const P = quick
  ? {
      seconds: 3,
      users: 200,
      registered: 3_000,
      drain: 10_000,
      eventSizes: [10_000],
      participants: 10_000,
      streakParticipants: 10_000,
      reads: 40,
      storage: { events: 100_000, members: [10_000, 1_000] },
      fanout: 5_000,
      floor: { seconds: 3, firstTouch: 200, importCalls: 2 },
    }
  : {
      seconds: 10,
      users: 1_000,
      registered: 30_000,
      drain: 100_000,
      eventSizes: [10_000, 100_000, 1_000_000],
      participants: 1_000_000,
      streakParticipants: 100_000,
      reads: 200,
      storage: { events: 1_000_000, members: [100_000, 10_000] },
      fanout: 100_000,
      floor: { seconds: 6, firstTouch: 1_000, importCalls: 5 },
    };
const CONNECTIONS = 50;
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;
const log = (...args) => console.log(`[${elapsed()}]`, ...args);

const rows = [];
/**
 * The same run's GET /health figures every scenario is set beside: throughput under load (part 1) and the
 * p50 of one client (part 2, beside the one-client reads).
 */
const baseline = { rps: null, p50: null };
/** One row of the report; `target` is a predicate with its description; `vsHealth` the ratio to the baseline. */
function report(scenario, metric, value, unit, target, vsHealth) {
  const met = target ? target.test(value) : null;
  rows.push({ scenario, metric, value, unit, target: target?.text ?? "", met, vsHealth: vsHealth ?? null });
  const ratioText = vsHealth === undefined ? "" : ` [${round(vsHealth)}x /health]`;
  log(
    `${scenario} | ${metric}: ${typeof value === "number" ? round(value) : value} ${unit}${ratioText}${target ? ` (target ${target.text}: ${met ? "met" : "NOT met"})` : ""}`,
  );
}
const round = (v) => (Math.abs(v) >= 100 ? Math.round(v) : Math.round(v * 100) / 100);
const atLeast = (n, text) => ({ test: (v) => v >= n, text });
const atMost = (n, text) => ({ test: (v) => v <= n, text });

/** Runs one autocannon scenario in a child process (its config in a file: bodies can be megabytes) and returns its summary. */
let loads = 0;
function load(base, config) {
  const file = `${root}.bench/load-${++loads}.json`;
  writeFileSync(file, JSON.stringify({ connections: CONNECTIONS, durationSeconds: P.seconds, ...config, url: base }));
  try {
    const out = execFileSync(process.execPath, [`${root}scripts/bench/load.mjs`, file], {
      maxBuffer: 64 * 1024 * 1024,
      timeout: (config.durationSeconds ?? P.seconds) * 1000 + 60_000,
    });
    return JSON.parse(out.toString());
  } finally {
    rmSync(file, { force: true });
  }
}

/** load() without blocking this process's event loop (the webhooks part's receiver answers meanwhile). */
async function loadAsync(base, config) {
  const file = `${root}.bench/load-${++loads}.json`;
  writeFileSync(file, JSON.stringify({ connections: CONNECTIONS, durationSeconds: P.seconds, ...config, url: base }));
  try {
    const out = await new Promise((resolve, reject) =>
      execFile(
        process.execPath,
        [`${root}scripts/bench/load.mjs`, file],
        { maxBuffer: 64 * 1024 * 1024, timeout: (config.durationSeconds ?? P.seconds) * 1000 + 60_000 },
        (error, stdout) => (error ? reject(error) : resolve(stdout)),
      ),
    );
    return JSON.parse(out.toString());
  } finally {
    rmSync(file, { force: true });
  }
}

/** One client, sequential requests: p50 and p99 in ms. */
async function timeReads(url, headers, count = P.reads) {
  const times = [];
  for (let i = 0; i < count + 5; i++) {
    const t = performance.now();
    const res = await fetchAgain(url, { headers });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`${url}: ${res.status}`);
    if (i >= 5) times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(times.length / 2)], p99: times[Math.min(times.length - 1, Math.floor(times.length * 0.99))] };
}

/** The Worker's counters since the last call (they reset); logs applied are also kept as a running total. */
let logsAppliedTotal = 0;
async function bench(base) {
  const snapshot = await (await fetchAgain(`${base}/__bench?reset=1`)).json();
  logsAppliedTotal += snapshot.counters.logsApplied;
  return snapshot;
}

async function waitFor(label, check, timeoutMs = 600_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
const countLogged = async (db, projectKey) =>
  (await db.prepare("SELECT COUNT(*) AS n FROM event_log WHERE program_id = (SELECT id FROM projects WHERE key = ?)").bind(projectKey).first()).n;

// ---------------------------------------------------------------------------------------------------------
mkdirSync(`${root}.bench`, { recursive: true });
log(`Building the Worker (wrangler deploy --dry-run)... mode: ${quick ? "quick" : "full"}`);
buildWorker(root);
const secret = randomBytes(32).toString("hex");
let peakMemory = 0;

if (flags.only !== undefined && !["write", "floor", "reads", "reconcile", "archive", "ledger", "storage", "webhooks"].includes(flags.only)) {
  throw new Error(`--only=${flags.only}: write, floor, reads, reconcile, archive, ledger, storage or webhooks`);
}
const runs = (part) => flags.only === undefined || flags.only === part;

// Part 1: the write path, on a fresh in-memory Worker.
if (runs("write")) {
  const worker = await startWorker(root, { secret });
  try {
    await migrate(root, worker.db);
    const { base, db } = worker;
    const token = await signDevToken({ sub: "bench", project: "bench", role: "admin", ttl: "2h" }, secret);
    const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    const call = client(base, token);

    log("baseline: GET /health");
    const health = load(base, { path: "/health" });
    const healthRps = health.requestsPerSecond;
    baseline.rps = healthRps;
    report("GET /health (baseline, 50 connections)", "throughput", healthRps, "req/s");
    report("GET /health (baseline, 50 connections)", "p50", health.latency.p50, "ms");
    report("GET /health (baseline, 50 connections)", "p99", health.latency.p99, "ms");
    const ratio = (rps) => rps / healthRps;

    const users = userIds("u", P.users);
    log(`setup: definitions, a streak, a challenge, a leaderboard, ${users.length} users`);
    await setupProject(call, [...users, "hot"]);
    // Warm: every user's object exists and the isolate has the definitions cached.
    for (let i = 0; i < users.length; i += 1000) {
      await call("POST", "/v1/events/batch", { events: users.slice(i, i + 1000).map((userId) => ({ eventId: "review", userId, metadata: { stars: 1 } })) });
    }
    await waitFor("warm-up ingest", async () => (await countLogged(db, "bench")) >= users.length);
    await bench(base);

    log(`POST /v1/event over ${users.length} users (mix)`);
    const spread = load(base, { method: "POST", path: "/v1/event", headers, generator: { kind: "log", users, mix: MIX } });
    const spreadTrace = await bench(base);
    const spreadCounters = spreadTrace.counters;
    for (const [name, s] of Object.entries(spreadTrace.spans)) log(`  span ${name}: avg ${round(s.avgMs)} ms, max ${round(s.maxMs)} ms over ${s.count}`);
    report(`POST /v1/event, ${users.length} warm users`, "throughput", spread.requestsPerSecond, "req/s", undefined, ratio(spread.requestsPerSecond));
    report(`POST /v1/event, ${users.length} warm users`, "throughput / /health throughput", ratio(spread.requestsPerSecond), "x", atLeast(0.2, ">= 0.20"));
    report(`POST /v1/event, ${users.length} warm users`, "p50", spread.latency.p50, "ms");
    report(`POST /v1/event, ${users.length} warm users`, "p99", spread.latency.p99, "ms", atMost(100, "<= 100 ms"));
    report(`POST /v1/event, ${users.length} warm users`, "errors", spread.non2xx + spread.errors + spread.timeouts, "", atMost(0, "0"));
    const perLog = (n) => n / Math.max(1, spreadCounters.logsApplied);
    report("cost per logged event", "user-object storage statements", perLog(spreadCounters.doStatements), "");
    report("cost per logged event", "alarms set", perLog(spreadCounters.doAlarmsSet), "");
    report("cost per logged event", "queue messages", perLog(spreadCounters.queueMessages), "");
    report("cost per logged event", "queue sends", perLog(spreadCounters.queueSends), "");
    // The only D1 use on the request path is the definitions' version check, once per isolate every 5 seconds.
    report("cost per logged event", "D1 statements on the request path", perLog(spreadCounters.d1StatementsRequest), "", atMost(0.01, "< 0.01"));

    log("POST /v1/event, one hot user (mix)");
    const hot = load(base, { method: "POST", path: "/v1/event", headers, generator: { kind: "log", users: ["hot"], mix: MIX } });
    report("POST /v1/event, one hot user", "throughput", hot.requestsPerSecond, "req/s", undefined, ratio(hot.requestsPerSecond));
    report("POST /v1/event, one hot user", "p99", hot.latency.p99, "ms", atMost(200, "<= 200 ms"));
    report("POST /v1/event, one hot user", "errors", hot.non2xx + hot.errors + hot.timeouts, "", atMost(0, "0"));

    log("POST /v1/events/batch, 1,000 events per call over 100 users");
    const batchUsers = users.slice(0, 100);
    const batchBodies = Array.from({ length: 4 }, () =>
      JSON.stringify({
        events: Array.from({ length: 1000 }, (_, i) => {
          const entry = MIX[i % MIX.length];
          return { eventId: entry.eventId, userId: batchUsers[i % batchUsers.length], metadata: entry.metadata };
        }),
      }),
    );
    const batch = load(base, { method: "POST", path: "/v1/events/batch", headers, bodies: batchBodies, connections: 8 });
    report(
      "POST /v1/events/batch, 1,000 events over 100 users",
      "events accepted",
      batch.requestsPerSecond * 1000,
      "events/s",
      atLeast(5000, ">= 5,000/s"),
      ratio(batch.requestsPerSecond * 1000),
    );
    report("POST /v1/events/batch, 1,000 events over 100 users", "p50 per call", batch.latency.p50, "ms");

    // Every log the users' objects applied reaches D1 exactly once, and the hot user's limit and balance are exact.
    log("waiting for the consumer to drain, then checking exactness");
    await bench(base);
    const logs = async () =>
      (
        await db
          .prepare("SELECT COUNT(*) AS n FROM event_log WHERE program_id = (SELECT id FROM projects WHERE key = 'bench') AND event_id NOT LIKE 'challenge:%'")
          .first()
      ).n;
    // Drained: at least every counted log is in, and nothing has arrived for 3 seconds.
    let last = -1;
    let stableSince = Date.now();
    await waitFor("drain", async () => {
      const n = await logs();
      if (n !== last) [last, stableSince] = [n, Date.now()];
      return n >= logsAppliedTotal && Date.now() - stableSince > 3000;
    });
    const hotUser = await call("GET", "/v1/admin/users/hot");
    // Points are in the events' details (event_log_details), which D1 keeps until the archive holds the event: no
    // scheduled run archives anything in this part, so every event of the log has them (checked below).
    const logged = await db
      .prepare(
        `SELECT COUNT(*) AS n, COALESCE(SUM(points), 0) AS points,
                SUM(event_id = 'daily_login' AND points > 0 AND substr(occurred_at, 1, 10) = substr(?, 1, 10)) AS loginsRewardedToday
         FROM event_log_details WHERE project_key = 'bench' AND account_id = (SELECT account_id FROM users WHERE project_key = 'bench' AND user_id = 'hot')`,
      )
      .bind(new Date().toISOString())
      .first();
    const exact = logged.points === hotUser.balance && logged.loginsRewardedToday <= 1;
    report(
      "exactness (hot user)",
      "balance = points in the log; login limit 1/day held",
      exact ? "yes" : `no (${JSON.stringify({ balance: hotUser.balance, ...logged })})`,
      "",
      { test: () => exact, text: "yes" },
    );
    // Every user's balance (its object) equals the points of its rows in D1: no log lost, none counted twice.
    const points = new Map(
      (
        await db
          .prepare(
            `SELECT u.user_id AS userId, SUM(d.points) AS points FROM event_log_details d JOIN users u ON u.project_key = d.project_key AND u.account_id = d.account_id
             WHERE d.project_key = 'bench' GROUP BY u.user_id`,
          )
          .all()
      ).results.map((r) => [r.userId, r.points]),
    );
    const mismatched = [];
    // The same events counted from the other side: each user's own ledger, as its object keeps it (the
    // total of GET /v1/loyalty-events?accountid=…, answered by the object, not by D1).
    const inObjects = { events: 0, users: 0 };
    await inParallel([...users, "hot"], 16, async (userId) => {
      const { balance, accountId } = await call("GET", `/v1/admin/users/${userId}`);
      if (balance !== (points.get(userId) ?? 0)) mismatched.push(`${userId}: ${balance} vs ${points.get(userId)}`);
      const res = await fetchAgain(`${base}/v1/loyalty-events?accountid=${accountId}&size=1`, {
        headers: { authorization: `Bearer ${token}`, accept: "application/json" },
      });
      await res.arrayBuffer();
      const entries = Number(res.headers.get("x-total-count"));
      inObjects.events += entries;
      if (entries > 0) inObjects.users += 1;
    });
    const total = await countLogged(db, "bench");
    const withDetails = (await db.prepare("SELECT COUNT(*) AS n FROM event_log_details WHERE project_key = 'bench'").first()).n;
    if (withDetails !== total) mismatched.push(`${total - withDetails} events of the log without their details`);
    const stats = await call("GET", "/v1/stats/event?period=all");
    const once = mismatched.length === 0 && stats.data.totalEvents === total;
    report(
      "exactness (all users)",
      "each balance = its points in the D1 log; stats count every row",
      once ? "yes" : `no (${mismatched.slice(0, 3).join("; ")}; stats ${stats.data.totalEvents} of ${total})`,
      "",
      { test: () => once, text: "yes" },
    );
    const fromObjects = inObjects.events === stats.data.totalEvents && inObjects.users === stats.data.uniqueUsers;
    report(
      "exactness (all users)",
      "stats (events, unique users) = a recount of the users' own ledgers in their objects",
      fromObjects ? "yes" : `no (objects ${JSON.stringify(inObjects)}; stats ${stats.data.totalEvents} events, ${stats.data.uniqueUsers} users)`,
      "",
      { test: () => fromObjects, text: "yes" },
    );

    log(`consumer: ${P.drain} events queued through the batch route (100 users)`);
    await bench(base);
    const drainStart = Date.now();
    const before = await countLogged(db, "bench");
    const calls = Array.from({ length: P.drain / 1000 }, (_, i) => i);
    await inParallel(calls, 4, (i) =>
      call("POST", "/v1/events/batch", {
        events: Array.from({ length: 1000 }, (_, k) => ({ eventId: "review", userId: batchUsers[(i + k) % 100], metadata: { stars: 2 } })),
      }),
    );
    await waitFor("consumer drain", async () => (await countLogged(db, "bench")) >= before + P.drain);
    const drainSeconds = (Date.now() - drainStart) / 1000;
    const drain = await bench(base);
    const drainCounters = drain.counters;
    const consumerBusy = drain.spans["consumer: batch"]?.count * drain.spans["consumer: batch"]?.avgMs;
    report(`consumer drains ${P.drain} events`, "end to end (batch route to D1)", P.drain / drainSeconds, "events/s");
    report(
      `consumer drains ${P.drain} events`,
      "consumer capacity (events / time in the consumer)",
      drainCounters.eventsIngested / (consumerBusy / 1000),
      "events/s",
      atLeast(5000, ">= 5,000/s"),
    );
    report(
      `consumer drains ${P.drain} events`,
      "D1 statements per event",
      drainCounters.d1StatementsConsumer / Math.max(1, drainCounters.eventsIngested),
      "",
      atMost(0.05, "<= 0.05"),
    );
    report(`consumer drains ${P.drain} events`, "queue messages per event", drainCounters.queueMessages / Math.max(1, drainCounters.eventsIngested), "");
    peakMemory = Math.max(peakMemory, workerdPeakMemoryMiB());
  } finally {
    await worker.mf.dispose();
  }
}

// Part 1b (issue 22): the write path against the floor, a bare Worker on the same platform, both running at once on
// persisted storage, in interleaved rounds (first touch, warm, hot); then the member import route.
if (runs("floor")) {
  const floor = await benchFloor({ root, secret, load, report, atLeast, atMost, round, log, rounds: 2, ...P.floor });
  peakMemory = Math.max(peakMemory, floor.peakMemory);
}

// Part 2: reads at scale, on prepared datasets persisted under .bench/datasets (made through the batch route
// and the real consumer; reused while the migrations are unchanged).
if (runs("reads")) {
  const migrationsHash = createHash("sha256")
    .update(
      readdirSync(`${root}migrations`)
        .filter((f) => f.endsWith(".sql"))
        .sort()
        .map((f) => readFileSync(`${root}migrations/${f}`, "utf8"))
        .join("\n"),
    )
    .digest("hex")
    .slice(0, 12);
  const persistPath = `${root}.bench/datasets/${migrationsHash}`;
  if (flags.fresh) rmSync(persistPath, { recursive: true, force: true });
  mkdirSync(persistPath, { recursive: true });
  const worker = await startWorker(root, { secret, persistPath });
  try {
    await migrate(root, worker.db);
    const { base, db, queue } = worker;
    baseline.p50 = (await timeReads(`${base}/health`, {})).p50;
    report("GET /health (baseline, one client)", "p50", baseline.p50, "ms");
    const vsHealth = (p50) => p50 / baseline.p50;
    for (const size of P.eventSizes) {
      const project = `events-${size}`;
      const token = await signDevToken({ sub: "bench", project, role: "admin", ttl: "2h" }, secret);
      const have = await countLogged(db, project);
      if (have < size) {
        log(`dataset ${project}: seeding ${size - have} events through the batch route`);
        await seedEventDataset({ base, token, db, project, size, have });
      } else log(`dataset ${project}: ${have} events (reused)`);
      const headers = { authorization: `Bearer ${token}` };
      const all = await timeReads(`${base}/v1/stats/event?period=all`, headers);
      const byEvent = await timeReads(`${base}/v1/stats/event?period=30d&eventId=purchase`, headers);
      report(
        `GET /v1/stats/event?period=all at ${size} events`,
        "p50 (one client)",
        all.p50,
        "ms",
        size === 1_000_000 ? atMost(20, "<= 20 ms") : undefined,
        vsHealth(all.p50),
      );
      report(
        `GET /v1/stats/event?period=30d&eventId=... at ${size} events`,
        "p50 (one client)",
        byEvent.p50,
        "ms",
        size === 1_000_000 ? atMost(20, "<= 20 ms") : undefined,
        vsHealth(byEvent.p50),
      );
      rows.push({ scenario: `_stats ${size}`, all: all.p50, byEvent: byEvent.p50 });
      if (size === P.eventSizes.at(-1)) {
        const whale = await db.prepare("SELECT account_id AS id FROM users WHERE project_key = ? AND user_id = 'whale'").bind(project).first();
        for (const [label, query] of [
          ["without accountid", ""],
          ["with accountid", `&accountid=${whale.id}`],
        ]) {
          // Numbered pages reach offset 10,000 (page 499 of 20); further on, the cursor in Link: rel="next".
          const first = await timeReads(`${base}/v1/loyalty-events?page=0&size=20${query}`, headers);
          const deepUrl = `${base}/v1/loyalty-events?page=499&size=20${query}`;
          const deep = await timeReads(deepUrl, headers);
          const next = /<([^>]+)>;\s*rel="next"/.exec((await fetchAgain(deepUrl, { headers })).headers.get("link") ?? "")?.[1];
          const cursor = next ? await timeReads(new URL(next, base).href, headers) : null;
          report(
            `GET /v1/loyalty-events at ${size} events, ${label}`,
            "p50 page 0 / page 499 / cursor past it",
            `${round(first.p50)} / ${round(deep.p50)} / ${cursor ? round(cursor.p50) : "-"}`,
            "ms",
          );
          report(`GET /v1/loyalty-events at ${size} events, ${label}`, "p50(page 499) / p50(page 0)", deep.p50 / first.p50, "x", atMost(3, "<= 3"));
          if (cursor)
            report(`GET /v1/loyalty-events at ${size} events, ${label}`, "p50(cursor page) / p50(page 0)", cursor.p50 / first.p50, "x", atMost(3, "<= 3"));
        }
      }
    }
    const stats = rows.filter((r) => r.scenario.startsWith("_stats "));
    if (stats.length > 1) {
      report("stats: p50 at the largest / p50 at 10k events", "period=all", stats.at(-1).all / stats[0].all, "x", atMost(1.5, "<= 1.5"));
      report("stats: p50 at the largest / p50 at 10k events", "period=30d&eventId", stats.at(-1).byEvent / stats[0].byEvent, "x", atMost(1.5, "<= 1.5"));
    }

    {
      // The batch route over many distinct users: each item is its own user object call and queue send.
      const project = `distinct-${P.registered}`;
      const token = await signDevToken({ sub: "bench", project, role: "admin", ttl: "2h" }, secret);
      const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
      const call = client(base, token);
      const many = userIds("m", P.registered);
      const registered = (await db.prepare("SELECT COUNT(*) AS n FROM users WHERE project_key = ?").bind(project).first()).n;
      if (registered < many.length) {
        log(`dataset ${project}: registering ${many.length - registered} users`);
        await setupProject(call, []);
        await inParallel(many.slice(registered), 32, (userId) => call("PUT", `/v1/admin/users/${userId}`, { usergroups: [] }));
      } else log(`dataset ${project}: ${registered} users (reused)`);
      const distinctBodies = Array.from({ length: quick ? 4 : 10 }, (_, b) =>
        JSON.stringify({
          events: Array.from({ length: 1000 }, (_, i) => ({ eventId: "review", userId: many[(b * 1000 + i * 7) % many.length], metadata: { stars: 3 } })),
        }),
      );
      log(`POST /v1/events/batch, 1,000 events per call over 1,000 distinct users (${P.registered} registered)`);
      // Each call takes seconds: timed call by call (2 in flight) rather than over a fixed window.
      const distinctStart = performance.now();
      const callTimes = [];
      await inParallel(distinctBodies, 2, async (body) => {
        const t = performance.now();
        const res = await fetchAgain(`${base}/v1/events/batch`, { method: "POST", headers, body });
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`distinct batch: ${res.status}`);
        callTimes.push(performance.now() - t);
      });
      const distinctSeconds = (performance.now() - distinctStart) / 1000;
      callTimes.sort((a, b) => a - b);
      report(
        `POST /v1/events/batch, 1,000 distinct users of ${P.registered}`,
        "events accepted",
        (distinctBodies.length * 1000) / distinctSeconds,
        "events/s",
        atLeast(2000, ">= 2,000/s"),
      );
      report(`POST /v1/events/batch, 1,000 distinct users of ${P.registered}`, "p50 per call", callTimes[Math.floor(callTimes.length / 2)], "ms");
    }

    const boardProject = `board-${P.participants}`;
    const boardToken = await signDevToken({ sub: "bench", project: boardProject, role: "admin", ttl: "2h" }, secret);
    await seedParticipants({
      base,
      token: boardToken,
      db,
      queue,
      project: boardProject,
      participants: P.participants,
      streakParticipants: P.streakParticipants,
      log,
    });
    const boardHeaders = { authorization: `Bearer ${boardToken}` };
    const streak = await timeReads(`${base}/v1/analytics/streak?streakId=login_streak`, boardHeaders);
    report(
      `GET /v1/analytics/streak at ${P.streakParticipants} participants`,
      "p50 (one client)",
      streak.p50,
      "ms",
      atMost(20, "<= 20 ms"),
      vsHealth(streak.p50),
    );
    const top = await timeReads(`${base}/v1/leaderboards/weekly_points?limit=10`, boardHeaders);
    report(`leaderboard top 10 at ${P.participants} participants`, "p50 (one client)", top.p50, "ms", atMost(20, "<= 20 ms"), vsHealth(top.p50));
    const middle = `p${Math.floor(P.participants / 2)}`;
    const rank = await timeReads(`${base}/v1/leaderboards/weekly_points/users/${middle}`, boardHeaders);
    report(`one user's rank at ${P.participants} participants`, "p50 (one client)", rank.p50, "ms", atMost(50, "<= 50 ms"), vsHealth(rank.p50));
    peakMemory = Math.max(peakMemory, workerdPeakMemoryMiB());
  } finally {
    await worker.mf.dispose();
  }
}

// Part 3: reconciliation (POST /v1/admin/reconciliation) over 1,000 users, on a fresh in-memory Worker.
if (runs("reconcile")) {
  const worker = await startWorker(root, { secret });
  try {
    await migrate(root, worker.db);
    const { base, db } = worker;
    const health = (await timeReads(`${base}/health`, {})).p50;
    const scenario = "GET /health (baseline, one client, reconciliation's Worker)";
    report(scenario, "p50", health, "ms");
    const token = await signDevToken({ sub: "bench", project: "reconcile", role: "admin", ttl: "2h" }, secret);
    const { total, clean, gaps } = await benchReconciliation({ base, db, token, trace: () => bench(base), log });
    const median = (runs, pick) => runs.map(pick).sort((a, b) => a - b)[Math.floor(runs.length / 2)];
    const label = `reconciliation of ${RECONCILE_USERS} users (${total} events in D1)`;
    for (const [name, list] of [
      ["nothing missing", clean],
      [`${RECONCILE_GAP} events missing`, gaps],
    ]) {
      const time = median(list, (r) => r.ms);
      report(`${label}, ${name}`, "time per 1,000 users (median of 3 calls)", time, "ms", undefined, time / health);
      report(
        `${label}, ${name}`,
        "messages acknowledged / missing / re-sent",
        `${list[0].report.eventsAcknowledged} / ${list[0].report.missing} / ${list[0].report.resent}`,
        "",
      );
      report(`${label}, ${name}`, "user-object calls per 1,000 users", list[0].report.cost.objectCalls, "");
      report(`${label}, ${name}`, "user-object SQLite statements per 1,000 users", list[0].counters.doStatements, "");
      report(`${label}, ${name}`, "D1 statements per 1,000 users", list[0].counters.d1StatementsRequest, "");
      report(`${label}, ${name}`, "D1 rows read per 1,000 users", list[0].report.cost.d1RowsRead, "");
      report(`${label}, ${name}`, "queue messages per 1,000 users", list[0].counters.queueMessages, "");
    }
    const exact = gaps.every((g) => g.exact);
    report(`${label}, ${RECONCILE_GAP} events missing`, "every missing event found, re-sent and back exactly once", exact ? "yes" : "no", "", {
      test: () => exact,
      text: "yes",
    });
    log(`  (${RECONCILE_EVENTS_PER_USER} events per user logged through the batch route before the calls)`);
    peakMemory = Math.max(peakMemory, workerdPeakMemoryMiB());
  } finally {
    await worker.mf.dispose();
  }
}

// Part 4: the R2 archive of the raw log, on a fresh in-memory Worker: events over 90 days through the batch route
// and the real consumer, then the cron's scheduled work until every one is archived.
if (runs("archive")) {
  const worker = await startWorker(root, { secret });
  try {
    await migrate(root, worker.db);
    const { base, db } = worker;
    const size = P.eventSizes[0];
    const project = "archive";
    const token = await signDevToken({ sub: "bench", project, role: "admin", ttl: "2h" }, secret);
    log(`archive: seeding ${size} events (3,000 users over 90 days) through the batch route`);
    await seedEventDataset({ base, token, db, project, size, have: 0 });
    const a = await benchArchive({ mf: worker.mf, db, base, token, project, root, log });
    const scenario = `archive: ${a.events} events over 90 days in R2 (gzip NDJSON, ${a.files} files over ${a.days} days)`;
    report(scenario, "bytes per event in R2", a.bytesPerEvent, "B");
    report(scenario, "events archived per second (scheduled runs)", a.events / a.seconds, "events/s");
    const once = a.exactlyOnce && a.manifestsMatch;
    report(scenario, "exactly one copy of each event; manifests count them all", once ? "yes" : "no", "", { test: () => once, text: "yes" });
    report(
      scenario,
      `stats of ${a.month} recounted from the archive = GET /v1/stats/event`,
      a.statsMatch ? "yes" : `no (${JSON.stringify({ archive: a.recount, stats: a.served })})`,
      "",
      {
        test: () => a.statsMatch,
        text: "yes",
      },
    );
    peakMemory = Math.max(peakMemory, workerdPeakMemoryMiB());
  } finally {
    await worker.mf.dispose();
  }
}

// Part 5: one account's ledger from its user's object (10,000 events of one user), on a fresh in-memory Worker.
if (runs("ledger")) {
  const worker = await startWorker(root, { secret });
  try {
    await migrate(root, worker.db);
    const { base, db } = worker;
    const health = (await timeReads(`${base}/health`, {})).p50;
    report("GET /health (baseline, one client, the ledger's Worker)", "p50", health, "ms");
    const token = await signDevToken({ sub: "bench", project: "ledger", role: "admin", ttl: "2h" }, secret);
    const call = client(base, token);
    await setupProject(call, ["solo"]);
    const EVENTS = 10_000;
    log(`ledger: ${EVENTS} events of one user through the batch route`);
    const now = Date.now();
    for (let b = 0; b < EVENTS / 1000; b++) {
      await call("POST", "/v1/events/batch", {
        events: Array.from({ length: 1000 }, (_, k) => {
          const entry = MIX[k % MIX.length];
          const timestamp = new Date(now - 60_000 - Math.floor(Math.random() * 89 * 86_400_000)).toISOString();
          return { eventId: entry.eventId, userId: "solo", metadata: entry.metadata, timestamp };
        }),
      });
    }
    const { id: account } = await db.prepare("SELECT account_id AS id FROM users WHERE project_key = 'ledger' AND user_id = 'solo'").first();
    const headers = { authorization: `Bearer ${token}` };
    const label = `GET /v1/loyalty-events?accountid=… at ${EVENTS} events of one account (its object)`;
    const first = await timeReads(`${base}/v1/loyalty-events?accountid=${account}&page=0&size=20`, headers);
    // The deepest numbered page (offset 9,980), and the page after it by its cursor.
    const deepUrl = `${base}/v1/loyalty-events?accountid=${account}&page=499&size=20`;
    const deep = await timeReads(deepUrl, headers);
    const next = /<([^>]+)>;\s*rel="next"/.exec((await fetchAgain(deepUrl, { headers })).headers.get("link") ?? "")?.[1];
    const cursor = await timeReads(new URL(next, base).href, headers);
    report(label, "p50 page 0", first.p50, "ms", atMost(20, "<= 20 ms"), first.p50 / health);
    report(label, "p50 page 499 (offset 9,980)", deep.p50, "ms", atMost(20, "<= 20 ms"), deep.p50 / health);
    report(label, "p50 cursor page past it", cursor.p50, "ms", atMost(20, "<= 20 ms"), cursor.p50 / health);
    report(label, "p50(page 499) / p50(page 0)", deep.p50 / first.p50, "x", atMost(3, "<= 3"));
    report(label, "p50(cursor page) / p50(page 0)", cursor.p50 / first.p50, "x", atMost(3, "<= 3"));
    peakMemory = Math.max(peakMemory, workerdPeakMemoryMiB());
  } finally {
    await worker.mf.dispose();
  }
}

// Part 6: D1's size per logged event (README "The raw log's rows and indexes"): the same number of events over two
// numbers of members, through the queue and the real consumer, each on its own fresh in-memory Worker; the two run
// side by side (sizes do not depend on timing; it halves the part's time).
if (runs("storage")) {
  const { events, members } = P.storage;
  const workers = [];
  let sets = [];
  try {
    for (const users of members) {
      const worker = await startWorker(root, { secret });
      workers.push(worker);
      await migrate(root, worker.db);
      const health = (await timeReads(`${worker.base}/health`, {})).p50;
      report(`GET /health (baseline, one client, the storage Worker of ${users} members)`, "p50", health, "ms");
    }
    log(`storage: ${events} events over ${members.join(" and ")} members, 90 days, side by side`);
    sets = await Promise.all(
      members.map(async (users, i) => {
        const project = `storage-${users}`;
        const token = await signDevToken({ sub: "bench", project, role: "admin", ttl: "2h" }, secret);
        return benchStorage({ worker: workers[i], call: client(workers[i].base, token), project, users, events, log: (...a) => log(`[${users}]`, ...a) });
      }),
    );
    peakMemory = Math.max(peakMemory, workerdPeakMemoryMiB());
  } finally {
    for (const worker of workers) await worker.mf.dispose();
  }
  const n = (v) => v.toLocaleString("en-US");
  for (const s of sets) {
    const scenario = `D1 storage: ${n(s.events)} events over ${n(s.users)} members, 90 days`;
    const big = s.events === 1_000_000 && s.users === 100_000;
    report(scenario, "D1 bytes per logged event (D1's size / events, default window)", s.inWindow / s.events, "B", big ? atMost(250, "<= 250") : undefined);
    report(scenario, "of which the events' (D1's size less the registered members')", (s.inWindow - s.registered) / s.events, "B");
    report(scenario, "registered members, bytes each", (s.registered - s.empty) / s.users, "B");
    report(
      scenario,
      "D1 bytes per event older than the window (what they leave: D1's size less the members', all rows removed)",
      (s.older - s.registered) / s.events,
      "B",
      atMost(10, "<= 10"),
    );
    report(scenario, "stats count every event, before and after the window removed them", s.statsExact ? "yes" : "no", "", {
      test: () => s.statsExact,
      text: "yes",
    });
  }
  if (sets.length === 2) {
    report(
      `D1 storage: ${n(events)} events, ${n(sets[0].users)} vs ${n(sets[1].users)} members`,
      "D1's size, more members / fewer",
      sets[0].inWindow / sets[1].inWindow,
      "x",
      atMost(1.2, "<= 1.2"),
    );
  }
}

// Part 7: webhooks (issue 19's targets), on a fresh in-memory Worker with a receiver in this process on 127.0.0.1:
// the write path with and without a subscribed endpoint, then the fan-out of many logged events to 3 endpoints.
if (runs("webhooks")) {
  const worker = await startWorker(root, { secret, countHandover: true });
  const receiver = await startReceiver();
  try {
    await migrate(root, worker.db);
    const { base, db } = worker;
    log("webhooks baseline: GET /health");
    const health = await loadAsync(base, { path: "/health" });
    report("GET /health (baseline, 50 connections, the webhooks Worker)", "throughput", health.requestsPerSecond, "req/s");
    const users = userIds("w", P.users);
    const writes = await benchWebhookWrites({ base, db, secret, users, rounds: 2, receiver, loadAsync, log });
    const label = (side) => `webhooks: POST /v1/event, ${users.length} warm users, ${side} webhooks`;
    for (const [i, l] of writes.loads.entries()) {
      const r = l.result;
      report(
        `${label(l.side)} (load ${i + 1})`,
        "throughput / p99 / errors",
        `${round(r.requestsPerSecond)} req/s / ${round(r.latency.p99)} ms / ${r.non2xx + r.errors + r.timeouts}`,
        "",
        undefined,
        r.requestsPerSecond / health.requestsPerSecond,
      );
      if (!l.drained) report(`${label(l.side)} (load ${i + 1})`, "drained within 10 minutes", "no", "", { test: () => false, text: "yes" });
    }
    // Rounds in ABBA order: round 1 is loads 1 (without) and 2 (with), round 2 loads 3 (with) and 4 (without).
    const ratios = [];
    for (let i = 0; i < writes.loads.length; i += 2) {
      const pair = writes.loads.slice(i, i + 2);
      const withRps = pair.find((l) => l.side === "with").result.requestsPerSecond;
      const withoutRps = pair.find((l) => l.side === "without").result.requestsPerSecond;
      ratios.push(withRps / withoutRps);
      report("webhooks: write path throughput, with / without", `round ${i / 2 + 1}`, withRps / withoutRps, "x");
    }
    const meanRatio = ratios.reduce((a, b) => a + b, 0) / ratios.length;
    report("webhooks: write path throughput, with / without", `mean of ${ratios.length} rounds`, meanRatio, "x", atLeast(0.95, ">= 0.95"));
    const sum = (side, pick) => writes.loads.filter((l) => l.side === side).reduce((total, l) => total + pick(l), 0);
    for (const side of ["without", "with"]) {
      const logs = Math.max(
        1,
        sum(side, (l) => l.trace.counters.logsApplied),
      );
      const scenario = `webhooks: cost per logged event, ${side} webhooks`;
      report(
        scenario,
        "events-queue messages / sends (BENCH_TRACE)",
        `${round(sum(side, (l) => l.trace.counters.queueMessages) / logs)} / ${round(sum(side, (l) => l.trace.counters.queueSends) / logs)}`,
        "",
      );
      report(scenario, "webhooks-queue messages from the stats consumer (counted by the harness)", sum(side, (l) => l.handover.webhookMessages) / logs, "");
      report(
        scenario,
        "D1 statements in the stats consumer per event ingested",
        sum(side, (l) => l.trace.counters.d1StatementsConsumer) /
          Math.max(
            1,
            sum(side, (l) => l.trace.counters.eventsIngested),
          ),
        "",
      );
    }
    const batches = sum("with", (l) => l.handover.statsBatches);
    const perBatch = sum("with", (l) => l.handover.webhookMessages) / Math.max(1, batches);
    const maxInBatch = Math.max(...writes.loads.filter((l) => l.side === "with").map((l) => l.handover.maxInBatch));
    const withLabel = "webhooks: stats consumer batches, with webhooks";
    report(
      withLabel,
      `webhooks-queue messages per batch (${batches} batches, ${round(sum("with", (l) => l.handover.statsMessages) / Math.max(1, batches))} queue messages each)`,
      perBatch,
      "",
      atMost(1, "<= 1"),
    );
    report(withLabel, `most in one batch (the ${sum("with", (l) => l.handover.aloneBatches)} batches that ran alone)`, maxInBatch, "");
    const withLoads = writes.loads.filter((l) => l.side === "with");
    const received = withLoads.reduce((t, l) => t + l.deliveries.ids, 0);
    const duplicates = withLoads.reduce((t, l) => t + l.deliveries.duplicates, 0);
    report(
      withLabel,
      "deliveries per logged event (event.logged + points.awarded)",
      received /
        Math.max(
          1,
          sum("with", (l) => l.trace.counters.logsApplied),
        ),
      "",
    );
    report(
      withLabel,
      "deliveries received during the loads / after them",
      `${withLoads.reduce((t, l) => t + l.receivedDuringLoad, 0)} / ${received - withLoads.reduce((t, l) => t + l.receivedDuringLoad, 0)}`,
      "",
    );
    report(withLabel, "time after each load until every delivery arrived", withLoads.map((l) => round(l.drainSeconds)).join(" / "), "s");
    report(withLabel, "duplicates before dedupe", (100 * duplicates) / Math.max(1, received), "%");
    report(withLabel, "every log delivered as event.logged", writes.everyLog ? "yes" : "no", "", { test: () => writes.everyLog, text: "yes" });

    const fan = await benchFanout({ base, db, secret, events: P.fanout, userCount: 300, receiver, timeoutMs: (quick ? 10 : 40) * 60_000, log });
    const fanLabel = `webhooks: fan-out of ${fan.events} logged events to 3 endpoints`;
    const once = fan.complete && fan.logged === fan.events && fan.per.every((e) => e.distinct === fan.events) && fan.sameIds && fan.wellFormed;
    report(fanLabel, "distinct webhook-ids per endpoint", fan.per.map((e) => e.distinct).join(" / "), "");
    report(
      fanLabel,
      "every event exactly once per endpoint after dedupe",
      once ? "yes" : `no (${JSON.stringify({ logged: fan.logged, sameIds: fan.sameIds, wellFormed: fan.wellFormed })})`,
      "",
      { test: () => once, text: "yes" },
    );
    const requests = fan.per.reduce((t, e) => t + e.requests, 0);
    const distinct = fan.per.reduce((t, e) => t + e.distinct, 0);
    report(fanLabel, "duplicates before dedupe", (100 * (requests - distinct)) / Math.max(1, distinct), "%", atMost(1, "<= 1 %"));
    report(fanLabel, "deliveries per second, end to end (first batch call to last delivery)", distinct / Math.max(0.001, fan.deliveredSeconds), "deliveries/s");
    report(
      fanLabel,
      "batch route done / all in D1 / all delivered, after",
      `${round(fan.acceptedSeconds)} / ${fan.inD1Seconds === null ? "-" : round(fan.inD1Seconds)} / ${round(fan.deliveredSeconds)}`,
      "s",
    );
    report(
      fanLabel,
      "deliveries in D1: rows / pending / failed / attempts per row",
      `${fan.d1.n} / ${fan.d1.pending} / ${fan.d1.failed} / ${round(fan.d1.attempts / Math.max(1, fan.d1.n))}`,
      "",
    );
    const verified = fan.per.reduce((t, e) => t + e.verified, 0) + writes.signatures.verified;
    const unverified = fan.per.reduce((t, e) => t + e.unverified, 0) + writes.signatures.unverified;
    report(
      "webhooks: signatures (standardwebhooks Webhook.verify, a sample)",
      "verified / failed",
      `${verified} / ${unverified}${unverified ? ` (${fan.per.find((e) => e.firstError)?.firstError ?? writes.signatures.firstError})` : ""}`,
      "",
      { test: () => unverified === 0 && verified > 0, text: "all verify" },
    );
    peakMemory = Math.max(peakMemory, workerdPeakMemoryMiB());
  } finally {
    await receiver.close();
    await worker.mf.dispose();
  }
}

report("workerd", "peak resident memory", peakMemory, "MiB");
const finalRows = rows.filter((r) => !r.scenario.startsWith("_"));
const results = {
  date: new Date().toISOString(),
  mode: quick ? "quick" : "full",
  machine: { cpus: cpus().length, cpu: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
  durationSeconds: Math.round((Date.now() - started) / 1000),
  rows: finalRows,
};
mkdirSync(`${root}bench`, { recursive: true });
writeFileSync(`${root}bench/results.json`, `${JSON.stringify(results, null, 2)}\n`);
console.log("\n| Scenario | Metric | Value | vs /health | Target | Met |\n| --- | --- | --- | --- | --- | --- |");
for (const r of finalRows) {
  const value = `${typeof r.value === "number" ? round(r.value) : r.value} ${r.unit}`.trim();
  console.log(
    `| ${r.scenario} | ${r.metric} | ${value} | ${r.vsHealth === null ? "" : `${round(r.vsHealth)}x`} | ${r.target} | ${r.met === null ? "" : r.met ? "yes" : "**no**"} |`,
  );
}
console.log(`\n${results.mode} run in ${results.durationSeconds} s; bench/results.json written.`);
process.exit(0);
