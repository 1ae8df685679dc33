import { describe, expect, it } from "vitest";
import type { EventLoggedEnvelope } from "../../src/domain/logged-event";
import type { UserBody } from "../../src/routes/admin-users";
import { api, purchaseDefinition, setupProject } from "../helpers";
import { logRowsWhen, purchase } from "./log-helpers";

describe("POST /v1/event: idempotency", () => {
  it("replays the first response without awarding again, and 422s a different body", async () => {
    const { admin } = await setupProject();
    const headers = { "idempotency-key": "order-1" };
    const first = await api<EventLoggedEnvelope>("POST", "/v1/event", { auth: admin, body: purchase("alice", { amount: 20 }), headers });
    const again = await api<EventLoggedEnvelope>("POST", "/v1/event", {
      auth: admin,
      body: { metadata: { amount: 20 }, userId: "alice", eventId: "purchase_completed" },
      headers,
    });
    expect(again.status).toBe(200);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    expect(again.json).toEqual(first.json);
    const conflict = await api("POST", "/v1/event", { auth: admin, body: purchase("alice", { amount: 21 }), headers });
    expect(conflict.status).toBe(422);
    expect(conflict.json.statusCode).toBe(422);
    expect((await api<UserBody>("GET", "/v1/admin/users/alice", { auth: admin })).json.balance).toBe(20);
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
    expect((await api<UserBody>("GET", "/v1/admin/users/alice", { auth: admin })).json.balance).toBe(7);
  });

  it("stores nothing for a request that failed validation", async () => {
    const { admin } = await setupProject();
    const headers = { "idempotency-key": "retry-me" };
    expect((await api("POST", "/v1/event", { auth: admin, body: purchase("alice", {}), headers })).status).toBe(400);
    const fixed = await api<EventLoggedEnvelope>("POST", "/v1/event", { auth: admin, body: purchase("alice", { amount: 3 }), headers });
    expect(fixed.status).toBe(200);
    expect(fixed.headers.get("idempotent-replayed")).toBeNull();
    expect(fixed.json.data.points).toBe(3);
  });
});

describe("definition changes", () => {
  it("records the definition version with each logged event", async () => {
    const { admin, projectId } = await setupProject();
    await api("PUT", "/v1/admin/events/purchase_completed", { auth: admin, body: { ...purchaseDefinition, title: "Purchase v2" } });
    const res = await api<EventLoggedEnvelope>("POST", "/v1/event", { auth: admin, body: purchase("alice", { amount: 4 }) });
    expect(res.json.data.title).toBe("Purchase v2");
    const [row] = await logRowsWhen(projectId, 1);
    expect(row!.definition_version).toBe(2);
  });

  it("still replays an idempotent retry after the event was deactivated", async () => {
    const { admin } = await setupProject();
    const headers = { "idempotency-key": "before-deactivation" };
    const first = await api<EventLoggedEnvelope>("POST", "/v1/event", { auth: admin, body: purchase("alice", { amount: 8 }), headers });
    expect(first.status).toBe(200);
    await api("DELETE", "/v1/admin/events/purchase_completed", { auth: admin });
    const retry = await api<EventLoggedEnvelope>("POST", "/v1/event", { auth: admin, body: purchase("alice", { amount: 8 }), headers });
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
