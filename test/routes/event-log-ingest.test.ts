import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import type { EventLoggedEnvelope } from "../../src/domain/logged-event";
import { archiveRawLog } from "../../src/services/archive";
import { api, instrumentedD1, setupProject } from "../helpers";
import { logRowsWhen, purchase } from "./log-helpers";

describe("the event log", () => {
  it("receives every logged event with what the ledger and stats need", async () => {
    const { admin, projectId } = await setupProject({ users: { alice: ["gold"] } });
    await api("POST", "/v1/event", { auth: admin, body: purchase("alice", { amount: 12.5 }), headers: { "idempotency-key": "i-1" } });
    const [row] = await logRowsWhen(projectId, 1);
    expect(row).toMatchObject({
      project_key: projectId,
      program_id: expect.any(Number),
      user_id: "alice",
      account_id: expect.any(Number),
      event_id: "purchase_completed",
      definition_version: 1,
      event_type: "TRANSACTION",
      points: 25,
      balance_before: 0,
      balance_after: 25,
      user_group_id: "gold",
      condition_reached: 1,
      limit_reached: 0,
    });
    expect(JSON.parse(row!.metadata as string)).toEqual({ amount: 12.5 });
    expect(JSON.parse(row!.reward as string)).toMatchObject({ rate: 2, value: 12.5, uncappedPoints: 25 });
  });

  it("keeps the ledger's fields compactly in the log and the rest beside it until the archive takes it (migration 0013)", async () => {
    const { admin, projectId } = await setupProject({ users: { alice: ["gold"] } });
    const res = await api<EventLoggedEnvelope>("POST", "/v1/event", {
      auth: admin,
      body: purchase("alice", { amount: 12.5 }),
      headers: { "idempotency-key": "i-2" },
    });
    expect(res.status).toBe(200);
    const [logged] = await logRowsWhen(projectId, 1);
    const raw = await env.DB.prepare(
      `SELECT typeof(event_uid) AS uidType, length(event_uid) AS uidBytes, typeof(occurred_at) AS timeType, occurred_at AS occurredAt,
              ledger_type AS ledgerType, reward_type AS rewardType, metadata, program_id AS programId
       FROM event_log WHERE id = ?`,
    )
      .bind(logged!.id)
      .first();
    const programId = (await env.DB.prepare("SELECT id FROM projects WHERE key = ?").bind(projectId).first<{ id: number }>())!.id;
    // A UUID as its 16 bytes, the time as epoch ms, the types as codes, the project as its numeric id.
    expect(raw).toEqual({
      uidType: "blob",
      uidBytes: 16,
      timeType: "integer",
      occurredAt: Date.parse(logged!.occurred_at as string),
      ledgerType: 1,
      rewardType: 0,
      metadata: '{"amount":12.5}',
      programId,
    });
    // No column of the log keeps the project's key, the userId or the idempotency key.
    const columns = (await env.DB.prepare("SELECT name FROM pragma_table_info('event_log')").all<{ name: string }>()).results.map((c) => c.name);
    for (const gone of ["project_key", "user_id", "idempotency_key", "ingest_batch", "reward", "balance_before"]) expect(columns).not.toContain(gone);
    // The details wait for the archive, which deletes them once it holds the event.
    const details = () => env.DB.prepare("SELECT COUNT(*) AS n FROM event_log_details WHERE event_uid = ?").bind(logged!.event_uid).first<{ n: number }>();
    expect(await details()).toEqual({ n: 1 });
    for (let run = 0; run < 20 && (await archiveRawLog(env)).more; run++);
    expect(await details()).toEqual({ n: 0 });
    expect(await logRowsWhen(projectId, 1)).toMatchObject([{ event_uid: logged!.event_uid, points: null, metadata: '{"amount":12.5}' }]);
  });
});

describe("the hot path", () => {
  it("reads and writes no D1 per logged event once the definitions are cached", async () => {
    const { admin } = await setupProject();
    const app = createApp();
    const d1 = instrumentedD1();
    const post = async () => {
      const request = new Request("http://api.test/v1/event", {
        method: "POST",
        headers: { authorization: `Bearer ${(admin as { bearer: string }).bearer}`, "content-type": "application/json" },
        body: JSON.stringify(purchase("alice", { amount: 5 })),
      });
      return app.fetch(request, { ...env, DB: d1.db });
    };
    expect((await post()).status).toBe(200); // warms the isolate's definitions cache...
    expect(d1.calls()).toBeGreaterThan(0); // ...through D1, so the counter does see D1 use
    d1.resetCalls();
    for (let i = 0; i < 20; i++) expect((await post()).status).toBe(200);
    expect(d1.calls()).toBe(0);
  });
});
