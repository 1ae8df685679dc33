import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import type { ReconciliationReportBody } from "../../src/routes/admin-reconciliation";
import { apiKeyWith, api, POLL, purchaseDefinition, setupProject, userObject, userToken, type Credential } from "../helpers";
import { LOGGED, OF_PROJECT, OF_UID } from "../log-rows";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const reconcile = (auth: Credential, body: Record<string, unknown>) => api<ReconciliationReportBody>("POST", "/v1/admin/reconciliation", { auth, body });
const refused = (auth: Credential, body: Record<string, unknown>) => api("POST", "/v1/admin/reconciliation", { auth, body });

/** A range around now (the messages of this test), as the route takes it. */
const aroundNow = () => ({ from: new Date(Date.now() - HOUR).toISOString(), to: new Date(Date.now() + 60_000).toISOString() });

const log = (admin: Credential, userId: string, amount: number) =>
  api("POST", "/v1/event", { auth: admin, body: { eventId: "purchase_completed", userId, metadata: { amount } } });

const logRows = async (projectId: string) =>
  (
    await env.DB.prepare(`SELECT ledger_id AS id, event_uid AS uid, user_id AS userId FROM ${LOGGED} WHERE project_key = ? ORDER BY id`)
      .bind(projectId)
      .all<{ id: number; uid: string; userId: string }>()
  ).results;

describe("POST /v1/admin/reconciliation", () => {
  it("finds an acknowledged event missing from the log and sends it again, once; a second run finds nothing missing", async () => {
    const { admin, projectId } = await setupProject({
      definitions: { purchase_completed: { ...purchaseDefinition, limit: 100 } },
      users: { alice: [], bob: [] },
    });
    for (const amount of [1, 2, 3]) expect((await log(admin, "alice", amount)).status).toBe(200);
    for (const amount of [4, 5]) expect((await log(admin, "bob", amount)).status).toBe(200);
    await vi.waitFor(async () => expect(await logRows(projectId)).toHaveLength(5), POLL);
    // An adjustment is acknowledged too, and found in the ledger's adjustments.
    const [first] = await logRows(projectId);
    const adjusted = await api("POST", `/v1/loyalty-events/${first!.id}/adjustments`, {
      auth: admin,
      body: { rewardAmount: 0, reason: "refund" },
      headers: { "idempotency-key": "refund-1" },
    });
    expect(adjusted.status).toBe(200);
    await vi.waitFor(
      async () =>
        expect((await env.DB.prepare("SELECT COUNT(*) AS n FROM ledger_adjustments WHERE project_key = ?").bind(projectId).first<{ n: number }>())!.n).toBe(1),
      POLL,
    );

    // Nothing is missing: every message the objects acknowledged is in D1.
    const clean = await reconcile(admin, aroundNow());
    expect(clean.status).toBe(200);
    expect(clean.json).toMatchObject({ usersChecked: 2, eventsAcknowledged: 6, missing: 0, resent: 0, nextCursor: null });

    // A gap: one of bob's events never reached the log (its row is gone).
    const lost = (await logRows(projectId)).find((row) => row.userId === "bob")!;
    await env.DB.prepare(`DELETE FROM event_log WHERE ${OF_UID}`).bind(lost.uid).run();
    expect(await logRows(projectId)).toHaveLength(4);

    const repaired = await reconcile(admin, aroundNow());
    expect(repaired.status).toBe(200);
    expect(repaired.json).toMatchObject({ usersChecked: 2, eventsAcknowledged: 6, missing: 1, resent: 1, alreadyQueued: 0, usersFailed: 0, nextCursor: null });
    expect(repaired.json.cost).toMatchObject({ objectCalls: 3, d1Statements: 2 });
    await vi.waitFor(async () => expect(await logRows(projectId)).toHaveLength(5), POLL);
    const back = (await logRows(projectId)).filter((row) => row.uid === lost.uid);
    expect(back).toHaveLength(1);

    // Again: nothing missing, nothing sent; and after a while the log still has each event once.
    const again = await reconcile(admin, aroundNow());
    expect(again.json).toMatchObject({ usersChecked: 2, eventsAcknowledged: 6, missing: 0, resent: 0 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(new Set((await logRows(projectId)).map((row) => row.uid)).size).toBe(5);
    expect(await logRows(projectId)).toHaveLength(5);
  });

  it("checks only the range asked for", async () => {
    const { admin, projectId } = await setupProject();
    expect((await log(admin, "alice", 1)).status).toBe(200);
    await vi.waitFor(async () => expect(await logRows(projectId)).toHaveLength(1), POLL);
    await env.DB.prepare(`DELETE FROM event_log WHERE ${OF_PROJECT}`).bind(projectId).run();

    const before = await reconcile(admin, { from: new Date(Date.now() - 2 * HOUR).toISOString(), to: new Date(Date.now() - HOUR).toISOString() });
    expect(before.json).toMatchObject({ usersChecked: 1, eventsAcknowledged: 0, missing: 0, resent: 0 });
    const now = await reconcile(admin, aroundNow());
    expect(now.json).toMatchObject({ usersChecked: 1, eventsAcknowledged: 1, missing: 1, resent: 1 });
    await vi.waitFor(async () => expect(await logRows(projectId)).toHaveLength(1), POLL);
  });

  it("walks the project's users in bounded pages with a cursor, and no other project's", async () => {
    const users = Object.fromEntries(["u1", "u2", "u3", "u4", "u5"].map((id) => [id, []]));
    const { admin, projectId } = await setupProject({ users });
    for (const userId of Object.keys(users)) expect((await log(admin, userId, 1)).status).toBe(200);
    await vi.waitFor(async () => expect(await logRows(projectId)).toHaveLength(5), POLL);
    const other = await setupProject({ users: { x1: [], x2: [] } });

    const pages: ReconciliationReportBody[] = [];
    let cursor: string | undefined;
    do {
      const res = await reconcile(admin, { ...aroundNow(), limit: 2, ...(cursor ? { cursor } : {}) });
      expect(res.status).toBe(200);
      pages.push(res.json);
      cursor = res.json.nextCursor ?? undefined;
    } while (cursor && pages.length < 10);
    expect(pages.map((page) => page.usersChecked)).toEqual([2, 2, 1]);
    expect(pages.map((page) => page.eventsAcknowledged)).toEqual([2, 2, 1]);
    expect(pages.at(-1)!.nextCursor).toBeNull();
    expect(pages.every((page) => page.missing === 0 && page.cost.objectCalls === page.usersChecked)).toBe(true);

    // The other project's admin walks its own two users only.
    expect((await reconcile(other.admin, aroundNow())).json).toMatchObject({ usersChecked: 2, eventsAcknowledged: 0, nextCursor: null });
  });

  it("refuses a range beyond the retention window, a bad cursor, too many users and non-admin callers", async () => {
    const { admin, projectId } = await setupProject();
    const old = await refused(admin, { from: new Date(Date.now() - 8 * DAY).toISOString(), to: new Date().toISOString() });
    expect(old.status).toBe(400);
    expect(old.json.errors).toContainEqual({ path: "from", message: expect.stringContaining("7 days") });
    const reversed = await refused(admin, { from: new Date().toISOString(), to: new Date(Date.now() - HOUR).toISOString() });
    expect(reversed.status).toBe(400);
    expect(reversed.json.errors).toContainEqual({ path: "from", message: "must not be after to" });
    const tooMany = await refused(admin, { ...aroundNow(), limit: 1001 });
    expect(tooMany.status).toBe(400);
    expect(tooMany.json.errors?.[0]?.path).toBe("limit");
    const badCursor = await refused(admin, { ...aroundNow(), cursor: "not-a-cursor" });
    expect(badCursor.status).toBe(400);
    expect(badCursor.json.errors).toEqual([{ path: "cursor", message: expect.any(String) }]);
    expect((await refused(admin, { to: new Date().toISOString() })).json.errors?.[0]?.path).toBe("from");

    expect((await refused({ bearer: await userToken(projectId, "alice") }, aroundNow())).status).toBe(403);
    const logger = await apiKeyWith(admin, ["events:log"]);
    expect((await refused({ apiKey: logger.apiKey }, aroundNow())).status).toBe(403);
    const adminKey = await apiKeyWith(admin, ["admin"]);
    expect((await refused({ apiKey: adminKey.apiKey }, aroundNow())).status).toBe(200);
    expect((await refused(null, aroundNow())).status).toBe(401);
  });

  it("keeps acknowledged messages for 7 days: older ones are pruned by the object", async () => {
    const { admin, projectId } = await setupProject();
    expect((await log(admin, "alice", 1)).status).toBe(200);
    const stub = userObject(projectId, "alice");
    const eightDaysAgo = Date.now() - 8 * DAY;
    await runInDurableObject(stub, (_instance, state) => {
      state.storage.sql.exec("INSERT INTO acknowledged (acked_at, event_uid, body) VALUES (?, 'ancient', '{}')", eightDaysAgo);
    });
    const page = await stub.acknowledgedBetween(eightDaysAgo - DAY, Date.now() + 60_000);
    expect(page.uids).toHaveLength(1);
    expect(page.uids).not.toContain("ancient");
    const kept = await runInDurableObject(stub, (_instance, state) => state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM acknowledged").one().n);
    expect(kept).toBe(1);
  });
});
