import { describe, expect, it } from "vitest";
import type { EventLoggedEnvelope } from "../../src/domain/logged-event";
import type { UserBody } from "../../src/routes/admin-users";
import type { BatchResponseBody } from "../../src/routes/event-log";
import { api, purchaseDefinition, setupProject, userObject, userToken } from "../helpers";
import { nest, purchase } from "./log-helpers";

describe("POST /v1/event: the spec's 200", () => {
  it("awards transaction points rounded half up and answers the spec's envelope plus balance and reasons", async () => {
    const { projectId } = await setupProject();
    const user = { bearer: await userToken(projectId, "alice") };
    const res = await api<EventLoggedEnvelope>("POST", "/v1/event", {
      auth: user,
      body: purchase("alice", { amount: 49.99, currency: "EUR", usergroup: ["default"], source: "web" }),
    });
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
        streaks: [],
        challenges: [],
        reward: { rewardType: "LOYALTY_POINTS", rewardAmount: 50, rewardCurrency: "EUR", customerMessage: null },
      },
    });
  });

  it("caps a log at maximumReward", async () => {
    const { admin } = await setupProject();
    const res = await api<EventLoggedEnvelope>("POST", "/v1/event", { auth: admin, body: purchase("alice", { amount: 5000 }) });
    expect(res.json.data).toMatchObject({ points: 1000, balance: 1000 });
    expect(res.json.data.reasons).toEqual([{ code: "MAXIMUM_REWARD_APPLIED", uncappedPoints: 5000, maximumReward: 1000 }]);
    // Re-registering (say, new usergroups) keeps the balance and reports it.
    const updated = await api<UserBody>("PUT", "/v1/admin/users/alice", { auth: admin, body: { usergroups: ["gold"] } });
    expect(updated.json).toMatchObject({ usergroups: ["gold"], balance: 1000 });
  });

  it("chooses the usergroup from metadata first, then the registered groups, then default", async () => {
    const { admin } = await setupProject({ users: { alice: [], bob: ["silver", "gold"] } });
    const viaMetadata = await api<EventLoggedEnvelope>("POST", "/v1/event", {
      auth: admin,
      body: purchase("alice", { amount: 10, usergroup: ["vip", "gold"] }),
    });
    expect(viaMetadata.json.data).toMatchObject({ userGroupId: "gold", points: 20 });
    const viaString = await api<EventLoggedEnvelope>("POST", "/v1/event", { auth: admin, body: purchase("alice", { amount: 10, usergroup: "gold" }) });
    expect(viaString.json.data.userGroupId).toBe("gold");
    const viaRegistration = await api<EventLoggedEnvelope>("POST", "/v1/event", { auth: admin, body: purchase("bob", { amount: 10 }) });
    expect(viaRegistration.json.data).toMatchObject({ userGroupId: "gold", points: 20 });
    const fallback = await api<EventLoggedEnvelope>("POST", "/v1/event", { auth: admin, body: purchase("alice", { amount: 10, usergroup: ["vip"] }) });
    expect(fallback.json.data).toMatchObject({ userGroupId: "default", points: 10 });
  });

  it("lets a user token choose only its own usergroups or default (403 naming metadata.usergroup, nothing written); admins any", async () => {
    const { admin, projectId } = await setupProject({ users: { alice: [], bob: ["gold"], carol: [] } });
    const alice = { bearer: await userToken(projectId, "alice") };
    const bob = { bearer: await userToken(projectId, "bob") };
    const asAlice = (usergroup: unknown, key?: string) =>
      api<EventLoggedEnvelope>("POST", "/v1/event", {
        auth: alice,
        body: purchase("alice", { amount: 10, usergroup }),
        headers: key ? { "idempotency-key": key } : {},
      });

    for (const usergroup of ["gold", ["default", "gold"], ["vip"]]) {
      const refused = await asAlice(usergroup, "g-1");
      expect(refused.status, JSON.stringify(usergroup)).toBe(403);
      expect(refused.json).toMatchObject({
        statusCode: 403,
        errors: [{ path: "metadata.usergroup", message: expect.stringMatching(/\(not in: (gold|vip)\)$/) }],
      });
    }
    // Nothing was written: no balance, no limit use, nothing queued, and no idempotency record.
    expect(await userObject(projectId, "alice").snapshot()).toEqual({ registered: true, balance: 0, counters: {}, outbox: 0 });
    expect((await api<UserBody>("GET", "/v1/admin/users/alice", { auth: admin })).json.balance).toBe(0);

    // Her own groups and default are hers to choose.
    expect((await asAlice("default")).json.data).toMatchObject({ userGroupId: "default", points: 10, balance: 10 });
    const own = await api<EventLoggedEnvelope>("POST", "/v1/event", { auth: bob, body: purchase("bob", { amount: 10, usergroup: ["gold"] }) });
    expect(own.json.data).toMatchObject({ userGroupId: "gold", points: 20 });
    // Once she is in gold, the refused request (same key) logs: the refusal stored no idempotency record.
    await api("PUT", "/v1/admin/users/alice", { auth: admin, body: { usergroups: ["gold"] } });
    const joined = await asAlice("gold", "g-1");
    expect(joined.headers.get("idempotent-replayed")).toBeNull();
    expect(joined.json.data).toMatchObject({ userGroupId: "gold", points: 20, balance: 30 });

    // Server credentials choose any group, as before.
    const byAdmin = await api<EventLoggedEnvelope>("POST", "/v1/event", {
      auth: admin,
      body: purchase("bob", { amount: 10, usergroup: ["vip", "silver", "default"] }),
    });
    expect(byAdmin.json.data).toMatchObject({ userGroupId: "default", points: 10 });
    const carol = await api<EventLoggedEnvelope>("POST", "/v1/event", { auth: admin, body: purchase("carol", { amount: 10, usergroup: "gold" }) });
    expect(carol.json.data).toMatchObject({ userGroupId: "gold", points: 20 });
  });

  it("logs a failed condition with no points and no limit use", async () => {
    const { admin } = await setupProject({ definitions: { purchase_completed: { ...purchaseDefinition, limit: 1 } } });
    const failed = await api<EventLoggedEnvelope>("POST", "/v1/event", { auth: admin, body: purchase("alice", { amount: -3 }) });
    expect(failed.status).toBe(200);
    expect(failed.json.message).toBe("Event erfolgreich geloggt");
    expect(failed.json.data).toMatchObject({ points: 0, conditionReached: false, limitReached: false, balance: 0 });
    expect(failed.json.data.reasons).toEqual([{ code: "CONDITION_NOT_MET", field: "amount", operator: "greater_than", expected: 0, actual: -3 }]);
    // The limit of 1 is still unused.
    const rewarded = await api<EventLoggedEnvelope>("POST", "/v1/event", { auth: admin, body: purchase("alice", { amount: 2 }) });
    expect(rewarded.json.data).toMatchObject({ points: 2, limitReached: false });
  });
});

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

  it("accepts a body of exactly 64 KiB and refuses one byte more (metadata has its own, smaller cap)", async () => {
    const { admin } = await setupProject();
    const attributes = (bytes: number) => {
      const overhead = JSON.stringify({ attributes: { blob: "" } }).length;
      return JSON.stringify({ attributes: { blob: "x".repeat(bytes - overhead) } });
    };
    expect(attributes(64 * 1024)).toHaveLength(64 * 1024);
    expect((await api("PUT", "/v1/admin/users/alice", { auth: admin, rawBody: attributes(64 * 1024) })).status).toBe(200);
    expect((await api("PUT", "/v1/admin/users/alice", { auth: admin, rawBody: attributes(64 * 1024 + 1) })).status).toBe(413);
  });

  it("answers 422 rather than let a balance leave the exact integer range", async () => {
    const { admin } = await setupProject({
      definitions: { big: { title: "Big", type: "TRANSACTION", rewardValueField: "amount", reward: { default: 1e6 } } },
    });
    const log = () => api("POST", "/v1/event", { auth: admin, body: { eventId: "big", userId: "alice", metadata: { amount: 1e9 } } });
    for (let i = 0; i < 9; i++) expect((await log()).status).toBe(200);
    const overflow = await log();
    expect(overflow.status).toBe(422);
    expect((await api<UserBody>("GET", "/v1/admin/users/alice", { auth: admin })).json.balance).toBe(9e15);
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
      (await api<EventLoggedEnvelope>("POST", "/v1/event", { auth: admin, body: { eventId: "quiz", userId: "alice", timestamp } })).json.data.limitReached;
    expect(await at("2026-03-01T23:00:00Z")).toBe(false); // Sunday of week 9
    expect(await at("2026-02-23T00:00:00Z")).toBe(true); // Monday of week 9
    expect(await at("2026-03-02T00:00:00Z")).toBe(false); // Monday of week 10
  });

  it("lists at most 10 failed conditions", async () => {
    const conditions = Array.from({ length: 15 }, (_, i) => ({ field: `f${i}`, operator: "exists" }));
    const { admin } = await setupProject({ definitions: { many: { title: "Many", reward: { default: 1 }, conditions: { type: "AND", conditions } } } });
    const res = await api<EventLoggedEnvelope>("POST", "/v1/event", { auth: admin, body: { eventId: "many", userId: "alice" } });
    expect(res.json.data.reasons).toHaveLength(10);
    expect(res.json.data.reasons[9]).toMatchObject({ code: "CONDITION_NOT_MET", field: "f9" });
  });

  it("accepts a 1000-event batch beyond 64 KiB", async () => {
    const { admin } = await setupProject({ users: { alice: [], bob: [] } });
    const events = Array.from({ length: 1000 }, (_, i) => purchase(i % 2 ? "alice" : "bob", { amount: 1, note: "n".repeat(40) }));
    expect(JSON.stringify({ events }).length).toBeGreaterThan(64 * 1024);
    const res = await api<BatchResponseBody>("POST", "/v1/events/batch", { auth: admin, body: { events } });
    expect(res.status).toBe(200);
    expect(res.json.results.filter((r) => r.statusCode === 200)).toHaveLength(1000);
  });
});
