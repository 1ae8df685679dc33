// D1 storage per logged event (README "The raw log's rows and indexes"): a project's events over 90 days written
// by the real consumer, then D1's own size (`meta.size_after`) with the default window, and again once the
// archive and the window job have removed every event from D1 (a 1-day window).
import { randomUUID } from "node:crypto";
import { DEFINITIONS, MIX } from "./workload.mjs";

const DAY_MS = 86_400_000;
const LEDGER_ID_SPAN = 2 ** 24;
const PER_BUNDLE = 100;

/** D1's own size of the database, in bytes (what D1 reports after a statement). */
const d1Size = async (db) => (await db.prepare("SELECT 1").run()).meta.size_after;

/** Runs the cron's scheduled work until `done()` (at most `maxRuns` runs); returns the runs made. */
async function scheduledUntil(mf, done, maxRuns, label) {
  const worker = await mf.getWorker();
  for (let runs = 0; ; runs++) {
    if (await done()) return runs;
    if (runs >= maxRuns) throw new Error(`${label}: not done after ${maxRuns} scheduled runs`);
    await worker.scheduled({ cron: "*/10 * * * *" });
  }
}

/**
 * Registers `users` members in D1 as PUT /v1/admin/users leaves them once their objects confirmed them (one
 * statement, not 100,000 calls), and returns the first account id (they follow in order).
 */
async function registerUsers(db, project, users) {
  const now = new Date().toISOString();
  await db
    .prepare(
      `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?3 - 1)
       INSERT INTO users (project_key, user_id, usergroups, attributes, registration_version, object_version, created_at, updated_at)
       SELECT ?1, 's' || i, CASE WHEN i % 2 = 1 THEN '["gold"]' ELSE '[]' END, '{}', 1, 1, ?2, ?2 FROM n`,
    )
    .bind(project, now, users)
    .run();
  return (await db.prepare("SELECT MIN(account_id) AS first FROM users WHERE project_key = ?").bind(project).first()).first;
}

/**
 * `events` messages as the users' objects send them for logs spread evenly over the 88 days before yesterday
 * (live traffic, in time order): the event with its loyalty id, its stats flags (first of its day and month for
 * the user, overall and per event; the user's previous last active day) and the user's updates (no streak or
 * board in this project), in bundles of 100.
 */
function* bundles({ project, programId, ruleIds, users, firstAccount, events }) {
  const end = Math.floor(Date.now() / DAY_MS) * DAY_MS - DAY_MS;
  const start = end - 88 * DAY_MS;
  const state = new Map(); // account → { n, balance, lastDay, lastMonth, events: Map(eventId → { lastDay, lastMonth }) }
  let items = [];
  for (let i = 0; i < events; i++) {
    const user = Math.floor(Math.random() * users);
    const accountId = firstAccount + user;
    const gold = user % 2 === 1;
    const entry = MIX[i % MIX.length];
    const definition = DEFINITIONS[entry.eventId];
    const at = start + Math.floor((i / events) * (end - start));
    const iso = new Date(at).toISOString();
    const day = iso.slice(0, 10);
    const month = iso.slice(0, 7);
    const s = state.get(accountId) ?? { n: 0, balance: 0, lastDay: null, lastMonth: null, events: new Map() };
    state.set(accountId, s);
    const e = s.events.get(entry.eventId) ?? { lastDay: null, lastMonth: null };
    s.events.set(entry.eventId, e);
    const rate = definition.reward[gold ? "gold" : "default"] ?? definition.reward.default;
    const amount = entry.metadata.amount;
    const met = entry.eventId !== "purchase" || amount > 0;
    const points = !met ? 0 : entry.eventId === "purchase" ? Math.round(amount * rate) : rate;
    const reasons = met ? [] : [{ code: "CONDITION_NOT_MET", field: "amount", operator: "greater_than", expected: 0, actual: amount }];
    s.n += 1;
    const message = {
      ledgerId: accountId * LEDGER_ID_SPAN + s.n,
      eventUid: randomUUID(),
      projectKey: project,
      programId,
      userId: `s${user}`,
      accountId,
      eventId: entry.eventId,
      definitionVersion: 1,
      eventType: definition.type ?? "STANDARD",
      loyaltyEventType: definition.loyaltyEventType ?? null,
      metadata: entry.metadata,
      occurredAt: iso,
      recordedAt: iso,
      points,
      balanceBefore: s.balance,
      balanceAfter: s.balance + points,
      userGroupId: gold ? "gold" : "default",
      conditionReached: met,
      limitReached: false,
      reward: { rate, value: amount ?? null, uncappedPoints: points, maximumReward: null, reasons },
      idempotencyKey: null,
      ruleId: ruleIds[entry.eventId] ?? null,
      rewardType: "LOYALTY_POINTS",
      rewardAmount: points,
      rewardCurrency: typeof entry.metadata.currency === "string" ? entry.metadata.currency : null,
      customerMessage: null,
      activity: {
        firstOfDay: s.lastDay !== day,
        firstOfMonth: s.lastMonth !== month,
        firstOfEventDay: e.lastDay !== day,
        firstOfEventMonth: e.lastMonth !== month,
        previousLastDay: s.lastDay,
        previousEventLastDay: e.lastDay,
      },
      updates: { seq: s.n, streaks: [], standings: [] },
    };
    s.balance += points;
    [s.lastDay, s.lastMonth, e.lastDay, e.lastMonth] = [day, month, day, month];
    items.push(message);
    if (items.length === PER_BUNDLE) {
      yield { kind: "bundle", items };
      items = [];
    }
  }
  if (items.length > 0) yield { kind: "bundle", items };
}

/**
 * One dataset: a fresh project on a fresh Worker (`worker`: startWorker's answer, migrated), `users` registered
 * members, `events` logs through the queue and the real consumer. Sizes in bytes.
 */
export async function benchStorage({ worker, call, project, users, events, log }) {
  const { mf, db, queue } = worker;
  // The cron's one-off walk over the objects from before finds none on a fresh database, and is done.
  await (await mf.getWorker()).scheduled({ cron: "*/10 * * * *" });
  for (const eventId of ["purchase", "daily_login", "review"]) await call("PUT", `/v1/admin/events/${eventId}`, DEFINITIONS[eventId]);
  const { id: programId } = await db.prepare("SELECT id FROM projects WHERE key = ?").bind(project).first();
  const ruleIds = Object.fromEntries(
    (await db.prepare("SELECT event_id AS eventId, rule_id AS ruleId FROM event_definitions WHERE project_key = ?").bind(project).all()).results.map((r) => [
      r.eventId,
      r.ruleId,
    ]),
  );
  const empty = await d1Size(db);
  const firstAccount = await registerUsers(db, project, users);
  const registered = await d1Size(db);
  log(`  storage: ${users} members registered (${Math.round((registered - empty) / users)} bytes each); queueing ${events} events`);

  const started = performance.now();
  const pending = bundles({ project, programId, ruleIds, users, firstAccount, events });
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let next = pending.next(); !next.done; next = pending.next()) await queue.send(next.value, { contentType: "json" });
    }),
  );
  const logged = async () => (await db.prepare("SELECT COUNT(*) AS n FROM event_log WHERE program_id = ?").bind(programId).first()).n;
  for (;;) {
    if ((await logged()) >= events) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  const ingestSeconds = (performance.now() - started) / 1000;
  log(`  storage: ${events} events in D1 after ${Math.round(ingestSeconds)} s; archiving`);

  // The archive takes every row (as the cron does within minutes of their arrival), which deletes their details.
  const newest = (await db.prepare("SELECT MAX(id) AS id FROM event_log").first()).id;
  const archived = async () =>
    (await db.prepare("SELECT COALESCE(MAX(last_id), 0) AS id FROM archive_batches WHERE kind = 'events' AND done_at IS NOT NULL").first()).id >= newest;
  const archiveRuns = await scheduledUntil(mf, archived, 400, "archive");
  const details = (await db.prepare("SELECT COUNT(*) AS n FROM event_log_details").first()).n;
  const inWindow = await d1Size(db);
  const stats = await call("GET", "/v1/stats/event?period=all");
  log(`  storage: archived in ${archiveRuns} scheduled runs; D1 ${Math.round(inWindow / 1e6)} MB; stats count ${stats.data.totalEvents}`);

  // Older than the window: a 1-day window, and the archive batches aged past the window job's 15-day guard (the
  // rows were ingested minutes ago; the guard keeps rows the queue or reconciliation may still deliver again).
  await db.prepare("INSERT INTO project_settings (project_key, log_window_days, updated_at) VALUES (?, 1, ?)").bind(project, new Date().toISOString()).run();
  await db
    .prepare("UPDATE archive_batches SET created_at = ?")
    .bind(new Date(Date.now() - 16 * DAY_MS).toISOString())
    .run();
  const trimRuns = await scheduledUntil(mf, async () => (await logged()) === 0, 400, "window");
  const older = await d1Size(db);
  const statsAfter = await call("GET", "/v1/stats/event?period=all");
  log(`  storage: window trimmed in ${trimRuns} scheduled runs; D1 ${Math.round(older / 1e6)} MB; stats count ${statsAfter.data.totalEvents}`);
  return {
    users,
    events,
    empty,
    registered,
    inWindow,
    older,
    details,
    statsExact: stats.data.totalEvents === events && statsAfter.data.totalEvents === events,
    ingestSeconds,
  };
}
