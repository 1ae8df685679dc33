import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { reconcileNextUsers, SCHEDULED_CURSOR_KEY, SCHEDULED_SETTLE_MS } from "../../src/services/reconciliation";
import { runScheduledWork } from "../../src/services/scheduled";
import { api, POLL, setupProject } from "../helpers";
import { LOGGED, OF_UID } from "../log-rows";

const MINUTE = 60_000;

const uidsOf = async (projectId: string) =>
  (await env.DB.prepare(`SELECT event_uid AS uid FROM ${LOGGED} WHERE project_key = ?`).bind(projectId).all<{ uid: string }>()).results.map((row) => row.uid);

/** Runs the scheduled task until it finished a pass over every user; returns each run's report. */
async function onePass(now: number, users: number) {
  const runs: Array<Awaited<ReturnType<typeof reconcileNextUsers>>> = [];
  do runs.push(await reconcileNextUsers(env, { now, users }));
  while (!runs.at(-1)!.passDone && runs.length < 500);
  return runs;
}

describe("the scheduled reconciliation", () => {
  it("walks every project's users a page per run, carrying its place, and re-sends what is missing; the next pass checks only newer messages", async () => {
    await env.ARCHIVE.delete(SCHEDULED_CURSOR_KEY);
    const { admin, projectId } = await setupProject({ users: { alice: [], bob: [], carol: [] } });
    for (const userId of ["alice", "bob", "carol"]) {
      const res = await api("POST", "/v1/event", { auth: admin, body: { eventId: "purchase_completed", userId, metadata: { amount: 3 } } });
      expect(res.status).toBe(200);
    }
    await vi.waitFor(async () => expect(await uidsOf(projectId)).toHaveLength(3), POLL);
    const [lost] = await uidsOf(projectId);
    await env.DB.prepare(`DELETE FROM event_log WHERE ${OF_UID}`).bind(lost).run();

    // Messages younger than the settle time are left for a later pass; 20 minutes on, these are due.
    const later = Date.now() + SCHEDULED_SETTLE_MS + 5 * MINUTE;
    const runs = await onePass(later, 2);
    const registered = (await env.DB.prepare("SELECT COUNT(*) AS n FROM users").first<{ n: number }>())!.n;
    expect(runs.length).toBe(Math.floor(registered / 2) + 1);
    expect(runs.every((run) => run.usersChecked <= 2)).toBe(true);
    expect(runs.reduce((sum, run) => sum + run.usersChecked, 0)).toBe(registered);
    // The first pass covers the retention window up to the settle time.
    expect(runs[0]!.to).toBe(later - SCHEDULED_SETTLE_MS);
    expect(runs.reduce((sum, run) => sum + run.missing, 0)).toBe(1);
    expect(runs.reduce((sum, run) => sum + run.resent, 0)).toBe(1);
    await vi.waitFor(async () => expect((await uidsOf(projectId)).filter((uid) => uid === lost)).toHaveLength(1), POLL);
    expect(await env.ARCHIVE.get(SCHEDULED_CURSOR_KEY).then((object) => object!.json())).toEqual({
      afterAccountId: 0,
      from: later - SCHEDULED_SETTLE_MS,
      to: null,
    });

    // The next pass starts where this one's window ended: these messages are not asked about again.
    const next = await onePass(later + 10 * MINUTE, 1000);
    expect(next).toHaveLength(1);
    expect(next[0]).toMatchObject({ from: later - SCHEDULED_SETTLE_MS, to: later + 10 * MINUTE - SCHEDULED_SETTLE_MS, eventsAcknowledged: 0, missing: 0 });
    expect(await uidsOf(projectId)).toHaveLength(3);
  });

  it("is one of the cron's tasks", async () => {
    await env.ARCHIVE.delete(SCHEDULED_CURSOR_KEY);
    await setupProject();
    await runScheduledWork(env);
    expect(await env.ARCHIVE.head(SCHEDULED_CURSOR_KEY)).not.toBeNull();
  });
});
