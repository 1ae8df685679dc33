// The reconciliation scenario: what POST /v1/admin/reconciliation costs per 1,000 users (one call, limit 1000).
import { client, fetchAgain, inParallel, MIX, setupProject, userIds } from "./workload.mjs";

export const RECONCILE_USERS = 1_000;
/** Messages per user in the window (about a week of a fairly active user). */
export const RECONCILE_EVENTS_PER_USER = 10;
/** Events whose D1 rows the gap runs delete, for reconciliation to find and send again. */
export const RECONCILE_GAP = 100;

/** A JSON list of UUIDs (bound as ?1) as event_log stores them (src/db/event-log.ts, storedUid). */
const STORED_UIDS = "SELECT unhex(replace(value, '-', '')) FROM json_each(?1)";
const countRows = async (db, project) =>
  (await db.prepare("SELECT COUNT(*) AS n FROM event_log WHERE program_id = (SELECT id FROM projects WHERE key = ?)").bind(project).first()).n;

async function settle(db, project, atLeast) {
  let last = -1;
  let stableSince = Date.now();
  const deadline = Date.now() + 600_000;
  for (;;) {
    const n = await countRows(db, project);
    if (n !== last) [last, stableSince] = [n, Date.now()];
    if (n >= atLeast && Date.now() - stableSince > 2000) return n;
    if (Date.now() > deadline) throw new Error(`reconciliation setup: ${n} of ${atLeast} events in D1`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Sets up 1,000 registered users with 10 logged events each (through the batch route, the users' objects and
 * the real consumer), then times the reconciliation of all of them over the last hour: clean (nothing
 * missing) and with RECONCILE_GAP events deleted from D1's log (found, sent again, back exactly once).
 * `trace` reads and resets the Worker's counters (GET /__bench).
 */
export async function benchReconciliation({ base, db, token, trace, log, runs = 3 }) {
  const project = "reconcile";
  const call = client(base, token);
  const users = userIds("r", RECONCILE_USERS);
  log(`reconciliation: registering ${users.length} users, logging ${RECONCILE_EVENTS_PER_USER} events each`);
  await setupProject(call, users);
  const calls = Array.from({ length: (users.length * RECONCILE_EVENTS_PER_USER) / 1000 }, (_, b) => b);
  await inParallel(calls, 4, (b) =>
    call("POST", "/v1/events/batch", {
      events: Array.from({ length: 1000 }, (_, i) => {
        const entry = MIX[i % MIX.length];
        return { eventId: entry.eventId, userId: users[((b * 100) % users.length) + (i % 100)], metadata: entry.metadata };
      }),
    }),
  );
  const total = await settle(db, project, users.length * RECONCILE_EVENTS_PER_USER);

  const body = () =>
    JSON.stringify({ from: new Date(Date.now() - 3_600_000).toISOString(), to: new Date(Date.now() + 60_000).toISOString(), limit: RECONCILE_USERS });
  const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  const reconcile = async () => {
    await trace();
    const t = performance.now();
    const res = await fetchAgain(`${base}/v1/admin/reconciliation`, { method: "POST", headers, body: body() });
    const report = await res.json();
    const ms = performance.now() - t;
    if (res.status !== 200) throw new Error(`reconciliation: ${res.status} ${JSON.stringify(report)}`);
    if (report.usersChecked !== RECONCILE_USERS) throw new Error(`reconciliation checked ${report.usersChecked} users`);
    return { ms, report, counters: (await trace()).counters };
  };

  const clean = [];
  for (let i = 0; i < runs; i++) clean.push(await reconcile());
  const gaps = [];
  for (let i = 0; i < runs; i++) {
    // Lost on their way: neither the log's row nor its details reached D1 (event_log keeps a UUID as its 16 bytes).
    const lost = (
      await db.prepare("SELECT event_uid AS uid FROM event_log_details WHERE project_key = ? ORDER BY random() LIMIT ?").bind(project, RECONCILE_GAP).all()
    ).results.map((row) => row.uid);
    await db.batch([
      db.prepare(`DELETE FROM event_log WHERE event_uid IN (${STORED_UIDS})`).bind(JSON.stringify(lost)),
      db.prepare("DELETE FROM event_log_details WHERE event_uid IN (SELECT value FROM json_each(?))").bind(JSON.stringify(lost)),
    ]);
    const run = await reconcile();
    // Everything missing comes back, once.
    const back = await settle(db, project, total);
    const present = (await db.prepare(`SELECT COUNT(*) AS n FROM event_log WHERE event_uid IN (${STORED_UIDS})`).bind(JSON.stringify(lost)).first()).n;
    gaps.push({ ...run, exact: back === total && present === lost.length && run.report.missing === lost.length && run.report.resent === lost.length });
  }
  return { total, clean, gaps };
}
