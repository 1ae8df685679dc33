import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
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
      idempotency_key: "i-1",
    });
    expect(JSON.parse(row!.metadata as string)).toEqual({ amount: 12.5 });
    expect(JSON.parse(row!.reward as string)).toMatchObject({ rate: 2, value: 12.5, uncappedPoints: 25 });
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
