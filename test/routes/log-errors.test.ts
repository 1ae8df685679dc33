import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { EventLoggedEnvelope } from "../../src/domain/logged-event";
import { userStateName } from "../../src/durable/stub";
import type { ErrorEnvelope } from "../../src/http/errors";
import type { UserBody } from "../../src/routes/admin-users";
import type { CreatedApiKeyBody } from "../../src/routes/api-keys";
import type { BatchResponseBody } from "../../src/routes/event-log";
import { api, setupProject, token, unreachableUserObjects, userObject, userToken } from "../helpers";
import { logRows, logRowsWhen, purchase } from "./log-helpers";

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
    expect(res.json.errors!.map((e) => e.path)).toContain(path);
    const user = await api<UserBody>("GET", "/v1/admin/users/alice", { auth: admin });
    expect(user.json.balance).toBe(0);
    // Nothing reached the user's object: no counter, nothing waiting in its outbox, nothing in the log.
    const stub = userObject(projectId, "alice");
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
    const key = (await api<CreatedApiKeyBody>("POST", "/v1/admin/api-keys", { auth: admin, body: { name: "pos", scopes: ["events:log"] } })).json.key;
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
    expect(res.json.errors?.[0]?.path).toBe("Idempotency-Key");
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
          timestamp: fc.oneof(
            fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
            fc.string(),
          ),
        },
        { requiredKeys: [] },
      ),
    );
    await fc.assert(
      fc.asyncProperty(body, async (value) => {
        const res = await api<EventLoggedEnvelope | ErrorEnvelope>("POST", "/v1/event", { auth: admin, rawBody: JSON.stringify(value) });
        expect(res.status, res.text).toBeLessThan(500);
        expect(res.json?.statusCode).toBe(res.status);
      }),
      { numRuns: 150 },
    );
  });
});

describe("POST /v1/event: hostile input", () => {
  it("400s a transaction value whose points could not stay exact, and nested metadata", async () => {
    const { admin } = await setupProject();
    const huge = await api("POST", "/v1/event", { auth: admin, body: purchase("alice", { amount: 1e16 }) });
    expect(huge.status).toBe(400);
    expect(huge.json.errors?.[0]?.path).toBe("metadata.amount");
    let deep: unknown = 1;
    for (let i = 0; i < 20_000; i++) deep = [deep];
    const nested = await api("POST", "/v1/event", { auth: admin, body: purchase("alice", { amount: 1, deep }) });
    expect(nested.status).toBe(400);
    expect(nested.json.errors?.[0]?.path).toBe("metadata");
    const attributes = await api("PUT", "/v1/admin/users/alice", { auth: admin, body: { attributes: { deep } } });
    expect(attributes.status).toBe(400);
    const old = await api("POST", "/v1/event", { auth: admin, body: { ...purchase("alice"), timestamp: "0001-01-01T00:00:00Z" } });
    expect(old.status).toBe(400);
    expect(old.json.errors?.[0]?.path).toBe("timestamp");
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
    const items = Array.from({ length: 2500 }, (_, i) => `item-${i}`);
    const res = await api<EventLoggedEnvelope>("POST", "/v1/event", { auth: admin, body: { eventId: "tagged", userId: "alice", metadata: { items } } });
    expect(res.status).toBe(200);
    expect(res.json.data.reasons[0]).toMatchObject({ code: "CONDITION_NOT_MET", actual: "[array of 2500]" });
    await logRowsWhen(projectId, 1);
  });

  it("answers 503 for the items of a user whose object fails, and keeps the other results", async () => {
    const { admin, projectId } = await setupProject({ users: { alice: [], bob: [] } });
    const broken = env.USER_STATE.idFromName(userStateName(projectId, "bob"));
    const res = await api<BatchResponseBody>("POST", "/v1/events/batch", {
      auth: admin,
      body: { events: [purchase("alice", { amount: 2 }), purchase("bob", { amount: 2 })] },
      env: { USER_STATE: unreachableUserObjects((id) => id.equals(broken)) },
    });
    expect(res.status).toBe(200);
    expect(res.json.results.map((r) => r.statusCode)).toEqual([200, 503]);
  });
});
