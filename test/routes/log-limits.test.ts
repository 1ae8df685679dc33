import { describe, expect, it } from "vitest";
import type { EventLoggedEnvelope } from "../../src/domain/logged-event";
import type { UserBody } from "../../src/routes/admin-users";
import { api, loginDefinition, purchaseDefinition, setupProject } from "../helpers";
import { logRowsWhen, purchase } from "./log-helpers";

describe("POST /v1/event: limits", () => {
  it("answers 'Event Limit erreicht' past the limit and still records the log", async () => {
    const { admin, projectId } = await setupProject({ definitions: { login: { ...loginDefinition, limit: 2 } } });
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await api<EventLoggedEnvelope>("POST", "/v1/event", { auth: admin, body: { eventId: "login", userId: "alice" } }));
    expect(results.map((r) => r.json.data.points)).toEqual([5, 5, 0]);
    expect(results[2]!.json).toMatchObject({ message: "Event Limit erreicht", data: { limitReached: true, balance: 10 } });
    expect(results[2]!.json.data.reasons[0]).toMatchObject({ code: "LIMIT_REACHED", limit: 2, limitPeriod: "lifetime" });
    const rows = await logRowsWhen(projectId, 3);
    expect(rows.map((r) => r.limit_reached)).toEqual([0, 0, 1]);
  });

  it("counts a daily limit per UTC day, across the midnight boundary", async () => {
    const { admin } = await setupProject({ definitions: { login: { ...loginDefinition, limit: 1, limitPeriod: "day" } } });
    const at = (timestamp: string) => api<EventLoggedEnvelope>("POST", "/v1/event", { auth: admin, body: { eventId: "login", userId: "alice", timestamp } });
    expect((await at("2026-03-01T23:59:59.999Z")).json.data.limitReached).toBe(false);
    expect((await at("2026-03-01T12:00:00Z")).json.data.limitReached).toBe(true);
    expect((await at("2026-03-02T00:00:00.000Z")).json.data.limitReached).toBe(false);
    // An offset timestamp is placed in its UTC day: 01:00+02:00 is 23:00Z on March 2nd.
    expect((await at("2026-03-03T01:00:00+02:00")).json.data.limitReached).toBe(true);
  });

  it("is exact under concurrency: 50 parallel logs with limit 10 award exactly 10 times", async () => {
    const { admin } = await setupProject({ definitions: { purchase_completed: { ...purchaseDefinition, limit: 10 } } });
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) => api<EventLoggedEnvelope>("POST", "/v1/event", { auth: admin, body: purchase("alice", { amount: i + 1 }) })),
    );
    expect(responses.every((r) => r.status === 200)).toBe(true);
    const awarded = responses.filter((r) => !r.json.data.limitReached);
    expect(awarded).toHaveLength(10);
    const awardedPoints = awarded.reduce((sum, r) => sum + r.json.data.points, 0);
    const user = await api<UserBody>("GET", "/v1/admin/users/alice", { auth: admin });
    expect(user.json.balance).toBe(awardedPoints);
    expect(Math.max(...responses.map((r) => r.json.data.balance))).toBe(awardedPoints);
  });
});
