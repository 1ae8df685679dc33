import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import { api, eventually, loginDefinition, purchaseDefinition, setupProject, token, userToken } from "../helpers";

const purchase = (userId: string, metadata: Record<string, unknown> = { amount: 49.99 }) => ({
  eventId: "purchase_completed",
  userId,
  metadata,
});

async function logRows(projectId: string) {
  const { results } = await env.DB.prepare("SELECT * FROM event_log WHERE project_key = ? ORDER BY occurred_at, id")
    .bind(projectId)
    .all<Record<string, unknown>>();
  return results;
}

describe("POST /v1/event: the spec's 200", () => {
  it("awards transaction points rounded half up and answers the spec's envelope plus balance and reasons", async () => {
    const { projectId } = await setupProject();
    const user = { bearer: await userToken(projectId, "alice") };
    const res = await api("POST", "/v1/event", { auth: user, body: purchase("alice", { amount: 49.99, currency: "EUR", usergroup: ["default"], source: "web" }) });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      statusCode: 200,
      message: "Event erfolgreich geloggt",
      data: {
        userId: "alice",
        eventId: "purchase_completed",
        points: 50,
        type: "TRANSACTION",
        title: "Purchase completed",
        limit: 10,
        maximumReward: 1000,
        metadata: { amount: 49.99, currency: "EUR", usergroup: ["default"], source: "web" },
        conditionReached: true,
        limitReached: false,
        userGroupId: "default",
        balance: 50,
        reasons: [],
      },
    });
  });

  it("caps a log at maximumReward", async () => {
    const { admin } = await setupProject();
    const res = await api("POST", "/v1/event", { auth: admin, body: purchase("alice", { amount: 5000 }) });
    expect(res.json.data).toMatchObject({ points: 1000, balance: 1000 });
    expect(res.json.data.reasons).toEqual([{ code: "MAXIMUM_REWARD_APPLIED", uncappedPoints: 5000, maximumReward: 1000 }]);
    // Re-registering (say, new usergroups) keeps the balance and reports it.
    const updated = await api("PUT", "/v1/admin/users/alice", { auth: admin, body: { usergroups: ["gold"] } });
    expect(updated.json).toMatchObject({ usergroups: ["gold"], balance: 1000 });
  });

  it("chooses the usergroup from metadata first, then the registered groups, then default", async () => {
    const { admin } = await setupProject({ users: { alice: [], bob: ["silver", "gold"] } });
    const viaMetadata = await api("POST", "/v1/event", { auth: admin, body: purchase("alice", { amount: 10, usergroup: ["vip", "gold"] }) });
    expect(viaMetadata.json.data).toMatchObject({ userGroupId: "gold", points: 20 });
    const viaString = await api("POST", "/v1/event", { auth: admin, body: purchase("alice", { amount: 10, usergroup: "gold" }) });
    expect(viaString.json.data.userGroupId).toBe("gold");
    const viaRegistration = await api("POST", "/v1/event", { auth: admin, body: purchase("bob", { amount: 10 }) });
    expect(viaRegistration.json.data).toMatchObject({ userGroupId: "gold", points: 20 });
    const fallback = await api("POST", "/v1/event", { auth: admin, body: purchase("alice", { amount: 10, usergroup: ["vip"] }) });
    expect(fallback.json.data).toMatchObject({ userGroupId: "default", points: 10 });
  });

  it("logs a failed condition with no points and no limit use", async () => {
    const { admin } = await setupProject({ definitions: { purchase_completed: { ...purchaseDefinition, limit: 1 } } });
    const failed = await api("POST", "/v1/event", { auth: admin, body: purchase("alice", { amount: -3 }) });
    expect(failed.status).toBe(200);
    expect(failed.json.message).toBe("Event erfolgreich geloggt");
    expect(failed.json.data).toMatchObject({ points: 0, conditionReached: false, limitReached: false, balance: 0 });
    expect(failed.json.data.reasons).toEqual([
      { code: "CONDITION_NOT_MET", field: "amount", operator: "greater_than", expected: 0, actual: -3 },
    ]);
    // The limit of 1 is still unused.
    const rewarded = await api("POST", "/v1/event", { auth: admin, body: purchase("alice", { amount: 2 }) });
    expect(rewarded.json.data).toMatchObject({ points: 2, limitReached: false });
  });
});

describe("POST /v1/event: limits", () => {
  it("answers 'Event Limit erreicht' past the limit and still records the log", async () => {
    const { admin, projectId } = await setupProject({ definitions: { login: { ...loginDefinition, limit: 2 } } });
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await api("POST", "/v1/event", { auth: admin, body: { eventId: "login", userId: "alice" } }));
    expect(results.map((r) => r.json.data.points)).toEqual([5, 5, 0]);
    expect(results[2]!.json).toMatchObject({ message: "Event Limit erreicht", data: { limitReached: true, balance: 10 } });
    expect(results[2]!.json.data.reasons[0]).toMatchObject({ code: "LIMIT_REACHED", limit: 2, limitPeriod: "lifetime" });
    const rows = await eventually(async () => {
      const rows = await logRows(projectId);
      return rows.length === 3 ? rows : undefined;
    });
    expect(rows.map((r) => r.limit_reached)).toEqual([0, 0, 1]);
  });

  it("counts a daily limit per UTC day, across the midnight boundary", async () => {
    const { admin } = await setupProject({ definitions: { login: { ...loginDefinition, limit: 1, limitPeriod: "day" } } });
    const at = (timestamp: string) => api("POST", "/v1/event", { auth: admin, body: { eventId: "login", userId: "alice", timestamp } });
    expect((await at("2026-03-01T23:59:59.999Z")).json.data.limitReached).toBe(false);
    expect((await at("2026-03-01T12:00:00Z")).json.data.limitReached).toBe(true);
    expect((await at("2026-03-02T00:00:00.000Z")).json.data.limitReached).toBe(false);
    // An offset timestamp is placed in its UTC day: 01:00+02:00 is 23:00Z on March 2nd.
    expect((await at("2026-03-03T01:00:00+02:00")).json.data.limitReached).toBe(true);
  });

  it("is exact under concurrency: 50 parallel logs with limit 10 award exactly 10 times", async () => {
    const { admin } = await setupProject({ definitions: { purchase_completed: { ...purchaseDefinition, limit: 10 } } });
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) => api("POST", "/v1/event", { auth: admin, body: purchase("alice", { amount: i + 1 }) })),
    );
    expect(responses.every((r) => r.status === 200)).toBe(true);
    const awarded = responses.filter((r) => !r.json.data.limitReached);
    expect(awarded).toHaveLength(10);
    const awardedPoints = awarded.reduce((sum, r) => sum + r.json.data.points, 0);
    const user = await api("GET", "/v1/admin/users/alice", { auth: admin });
    expect(user.json.balance).toBe(awardedPoints);
    expect(Math.max(...responses.map((r) => r.json.data.balance))).toBe(awardedPoints);
  });
});

describe("POST /v1/event: errors", () => {
  it.each([
    ["missing eventId", { userId: "alice" }, "eventId"],
    ["invalid eventId", { eventId: 42, userId: "alice" }, "eventId"],
    ["missing userId", { eventId: "purchase_completed" }, "userId"],
    ["empty userId", { eventId: "purchase_completed", userId: "" }, "userId"],
    ["metadata not an object", { eventId: "purchase_completed", userId: "alice", metadata: [1] }, "metadata"],
    ["missing required metadata", { eventId: "purchase_completed", userId: "alice", metadata: {} }, "metadata.amount"],
    ["wrong metadata type", { eventId: "purchase_completed", userId: "alice", metadata: { amount: "12" } }, "metadata.amount"],
    ["bad timestamp", { eventId: "purchase_completed", userId: "alice", metadata: { amount: 1 }, timestamp: "yesterday" }, "timestamp"],
    ["future timestamp", { eventId: "purchase_completed", userId: "alice", metadata: { amount: 1 }, timestamp: "2999-01-01T00:00:00Z" }, "timestamp"],
  ])("400 for %s, naming %s", async (_name, body, path) => {
    const { admin, projectId } = await setupProject();
    const res = await api("POST", "/v1/event", { auth: admin, body });
    expect(res.status).toBe(400);
    expect(res.json.statusCode).toBe(400);
    expect(res.json.errors.map((e: { path: string }) => e.path)).toContain(path);
    const user = await api("GET", "/v1/admin/users/alice", { auth: admin });
    expect(user.json.balance).toBe(0);
    // Nothing reached the user's object: no counter, nothing waiting in its outbox, nothing in the log.
    const stub = env.USER_STATE.get(env.USER_STATE.idFromName(JSON.stringify([projectId, "alice"])));
    expect(await stub.snapshot()).toEqual({ registered: true, balance: 0, counters: {}, outbox: 0 });
    expect(await logRows(projectId)).toHaveLength(0);
  });

  it("400 for an inactive event", async () => {
    const { admin } = await setupProject();
    await api("DELETE", "/v1/admin/events/purchase_completed", { auth: admin });
    const res = await api("POST", "/v1/event", { auth: admin, body: purchase("alice") });
    expect(res.status).toBe(400);
    expect(res.json.message).toMatch(/not active/);
  });

  it("403 for a user token acting for someone else, or backfilling", async () => {
    const { projectId } = await setupProject({ users: { alice: [], bob: [] } });
    const alice = { bearer: await userToken(projectId, "alice") };
    expect((await api("POST", "/v1/event", { auth: alice, body: purchase("bob") })).status).toBe(403);
    const backfill = await api("POST", "/v1/event", { auth: alice, body: { ...purchase("alice"), timestamp: "2026-01-01T00:00:00Z" } });
    expect(backfill.status).toBe(403);
  });

  it("403 for an event that requires an API key, unless an API key is used", async () => {
    const { admin, projectId } = await setupProject({
      definitions: { card_displayed: { title: "Card", reward: { default: 1 }, requiresApiKey: true } },
    });
    const body = { eventId: "card_displayed", userId: "alice" };
    expect((await api("POST", "/v1/event", { auth: admin, body })).status).toBe(403);
    expect((await api("POST", "/v1/event", { auth: { bearer: await userToken(projectId, "alice") }, body })).status).toBe(403);
    const key = (await api("POST", "/v1/admin/api-keys", { auth: admin, body: { name: "pos" } })).json.key;
    expect((await api("POST", "/v1/event", { auth: { apiKey: key }, body })).status).toBe(200);
  });

  it("401 without credentials", async () => {
    expect((await api("POST", "/v1/event", { body: purchase("alice") })).status).toBe(401);
  });

  it("404 for an unknown event, an unregistered user, or a user of another project", async () => {
    const a = await setupProject();
    const b = await setupProject({ users: { bob: [] } });
    expect((await api("GET", "/v1/admin/users/bob", { auth: b.admin })).status).toBe(200);
    const unknownEvent = await api("POST", "/v1/event", { auth: a.admin, body: { eventId: "nope", userId: "alice" } });
    expect(unknownEvent.status).toBe(404);
    const unknownUser = await api("POST", "/v1/event", { auth: a.admin, body: purchase("ghost") });
    expect(unknownUser.status).toBe(404);
    expect(unknownUser.json).toEqual({ statusCode: 404, message: expect.stringMatching(/not registered/) });
    // bob exists only in project b; project a's token cannot log for him even with a crafted token for bob.
    const bobInA = { bearer: await token({ sub: "bob", projectId: a.projectId, role: "user" }) };
    expect((await api("POST", "/v1/event", { auth: bobInA, body: purchase("bob") })).status).toBe(404);
  });

  it("400 for an Idempotency-Key over 255 characters", async () => {
    const { admin } = await setupProject();
    const res = await api("POST", "/v1/event", { auth: admin, body: purchase("alice"), headers: { "idempotency-key": "k".repeat(256) } });
    expect(res.status).toBe(400);
    expect(res.json.errors[0].path).toBe("Idempotency-Key");
  });

  it("never answers 500, whatever the body", async () => {
    const { admin } = await setupProject();
    const metadata = fc.dictionary(fc.oneof(fc.constant("amount"), fc.constant("usergroup"), fc.string()), fc.jsonValue());
    const body = fc.oneof(
      fc.jsonValue(),
      fc.record(
        {
          eventId: fc.oneof(fc.constant("purchase_completed"), fc.string(), fc.jsonValue()),
          userId: fc.oneof(fc.constant("alice"), fc.string(), fc.jsonValue()),
          metadata: fc.oneof(metadata, fc.jsonValue()),
          timestamp: fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.string()),
        },
        { requiredKeys: [] },
      ),
    );
    await fc.assert(
      fc.asyncProperty(body, async (value) => {
        const res = await api("POST", "/v1/event", { auth: admin, rawBody: JSON.stringify(value) });
        expect(res.status, res.text).toBeLessThan(500);
        expect(res.json?.statusCode).toBe(res.status);
      }),
      { numRuns: 150 },
    );
  });
});

describe("POST /v1/event: idempotency", () => {
  it("replays the first response without awarding again, and 422s a different body", async () => {
    const { admin } = await setupProject();
    const headers = { "idempotency-key": "order-1" };
    const first = await api("POST", "/v1/event", { auth: admin, body: purchase("alice", { amount: 20 }), headers });
    const again = await api("POST", "/v1/event", { auth: admin, body: { metadata: { amount: 20 }, userId: "alice", eventId: "purchase_completed" }, headers });
    expect(again.status).toBe(200);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    expect(again.json).toEqual(first.json);
    const conflict = await api("POST", "/v1/event", { auth: admin, body: purchase("alice", { amount: 21 }), headers });
    expect(conflict.status).toBe(422);
    expect(conflict.json.statusCode).toBe(422);
    expect((await api("GET", "/v1/admin/users/alice", { auth: admin })).json.balance).toBe(20);
  });

  it("scopes keys per user and replays concurrent duplicates exactly once", async () => {
    const { admin } = await setupProject({ users: { alice: [], bob: [] } });
    const headers = { "idempotency-key": "same-key" };
    const responses = await Promise.all(
      Array.from({ length: 10 }, () => api("POST", "/v1/event", { auth: admin, body: purchase("alice", { amount: 7 }), headers })),
    );
    expect(responses.filter((r) => r.headers.get("idempotent-replayed") === "true")).toHaveLength(9);
    const bob = await api("POST", "/v1/event", { auth: admin, body: purchase("bob", { amount: 7 }), headers });
    expect(bob.headers.get("idempotent-replayed")).toBeNull();
    expect((await api("GET", "/v1/admin/users/alice", { auth: admin })).json.balance).toBe(7);
  });

  it("stores nothing for a request that failed validation", async () => {
    const { admin } = await setupProject();
    const headers = { "idempotency-key": "retry-me" };
    expect((await api("POST", "/v1/event", { auth: admin, body: purchase("alice", {}), headers })).status).toBe(400);
    const fixed = await api("POST", "/v1/event", { auth: admin, body: purchase("alice", { amount: 3 }), headers });
    expect(fixed.status).toBe(200);
    expect(fixed.headers.get("idempotent-replayed")).toBeNull();
    expect(fixed.json.data.points).toBe(3);
  });
});

describe("POST /v1/events/batch", () => {
  it("answers one result per item, in order, with per-item errors and idempotency keys", async () => {
    const { admin, projectId } = await setupProject({ users: { alice: [], bob: ["gold"] } });
    const events = [
      purchase("alice", { amount: 10 }),
      { eventId: "purchase_completed" },
      purchase("bob", { amount: 10 }),
      purchase("ghost", { amount: 1 }),
      { eventId: "nope", userId: "alice" },
      { ...purchase("alice", { amount: 5 }), idempotencyKey: "b-1" },
      { ...purchase("alice", { amount: 5 }), idempotencyKey: "b-1" },
      purchase("alice", { amount: "x" }),
    ];
    const res = await api("POST", "/v1/events/batch", { auth: admin, body: { events } });
    expect(res.status).toBe(200);
    const results = res.json.results;
    expect(results.map((r: { statusCode: number }) => r.statusCode)).toEqual([200, 400, 200, 404, 404, 200, 200, 400]);
    expect(results[0].data).toMatchObject({ userId: "alice", points: 10, balance: 10 });
    expect(results[1].errors[0].path).toBe("events.1.userId");
    expect(results[2].data).toMatchObject({ userId: "bob", points: 20 });
    expect(results[5].data.balance).toBe(15);
    expect(results[6]).toEqual(results[5]);
    expect(results[7].errors[0].path).toBe("metadata.amount");
    const rows = await eventually(async () => {
      const rows = await logRows(projectId);
      return rows.length === 3 ? rows : undefined;
    });
    expect(rows.map((r) => r.user_id).sort()).toEqual(["alice", "alice", "bob"]);
  });

  it("rejects an empty or oversized batch", async () => {
    const { admin } = await setupProject();
    expect((await api("POST", "/v1/events/batch", { auth: admin, body: { events: [] } })).status).toBe(400);
    const tooMany = Array.from({ length: 1001 }, () => ({ eventId: "a", userId: "b" }));
    const res = await api("POST", "/v1/events/batch", { auth: admin, body: { events: tooMany } });
    expect(res.status).toBe(400);
    expect(res.json.errors[0].path).toBe("events");
  });
});

describe("the event log", () => {
  it("receives every logged event with what the ledger and stats need", async () => {
    const { admin, projectId } = await setupProject({ users: { alice: ["gold"] } });
    await api("POST", "/v1/event", { auth: admin, body: purchase("alice", { amount: 12.5 }), headers: { "idempotency-key": "i-1" } });
    const [row] = await eventually(async () => {
      const rows = await logRows(projectId);
      return rows.length === 1 ? rows : undefined;
    });
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
    let d1Calls = 0;
    const countingDb = new Proxy(env.DB, {
      get(target, property) {
        const value = Reflect.get(target, property);
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          d1Calls += 1;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const post = async () => {
      const request = new Request("http://api.test/v1/event", {
        method: "POST",
        headers: { authorization: `Bearer ${(admin as { bearer: string }).bearer}`, "content-type": "application/json" },
        body: JSON.stringify(purchase("alice", { amount: 5 })),
      });
      return app.fetch(request, { ...env, DB: countingDb });
    };
    expect((await post()).status).toBe(200); // warms the isolate's definitions cache...
    expect(d1Calls).toBeGreaterThan(0); // ...through D1, so the counter does see D1 use
    d1Calls = 0;
    for (let i = 0; i < 20; i++) expect((await post()).status).toBe(200);
    expect(d1Calls).toBe(0);
  });
});

describe("POST /v1/event: hostile input", () => {
  it("400s a transaction value whose points could not stay exact, and nested metadata", async () => {
    const { admin } = await setupProject();
    const huge = await api("POST", "/v1/event", { auth: admin, body: purchase("alice", { amount: 1e16 }) });
    expect(huge.status).toBe(400);
    expect(huge.json.errors[0].path).toBe("metadata.amount");
    let deep: unknown = 1;
    for (let i = 0; i < 20_000; i++) deep = [deep];
    const nested = await api("POST", "/v1/event", { auth: admin, body: purchase("alice", { amount: 1, deep }) });
    expect(nested.status).toBe(400);
    expect(nested.json.errors[0].path).toBe("metadata");
    const attributes = await api("PUT", "/v1/admin/users/alice", { auth: admin, body: { attributes: { deep } } });
    expect(attributes.status).toBe(400);
    const old = await api("POST", "/v1/event", { auth: admin, body: { ...purchase("alice"), timestamp: "0001-01-01T00:00:00Z" } });
    expect(old.status).toBe(400);
    expect(old.json.errors[0].path).toBe("timestamp");
  });

  it("summarises large values in reasons, so logged events stay small", async () => {
    const { admin, projectId } = await setupProject({
      definitions: {
        tagged: {
          title: "Tagged",
          reward: { default: 1 },
          conditions: { type: "OR", conditions: [{ field: "items", operator: "contains", value: "gift" }] },
        },
      },
    });
    const items = Array.from({ length: 5000 }, (_, i) => `item-${i}`);
    const res = await api("POST", "/v1/event", { auth: admin, body: { eventId: "tagged", userId: "alice", metadata: { items } } });
    expect(res.status).toBe(200);
    expect(res.json.data.reasons[0]).toMatchObject({ code: "CONDITION_NOT_MET", actual: "[array of 5000]" });
    await eventually(async () => ((await logRows(projectId)).length === 1 ? true : undefined));
  });

  it("answers 503 for the items of a user whose object fails, and keeps the other results", async () => {
    const { admin, projectId } = await setupProject({ users: { alice: [], bob: [] } });
    const broken = env.USER_STATE.idFromName(JSON.stringify([projectId, "bob"]));
    const namespace = {
      idFromName: (name: string) => env.USER_STATE.idFromName(name),
      get: (id: DurableObjectId) =>
        id.equals(broken)
          ? { logEvents: async () => Promise.reject(new Error("Durable Object overloaded")) }
          : env.USER_STATE.get(id),
    } as unknown as Env["USER_STATE"];
    const request = new Request("http://api.test/v1/events/batch", {
      method: "POST",
      headers: { authorization: `Bearer ${(admin as { bearer: string }).bearer}`, "content-type": "application/json" },
      body: JSON.stringify({ events: [purchase("alice", { amount: 2 }), purchase("bob", { amount: 2 })] }),
    });
    const res = await createApp().fetch(request, { ...env, USER_STATE: namespace });
    expect(res.status).toBe(200);
    const { results } = (await res.json()) as { results: Array<{ statusCode: number }> };
    expect(results.map((r) => r.statusCode)).toEqual([200, 503]);
  });
});

const nest = (levels: number): unknown => {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) value = [value];
  return value;
};

describe("POST /v1/event: boundaries", () => {
  it.each([
    ["transaction value 1e9", { amount: 1e9 }, 200],
    ["transaction value just over 1e9", { amount: 1e9 + 1 }, 400],
    ["metadata nested 32 levels", { amount: 1, deep: nest(31) }, 200],
    ["metadata nested 33 levels", { amount: 1, deep: nest(32) }, 400],
  ])("%s answers %i", async (_name, metadata, status) => {
    const { admin } = await setupProject();
    expect((await api("POST", "/v1/event", { auth: admin, body: purchase("alice", metadata) })).status).toBe(status);
  });

  it.each([
    ["4 minutes ahead", 4 * 60_000, 200],
    ["6 minutes ahead", 6 * 60_000, 400],
    ["9 years back", -9 * 365 * 86_400_000, 200],
    ["11 years back", -11 * 365 * 86_400_000, 400],
  ])("a timestamp %s answers %i", async (_name, offsetMs, status) => {
    const { admin } = await setupProject();
    const timestamp = new Date(Date.now() + offsetMs).toISOString();
    expect((await api("POST", "/v1/event", { auth: admin, body: { ...purchase("alice"), timestamp } })).status).toBe(status);
  });

  it("accepts a body of just under 64 KiB", async () => {
    const { admin } = await setupProject();
    const overhead = JSON.stringify(purchase("alice", { amount: 1, blob: "" })).length;
    const body = purchase("alice", { amount: 1, blob: "x".repeat(64 * 1024 - overhead) });
    expect(JSON.stringify(body).length).toBe(64 * 1024);
    expect((await api("POST", "/v1/event", { auth: admin, body })).status).toBe(200);
  });

  it("answers 422 rather than let a balance leave the exact integer range", async () => {
    const { admin } = await setupProject({
      definitions: { big: { title: "Big", type: "TRANSACTION", rewardValueField: "amount", reward: { default: 1e6 } } },
    });
    const log = () => api("POST", "/v1/event", { auth: admin, body: { eventId: "big", userId: "alice", metadata: { amount: 1e9 } } });
    for (let i = 0; i < 9; i++) expect((await log()).status).toBe(200);
    const overflow = await log();
    expect(overflow.status).toBe(422);
    expect((await api("GET", "/v1/admin/users/alice", { auth: admin })).json.balance).toBe(9e15);
  });

  it("400s an empty Idempotency-Key", async () => {
    const { admin } = await setupProject();
    const res = await api("POST", "/v1/event", { auth: admin, body: purchase("alice"), headers: { "idempotency-key": "" } });
    expect(res.status).toBe(400);
  });

  it("checks requiresApiKey (403) before metadata (400)", async () => {
    const { admin } = await setupProject({
      definitions: {
        pos: { title: "POS", reward: { default: 1 }, requiresApiKey: true, metadataFields: [{ key: "store", type: "string", required: true }] },
      },
    });
    expect((await api("POST", "/v1/event", { auth: admin, body: { eventId: "pos", userId: "alice" } })).status).toBe(403);
  });

  it("applies a weekly limit per ISO week (Monday to Sunday, UTC)", async () => {
    const { admin } = await setupProject({ definitions: { quiz: { title: "Quiz", reward: { default: 3 }, limit: 1, limitPeriod: "week" } } });
    const at = async (timestamp: string) =>
      (await api("POST", "/v1/event", { auth: admin, body: { eventId: "quiz", userId: "alice", timestamp } })).json.data.limitReached;
    expect(await at("2026-03-01T23:00:00Z")).toBe(false); // Sunday of week 9
    expect(await at("2026-02-23T00:00:00Z")).toBe(true); // Monday of week 9
    expect(await at("2026-03-02T00:00:00Z")).toBe(false); // Monday of week 10
  });

  it("lists at most 10 failed conditions", async () => {
    const conditions = Array.from({ length: 15 }, (_, i) => ({ field: `f${i}`, operator: "exists" }));
    const { admin } = await setupProject({ definitions: { many: { title: "Many", reward: { default: 1 }, conditions: { type: "AND", conditions } } } });
    const res = await api("POST", "/v1/event", { auth: admin, body: { eventId: "many", userId: "alice" } });
    expect(res.json.data.reasons).toHaveLength(10);
    expect(res.json.data.reasons[9]).toMatchObject({ code: "CONDITION_NOT_MET", field: "f9" });
  });

  it("accepts a 1000-event batch beyond 64 KiB", async () => {
    const { admin } = await setupProject({ users: { alice: [], bob: [] } });
    const events = Array.from({ length: 1000 }, (_, i) => purchase(i % 2 ? "alice" : "bob", { amount: 1, note: "n".repeat(40) }));
    expect(JSON.stringify({ events }).length).toBeGreaterThan(64 * 1024);
    const res = await api("POST", "/v1/events/batch", { auth: admin, body: { events } });
    expect(res.status).toBe(200);
    expect(res.json.results.filter((r: { statusCode: number }) => r.statusCode === 200)).toHaveLength(1000);
  });
});

describe("definition changes", () => {
  it("records the definition version with each logged event", async () => {
    const { admin, projectId } = await setupProject();
    await api("PUT", "/v1/admin/events/purchase_completed", { auth: admin, body: { ...purchaseDefinition, title: "Purchase v2" } });
    const res = await api("POST", "/v1/event", { auth: admin, body: purchase("alice", { amount: 4 }) });
    expect(res.json.data.title).toBe("Purchase v2");
    const [row] = await eventually(async () => {
      const rows = await logRows(projectId);
      return rows.length === 1 ? rows : undefined;
    });
    expect(row!.definition_version).toBe(2);
  });

  it("still replays an idempotent retry after the event was deactivated", async () => {
    const { admin } = await setupProject();
    const headers = { "idempotency-key": "before-deactivation" };
    const first = await api("POST", "/v1/event", { auth: admin, body: purchase("alice", { amount: 8 }), headers });
    expect(first.status).toBe(200);
    await api("DELETE", "/v1/admin/events/purchase_completed", { auth: admin });
    const retry = await api("POST", "/v1/event", { auth: admin, body: purchase("alice", { amount: 8 }), headers });
    expect(retry.status).toBe(200);
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    expect(retry.json).toEqual(first.json);
    const fresh = await api("POST", "/v1/event", { auth: admin, body: purchase("alice", { amount: 8 }), headers: { "idempotency-key": "after" } });
    expect(fresh.status).toBe(400);
    const conflicting = await api("POST", "/v1/event", { auth: admin, body: purchase("alice", { amount: 9 }), headers });
    expect(conflicting.status).toBe(422);
    const unregistered = await api("POST", "/v1/event", { auth: admin, body: purchase("nobody", { amount: 8 }), headers });
    expect(unregistered.status).toBe(400);
  });
});
