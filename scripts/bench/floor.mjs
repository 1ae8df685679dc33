// The floor part (issue 22): the project's write path beside a bare Worker on the same platform
// (../shared/bench/floor-worker.js: one RPC to a SQLite-backed Durable Object per user, one insert and one counter
// update in a transaction, one queue send; no authentication, validation or rules), both running at once, each in
// its own Miniflare instance on 127.0.0.1 with its storage persisted under .bench/, scenarios interleaved in ABBA
// rounds. Also the member import route (POST /v1/admin/users/batch).
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { signDevToken } from "../token.mjs";
import { migrate, startWorker, workerdPeakMemoryMiB } from "./server.mjs";
import { client, DEFINITIONS, fetchAgain, inParallel, MIX, setupProject, userIds } from "./workload.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The project's log for every floor scenario: the workload's purchase that earns points (the mix's first entry). */
const PURCHASE = MIX.find((e) => e.eventId === "purchase" && e.metadata.amount > 0);

/**
 * Both entry modules count their user objects' constructor runs (a subclass of the object class, module state
 * shared by the isolate's objects and its fetch handler) and answer the count at one path; every other request
 * goes to the unchanged Worker. This is how the part checks that first touch really starts each object.
 * `countingEntry` makes one around `module`, whose object class is `className`, forwarding `handlers` too.
 */
const countingEntry = (module, className, handlers) => `import worker, { ${className} as Counted } from "./${module}";
export * from "./${module}";
let starts = 0;
const started = new Set();
export class ${className} extends Counted {
  constructor(ctx, env) {
    super(ctx, env);
    starts += 1;
    started.add(ctx.id.toString());
  }
}
export default {
  fetch(request, env, ctx) {
    if (request.url.endsWith("/__bench/starts")) return Response.json({ starts, objects: started.size });
    return worker.fetch(request, env, ctx);
  },
${handlers.map((name) => `  ${name}: (event, env, ctx) => worker.${name}(event, env, ctx),`).join("\n")}
};
`;
export const PROJECT_ENTRY = countingEntry("index.js", "UserState", ["queue", "scheduled"]);
const FLOOR_ENTRY = countingEntry("floor-worker.js", "U", ["queue"]);

/** The bare Worker in workerd through Miniflare on 127.0.0.1, its objects persisted under `persistPath`. */
async function startFloor(root, persistPath) {
  // The shared file is the reference; the copy beside this script lets a clone without it run the bench.
  const shared = `${root}../shared/bench/floor-worker.js`;
  const source = existsSync(shared) ? shared : `${root}scripts/bench/floor-worker.js`;
  const dir = `${root}.bench/floor-build`;
  const options = convertV4MiniflareOptions({
    host: "127.0.0.1",
    port: 0,
    workers: [
      {
        name: "floor",
        // Given as contents, read now (as the project's Worker is).
        modules: [
          { type: "ESModule", path: `${dir}/floor-entry.mjs`, contents: FLOOR_ENTRY },
          { type: "ESModule", path: `${dir}/floor-worker.js`, contents: readFileSync(source, "utf8") },
        ],
        compatibilityDate: "2026-11-01",
        durableObjects: { U: { className: "U", useSQLite: true } },
        queueProducers: { Q: { queueName: "floor-log" } },
        queueConsumers: { "floor-log": { maxBatchSize: 100, maxBatchTimeout: 1 } },
      },
    ],
  });
  options.resourcePersistencePath = persistPath;
  const mf = new Miniflare(options);
  const base = (await mf.ready).toString().replace(/\/$/, "");
  return { mf, base };
}

/** Constructor runs of the user objects since the runtime started, and the distinct objects they were for. */
const starts = async (base) => (await fetchAgain(`${base}/__bench/starts`)).json();

/**
 * Requests over the time taken: for first touch (autocannon's `amount`) from the start to the last response
 * (load.mjs's elapsedSeconds: autocannon's own duration waits for its next one-second tick), else autocannon's
 * total over its duration.
 */
const rate = (r) => r.requests / Math.max(0.001, r.amount ? r.elapsedSeconds : r.durationSeconds);
const errors = (r) => r.non2xx + r.errors + r.timeouts;
const mean = (list) => list.reduce((a, b) => a + b, 0) / list.length;

/**
 * Runs the part. `load(base, config)` runs one autocannon scenario (bench.mjs); `report` and the targets are
 * bench.mjs's. Sizes: `firstTouch` users per round, `seconds` per duration-based scenario, `rounds`.
 */
export async function benchFloor({ root, secret, load, report, atLeast, atMost, round, log, firstTouch, seconds, rounds = 2, importCalls }) {
  const dir = `${root}.bench/floor-${process.pid}-${Date.now()}`;
  const paths = { project: `${dir}/project`, floor: `${dir}/floor` };
  for (const p of Object.values(paths)) mkdirSync(p, { recursive: true });
  const token = await signDevToken({ sub: "bench", project: "floor", role: "admin", ttl: "2h" }, secret);
  const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  const systems = {
    project: { path: "/v1/event", headers, template: { eventId: PURCHASE.eventId, metadata: PURCHASE.metadata } },
    floor: { path: "/log", headers: { "content-type": "application/json" }, template: {} },
  };
  const start = async () => {
    // As deployed: no BENCH_TRACE counters or timers on the project's side (the floor has none either).
    const project = await startWorker(root, { secret, persistPath: paths.project, entry: PROJECT_ENTRY, trace: false });
    const floor = await startFloor(root, paths.floor);
    systems.project.runtime = project;
    systems.floor.runtime = floor;
    await migrate(root, project.db);
  };
  const stop = async () => {
    result.peakMemory = Math.max(result.peakMemory, workerdPeakMemoryMiB());
    for (const s of Object.values(systems)) {
      await s.runtime?.mf.dispose();
      s.runtime = null;
    }
  };
  const logged = async () => (await systems.project.runtime.db.prepare("SELECT COUNT(*) AS n FROM event_log").first()).n;
  /**
   * Waits until the project's consumer has written its queued logs to D1: the log's row count unchanged for 3 s
   * (the consumer's batch window is 1 s), at most 120 s: no load runs beside the other system's queued work, nor
   * does a restart drop it. The floor's consumer only acknowledges. (The project runs without BENCH_TRACE here,
   * so there is no count of applied logs to wait for.)
   */
  const settle = async () => {
    const started = Date.now();
    let last = -1;
    let stableSince = Date.now();
    while (Date.now() - started < 120_000) {
      const n = await logged();
      if (n !== last) [last, stableSince] = [n, Date.now()];
      else if (Date.now() - stableSince >= 3000) return;
      await sleep(250);
    }
    log("floor: the project's consumer still busy after 120 s; going on");
  };
  /**
   * After the first-touch and the warm pairs: each log arms its object's outbox alarm 30 s ahead, and workerd
   * evicts an idle object after 10 s, so those alarms start the objects again about 30 s after the project's
   * load. Waits them out (until 31 s after that load ended, then until no object has started for 2 s, at most 60 s
   * more) so that they land in no other load; counted as the load's starts "after it".
   */
  const quiet = async (projectLoadEnded) => {
    await sleep(Math.max(0, projectLoadEnded + 31_000 - Date.now()));
    const until = Date.now() + 60_000;
    let last = -1;
    let stableSince = Date.now();
    while (Date.now() < until) {
      const { starts: n } = await starts(systems.project.runtime.base);
      if (n !== last) [last, stableSince] = [n, Date.now()];
      else if (Date.now() - stableSince >= 2000) break;
      await sleep(250);
    }
    await settle();
  };
  /** One log per user outside the measurements (creates the floor's objects; warms objects up). */
  const logEach = async (system, users, concurrency = 32) => {
    const s = systems[system];
    await inParallel(users, concurrency, async (userId) => {
      const res = await fetchAgain(`${s.runtime.base}${s.path}`, { method: "POST", headers: s.headers, body: JSON.stringify({ ...s.template, userId }) });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`${system} ${s.path} for ${userId}: ${res.status}`);
    });
  };
  const firstTouchUsers = Array.from({ length: rounds }, (_, r) => userIds(`f${r + 1}x`, firstTouch));
  const warmUsers = userIds("w", 100);
  const warmUpUsers = userIds("z", 20);
  const result = { rounds: [], peakMemory: 0 };
  try {
    await start();
    const everyone = [...firstTouchUsers.flat(), ...warmUsers, ...warmUpUsers, "hot"];
    log(`floor: registering ${everyone.length} users in the project (PUT /v1/admin/users/{id}) and logging each once on the floor`);
    const call = client(systems.project.runtime.base, token);
    await setupProject(call, []);
    if (!DEFINITIONS[PURCHASE.eventId]) throw new Error("the workload has no purchase definition");
    await inParallel(everyone, 32, (userId) => call("PUT", `/v1/admin/users/${userId}`, { usergroups: [] }));
    await logEach("floor", everyone);

    for (let r = 1; r <= rounds; r++) {
      // Restart both runtimes on their persisted storage: no user object is in memory afterwards (the runtime
      // would evict idle objects only after a while), so this round's first-touch users each start their object.
      await settle();
      log(`floor round ${r}: restarting both runtimes on their persisted storage`);
      await stop();
      await start();
      const order = r % 2 === 1 ? ["floor", "project"] : ["project", "floor"];
      // Warm each isolate (its code, the project's definitions) with logs of users outside the scenarios.
      for (const system of order) {
        for (let i = 0; i < 20; i++) await (await fetchAgain(`${systems[system].runtime.base}/health`)).arrayBuffer();
        await logEach(system, warmUpUsers, 10);
      }
      await settle();
      const rd = { order, health: {}, scenarios: {} };
      for (const system of order) rd.health[system] = load(systems[system].runtime.base, { path: "/health", durationSeconds: seconds });
      // Warm and hot: their users' objects are started by one log each just before the system's own load (workerd
      // evicts an object after 10 s without requests, so not earlier).
      const scenarios = [
        ["first touch", { generator: { kind: "each", users: firstTouchUsers[r - 1] }, amount: firstTouchUsers[r - 1].length, durationSeconds: 120 }, []],
        ["warm", { generator: { kind: "random", users: warmUsers }, durationSeconds: seconds }, warmUsers],
        ["hot", { generator: { kind: "random", users: ["hot"] }, durationSeconds: seconds }, ["hot"]],
      ];
      for (const [name, config, warmUp] of scenarios) {
        rd.scenarios[name] = {};
        for (const system of order) {
          const s = systems[system];
          await logEach(system, warmUp, 10);
          const before = await starts(s.runtime.base);
          log(`floor round ${r}: ${name}, ${system}`);
          const out = load(s.runtime.base, {
            method: "POST",
            path: s.path,
            headers: s.headers,
            ...config,
            generator: { ...config.generator, template: s.template },
          });
          const after = await starts(s.runtime.base);
          out.objectStarts = { starts: after.starts - before.starts, objects: after.objects - before.objects };
          rd.scenarios[name][system] = out;
          out.amount = config.amount;
          out.endedAt = Date.now();
          await settle();
          out.objectStartsAfter = (await starts(s.runtime.base)).starts - after.starts;
        }
        if (name !== "hot") {
          const p = rd.scenarios[name].project;
          const before = (await starts(systems.project.runtime.base)).starts;
          await quiet(p.endedAt);
          p.objectStartsAfter += (await starts(systems.project.runtime.base)).starts - before;
        }
      }
      result.rounds.push(rd);
      reportRound(r, rd);
    }
    reportSummary();

    if (importCalls > 0) await benchImport(systems.project.runtime.base);
  } finally {
    await stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return result;

  function reportRound(r, rd) {
    const h = rd.health;
    const healthLabel = `floor, round ${r} (${rd.order.join(" then ")}): GET /health, each system's own`;
    report(healthLabel, "project throughput", rate(h.project), "req/s");
    report(healthLabel, "floor throughput", rate(h.floor), "req/s");
    report(healthLabel, "project / floor", rate(h.project) / rate(h.floor), "x");
    for (const [name, pair] of Object.entries(rd.scenarios)) {
      const { project: p, floor: f } = pair;
      const label = `floor, round ${r}: POST /v1/event vs floor, ${scenarioText(name)}`;
      report(label, "project throughput", rate(p), "req/s", undefined, rate(p) / rate(h.project));
      report(label, "floor throughput", rate(f), "req/s", undefined, rate(f) / rate(h.floor));
      report(label, "throughput, project / floor", rate(p) / rate(f), "x", atLeast(0.9, ">= 0.9x the floor's"));
      report(label, "throughput / own /health, project / floor", rate(p) / rate(h.project) / (rate(f) / rate(h.floor)), "x");
      report(label, "p99, project vs floor", `${round(p.latency.p99)} vs ${round(f.latency.p99)}`, "ms");
      report(label, "p99, project / floor", p.latency.p99 / Math.max(1, f.latency.p99), "x", atMost(1.25, "<= 1.25x the floor's"));
      report(label, "errors, project / floor", `${errors(p)} / ${errors(f)}`, "", { test: () => errors(p) + errors(f) === 0, text: "0 / 0" });
      report(
        label,
        "user objects started during the load (constructor runs, distinct objects; runs after it, until the project's queue drained and its alarms ran), project / floor",
        `${p.objectStarts.starts}, ${p.objectStarts.objects}; ${p.objectStartsAfter} / ${f.objectStarts.starts}, ${f.objectStarts.objects}; ${f.objectStartsAfter}`,
        "",
      );
      if (name === "first touch") {
        const n = firstTouch;
        const once = p.requests === n && f.requests === n && p.bodiesBuilt === n && f.bodiesBuilt === n;
        report(
          label,
          `each of the ${n} users reached exactly once, both`,
          once ? "yes" : `no (${JSON.stringify({ project: p.requests, floor: f.requests })})`,
          "",
          {
            test: () => once,
            text: "yes",
          },
        );
      }
    }
  }

  function reportSummary() {
    for (const name of ["first touch", "warm", "hot"]) {
      const label = `floor, ${result.rounds.length} rounds: POST /v1/event vs floor, ${scenarioText(name)}`;
      const pick = (f) => result.rounds.map((rd) => f(rd.scenarios[name].project, rd.scenarios[name].floor));
      const throughput = pick((p, f) => rate(p) / rate(f));
      const p99 = pick((p, f) => p.latency.p99 / Math.max(1, f.latency.p99));
      report(label, "throughput, project / floor, each round", throughput.map(round).join(", "), "x");
      report(label, "throughput, project / floor, mean", mean(throughput), "x", atLeast(0.9, ">= 0.9x the floor's"));
      report(label, "p99, project / floor, mean", mean(p99), "x", atMost(1.25, "<= 1.25x the floor's"));
    }
  }

  function scenarioText(name) {
    if (name === "first touch") return `first touch (${firstTouch} users each reached once, objects not in memory)`;
    if (name === "warm") return "warm (100 users)";
    return "one hot user";
  }

  /**
   * POST /v1/admin/users/batch: `importCalls` sequential calls of 1,000 new members each (half with an opening
   * balance of 100), timed call by call; members/s of the median call. A 404 (the route not built) is reported as such.
   */
  async function benchImport(base) {
    const label = "POST /v1/admin/users/batch, 1,000 new members per call";
    log(`floor: ${label}, ${importCalls} calls`);
    const times = [];
    let rejected = 0;
    let firstRejection = null;
    let missing = false;
    let failure = null;
    for (let c = 0; c < importCalls; c++) {
      const users = Array.from({ length: 1000 }, (_, i) => ({
        userId: `imp${c}x${i}`,
        usergroups: i % 4 === 0 ? ["gold"] : [],
        ...(i % 2 === 0 ? { openingBalance: 100 } : {}),
      }));
      const t = performance.now();
      const res = await fetchAgain(`${base}/v1/admin/users/batch`, { method: "POST", headers, body: JSON.stringify({ users }) });
      const text = await res.text();
      const ms = performance.now() - t;
      if (res.status === 404 || res.status === 405) {
        missing = true;
        break;
      }
      let results = null;
      try {
        results = JSON.parse(text).results;
      } catch {
        // reported below
      }
      if (res.status !== 200 || !Array.isArray(results) || results.length !== users.length) {
        failure = `call ${c + 1}: ${res.status} ${text.slice(0, 200)}`;
        break;
      }
      times.push(ms);
      for (const item of results) {
        if (item?.statusCode === 200 || item?.statusCode === 201) continue;
        rejected += 1;
        firstRejection ??= JSON.stringify(item).slice(0, 200);
      }
    }
    if (missing) {
      report(label, "members imported (median call)", "n/a (route missing)", "", undefined);
      return;
    }
    if (failure) {
      report(label, "members imported (median call)", `failed (${failure})`, "", { test: () => false, text: ">= 2,000 members/s" });
      return;
    }
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)];
    report(label, `members imported (median of ${times.length} calls)`, 1000 / (median / 1000), "members/s", atLeast(2000, ">= 2,000 members/s"));
    report(label, "time per call, median", median, "ms");
    report(label, "items not registered (a result other than 200/201)", rejected, "", atMost(0, "0"));
    if (firstRejection) log(`  first rejected item: ${firstRejection}`);
    // One imported member with an opening balance, read back: its balance is the opening balance.
    const member = await (await fetchAgain(`${base}/v1/admin/users/imp0x0`, { headers })).json();
    report(label, "an imported member's balance = its opening balance (100)", member.balance === 100 ? "yes" : `no (${member.balance})`, "");
  }
}
