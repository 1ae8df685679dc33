// The webhooks part (issue 19's targets): a receiver in the harness's process on 127.0.0.1, the write path with and
// without a subscribed endpoint (interleaved rounds), and the fan-out of many logged events to 3 endpoints.
import { createServer } from "node:http";
import { Webhook } from "standardwebhooks";
import { signDevToken } from "../token.mjs";
import { client, fetchAgain, inParallel, MIX, setupProject, userIds } from "./workload.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * A receiver as a tenant's backend would run one: node:http on 127.0.0.1, port 0, answering 200 at once. Each
 * path is one endpoint; it records every request's `webhook-id` (duplicates are the requests whose id it had
 * already seen) and verifies a sample of signatures with the `standardwebhooks` package (the first 50 requests of
 * each path, then every 1,000th).
 */
export async function startReceiver() {
  const paths = new Map();
  const entry = (path) => {
    let e = paths.get(path);
    if (!e) {
      e = { requests: 0, ids: new Set(), duplicates: 0, lastAt: 0, webhook: null, verified: 0, unverified: 0, firstError: null };
      paths.set(path, e);
    }
    return e;
  };
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => {
      const e = entry(req.url);
      const id = String(req.headers["webhook-id"]);
      e.requests += 1;
      e.lastAt = Date.now();
      if (e.ids.has(id)) e.duplicates += 1;
      else e.ids.add(id);
      if (e.webhook && (e.requests <= 50 || e.requests % 1000 === 0)) {
        try {
          e.webhook.verify(Buffer.concat(chunks).toString("utf8"), req.headers);
          e.verified += 1;
        } catch (error) {
          e.unverified += 1;
          e.firstError ??= String(error?.message ?? error);
        }
      }
      res.writeHead(200, { "content-length": "0" });
      res.end();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    /** Registers an endpoint's path with its secret (whsec_…), so its sample is verified. */
    endpoint: (path, secret) => void (entry(path).webhook = new Webhook(secret)),
    stats: (path) => entry(path),
    /** Requests and distinct ids of `path` whose id ends with `suffix` (the event's type: `_event.logged`). */
    distinctEndingWith: (path, suffix) => {
      let n = 0;
      for (const id of entry(path).ids) if (id.endsWith(suffix)) n += 1;
      return n;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

/** Creates an endpoint on `project` for the receiver's `path`, subscribed to `eventTypes`; the receiver gets its secret. */
async function subscribe(call, receiver, path, eventTypes) {
  const created = await call("POST", "/v1/admin/webhooks", { url: receiver.url(path), eventTypes, description: `bench ${path}` });
  receiver.endpoint(path, created.secret);
  return created.id;
}

const loggedOf = async (db, project) =>
  (
    await db
      .prepare("SELECT COUNT(*) AS n FROM event_log WHERE program_id = (SELECT id FROM projects WHERE key = ?) AND event_id NOT LIKE 'challenge:%'")
      .bind(project)
      .first()
  ).n;
const deliveriesOf = async (db, project) =>
  await db
    .prepare(
      `SELECT COUNT(*) AS n, COALESCE(SUM(d.status = 'pending'), 0) AS pending, COALESCE(SUM(d.status = 'failed'), 0) AS failed, COALESCE(SUM(d.attempts), 0) AS attempts
       FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id WHERE e.project_key = ?`,
    )
    .bind(project)
    .first();

/**
 * Waits until `value()` has not changed for `quietMs` and `ready(value)` holds: `{ok, changedAt}` (when it last
 * changed); ok is false past `timeoutMs`.
 */
async function settle(value, ready, { quietMs = 2000, timeoutMs = 600_000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  let since = Date.now();
  for (;;) {
    const v = await value();
    const key = JSON.stringify(v);
    if (key !== last) [last, since] = [key, Date.now()];
    if (ready(v) && Date.now() - since >= quietMs) return { ok: true, changedAt: since };
    if (Date.now() > deadline) return { ok: false, changedAt: since };
    await sleep(250);
  }
}

/**
 * The write path with and without webhooks: two projects set up identically (the workload's definitions, streak,
 * challenge and board; the same `users`, warm), one with an endpoint subscribed to `points.awarded` and
 * `event.logged` at the receiver's /writes, the other with none. The spread-log scenario (POST /v1/event, the mix,
 * 50 connections) alternates between them without, with, with, without (`rounds` pairs, in ABBA order), each load
 * starting once the previous one's events are in D1 and its deliveries received. Returns each load's figures and
 * the counters over it and its drain: /__bench (reset) and the entry module's hand-over counts (server.mjs).
 */
export async function benchWebhookWrites({ base, db, secret, users, rounds, receiver, loadAsync, log }) {
  const projects = { without: "wh-without", with: "wh-with" };
  const calls = {};
  const headers = {};
  for (const [side, project] of Object.entries(projects)) {
    const token = await signDevToken({ sub: "bench", project, role: "admin", ttl: "2h" }, secret);
    calls[side] = client(base, token);
    headers[side] = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    await setupProject(calls[side], users);
  }
  const endpointId = await subscribe(calls.with, receiver, "/writes", ["points.awarded", "event.logged"]);
  log(`webhooks: two projects of ${users.length} users, endpoint ${endpointId} on ${projects.with}`);

  /** Everything of `side` is through: the logs in D1 and, with webhooks, every delivery received and none pending. */
  const drained = async (side, expectLogs) => {
    const project = projects[side];
    return settle(
      async () => {
        const logs = await loggedOf(db, project);
        if (side === "without") return { logs };
        const d = await deliveriesOf(db, project);
        return { logs, deliveries: d.n, pending: d.pending, received: receiver.stats("/writes").ids.size, requests: receiver.stats("/writes").requests };
      },
      (v) =>
        v.logs >= expectLogs &&
        (side === "without" || (v.pending === 0 && v.received >= v.deliveries && receiver.distinctEndingWith("/writes", "_event.logged") >= v.logs)),
    );
  };
  // Warm: every user's object exists, both projects' definitions and subscriptions are cached, deliveries flow.
  for (const side of ["without", "with"]) {
    for (let i = 0; i < users.length; i += 1000) {
      await calls[side]("POST", "/v1/events/batch", {
        events: users.slice(i, i + 1000).map((userId) => ({ eventId: "review", userId, metadata: { stars: 1 } })),
      });
    }
  }
  for (const side of ["without", "with"]) if (!(await drained(side, users.length)).ok) throw new Error(`webhooks warm-up of ${side} did not drain`);

  const order = [];
  for (let r = 0; r < rounds; r++) order.push(...(r % 2 === 0 ? ["without", "with"] : ["with", "without"]));
  const loads = [];
  for (const [i, side] of order.entries()) {
    const project = projects[side];
    const logsBefore = await loggedOf(db, project);
    const receivedBefore = {
      requests: receiver.stats("/writes").requests,
      ids: receiver.stats("/writes").ids.size,
      duplicates: receiver.stats("/writes").duplicates,
    };
    await fetchAgain(`${base}/__bench?reset=1`);
    await fetchAgain(`${base}/__bench/handover?reset=1`);
    log(`webhooks: spread logs, ${side} webhooks (${i + 1} of ${order.length})`);
    const result = await loadAsync(base, { method: "POST", path: "/v1/event", headers: headers[side], generator: { kind: "log", users, mix: MIX } });
    const atEnd = { received: receiver.stats("/writes").ids.size - receivedBefore.ids };
    const applied = (await (await fetchAgain(`${base}/__bench`)).json()).counters.logsApplied;
    const loadEnd = Date.now();
    const { ok, changedAt } = await drained(side, logsBefore + applied);
    const drainSeconds = Math.max(0, changedAt - loadEnd) / 1000;
    const trace = await (await fetchAgain(`${base}/__bench?reset=1`)).json();
    const handover = await (await fetchAgain(`${base}/__bench/handover?reset=1`)).json();
    const w = receiver.stats("/writes");
    const c = trace.counters;
    log(
      `  ${Math.round(result.requestsPerSecond)} req/s; logs ${c.logsApplied}, events-queue messages ${c.queueMessages} (sends ${c.queueSends}), ` +
        `stats batches ${handover.statsBatches} (${handover.statsMessages} messages), webhooks-queue messages ${handover.webhookMessages}; ` +
        `everything through ${Math.round(drainSeconds * 10) / 10} s after the load`,
    );
    for (const name of ["object: queue send", "consumer: batch"]) {
      const sp = trace.spans[name];
      if (sp) log(`  span ${name}: avg ${Math.round(sp.avgMs * 10) / 10} ms, max ${Math.round(sp.maxMs)} ms over ${sp.count}`);
    }
    loads.push({
      side,
      result,
      trace,
      handover,
      drained: ok,
      drainSeconds,
      receivedDuringLoad: atEnd.received,
      deliveries: {
        requests: w.requests - receivedBefore.requests,
        ids: w.ids.size - receivedBefore.ids,
        duplicates: w.duplicates - receivedBefore.duplicates,
      },
    });
  }
  const w = receiver.stats("/writes");
  const everyLog = receiver.distinctEndingWith("/writes", "_event.logged") === (await loggedOf(db, projects.with));
  return { loads, signatures: { verified: w.verified, unverified: w.unverified, firstError: w.firstError }, everyLog };
}

/**
 * Fan-out: a project with 3 endpoints (/fan-1, /fan-2, /fan-3) subscribed to `event.logged`; `events` logs of an
 * unlimited 1-point event through POST /v1/events/batch (1,000 per call, 4 calls in flight, each call 50 of
 * `userCount` users), then waits (at most `timeoutMs`) until each endpoint has received every log's id, and
 * another 3 s of quiet for late duplicates.
 */
export async function benchFanout({ base, db, secret, events, userCount, receiver, timeoutMs, log }) {
  const project = "wh-fanout";
  const token = await signDevToken({ sub: "bench", project, role: "admin", ttl: "2h" }, secret);
  const call = client(base, token);
  await call("PUT", "/v1/admin/events/visit", { title: "Visit", reward: { default: 1 } });
  const users = userIds("f", userCount);
  await inParallel(users, 16, (userId) => call("PUT", `/v1/admin/users/${userId}`, { usergroups: [] }));
  const paths = ["/fan-1", "/fan-2", "/fan-3"];
  for (const path of paths) await subscribe(call, receiver, path, ["event.logged"]);
  log(`webhooks: fan-out of ${events} events to ${paths.length} endpoints (${userCount} users)`);

  const started = Date.now();
  const batches = Array.from({ length: Math.ceil(events / 1000) }, (_, i) => i);
  await inParallel(batches, 4, async (i) => {
    const start = (i * 50) % users.length;
    const block = users.slice(start, start + 50);
    await call("POST", "/v1/events/batch", {
      events: Array.from({ length: Math.min(1000, events - i * 1000) }, (_, k) => ({ eventId: "visit", userId: block[k % block.length] })),
    });
  });
  const acceptedSeconds = (Date.now() - started) / 1000;
  let inD1Seconds = null;
  let lastProgress = 0;
  const deadline = started + timeoutMs;
  for (;;) {
    if (inD1Seconds === null && (await loggedOf(db, project)) >= events) inD1Seconds = (Date.now() - started) / 1000;
    const least = Math.min(...paths.map((p) => receiver.stats(p).ids.size));
    if (least >= events) break;
    if (Date.now() - lastProgress > 30_000) {
      lastProgress = Date.now();
      log(`  fan-out: ${paths.map((p) => receiver.stats(p).ids.size).join(" / ")} of ${events} received after ${Math.round((Date.now() - started) / 1000)} s`);
    }
    if (Date.now() > deadline) break;
    await sleep(200);
  }
  const deliveredSeconds = (Math.max(...paths.map((p) => receiver.stats(p).lastAt)) - started) / 1000;
  const complete = Math.min(...paths.map((p) => receiver.stats(p).ids.size)) >= events;
  // Late duplicates (a redelivered message, a retry of an attempt that did arrive) would come within seconds.
  await settle(
    async () => paths.map((p) => receiver.stats(p).requests),
    () => true,
    { quietMs: 3000, timeoutMs: 60_000 },
  );
  const logged = await loggedOf(db, project);
  const d1 = await deliveriesOf(db, project);
  const per = paths.map((path) => {
    const s = receiver.stats(path);
    return {
      path,
      distinct: s.ids.size,
      requests: s.requests,
      duplicates: s.duplicates,
      verified: s.verified,
      unverified: s.unverified,
      firstError: s.firstError,
    };
  });
  // The same ids at every endpoint, each a logged event's (evt_<eventUid>_event.logged).
  const first = receiver.stats(paths[0]).ids;
  const sameIds = paths.every((p) => receiver.stats(p).ids.size === first.size && [...receiver.stats(p).ids].every((id) => first.has(id)));
  const wellFormed = [...first].every((id) => id.startsWith("evt_") && id.endsWith("_event.logged"));
  return { events, logged, per, sameIds, wellFormed, complete, acceptedSeconds, inD1Seconds, deliveredSeconds, d1 };
}
