import { createExecutionContext, createMessageBatch, evictDurableObject, getQueueResult, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { EventLoggedEnvelope } from "../../src/domain/logged-event";
import { handleQueueBatch } from "../../src/queue/consumer";
import { api, POLL, purchaseDefinition, replaceObjectQueue, setupProject, unavailableQueue, userObject } from "../helpers";
import { OF_PROJECT } from "../log-rows";

const countLogged = async (projectId: string) =>
  (await env.DB.prepare(`SELECT COUNT(*) AS n FROM event_log WHERE ${OF_PROJECT}`).bind(projectId).first<{ n: number }>())!.n;

describe("UserState outbox", () => {
  it("keeps a logged event durable when the queue send fails, and the alarm delivers it exactly once", async () => {
    const { admin, projectId } = await setupProject({ definitions: { purchase_completed: purchaseDefinition } });
    const stub = userObject(projectId, "alice");
    const repair = await replaceObjectQueue(stub, unavailableQueue);

    const res = await api("POST", "/v1/event", {
      auth: admin,
      body: { eventId: "purchase_completed", userId: "alice", metadata: { amount: 12 } },
    });
    expect(res.status).toBe(200);
    expect((await stub.snapshot()).outbox).toBe(1);
    const pending = await runInDurableObject(stub, (_instance, state) =>
      state.storage.sql
        .exec<{ body: string }>("SELECT body FROM outbox")
        .toArray()
        .map((row) => JSON.parse(row.body)),
    );

    // The alarm was scheduled with the write; while the queue is down it keeps the row and reschedules.
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await stub.snapshot()).outbox).toBe(1);

    // The queue is back and the row's backoff has passed (as when the alarm fires at its time).
    await repair();
    await runInDurableObject(stub, (_instance, state) => {
      state.storage.sql.exec("UPDATE outbox SET next_attempt_at = 1 WHERE next_attempt_at > 1");
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await stub.snapshot()).outbox).toBe(0);
    await expect.poll(() => countLogged(projectId), POLL).toBe(1);

    // A redelivery of the same event (say the send succeeded but the delete was lost) is ignored by the consumer.
    const batch = createMessageBatch("loyalty-events", [{ id: "redelivered-1", timestamp: new Date(), attempts: 2, body: pending[0] }]);
    const ctx = createExecutionContext();
    await handleQueueBatch(batch, env);
    expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual(["redelivered-1"]);
    expect(await countLogged(projectId)).toBe(1);
    expect((await stub.snapshot()).balance).toBe(12);
  });

  it("stands down the alarm of the first log after a start once it sent everything; later logs keep one armed", async () => {
    const { admin, projectId } = await setupProject({ definitions: { purchase_completed: purchaseDefinition } });
    const stub = userObject(projectId, "alice");
    const log = () => api("POST", "/v1/event", { auth: admin, body: { eventId: "purchase_completed", userId: "alice", metadata: { amount: 5 } } });
    const pendingAlarm = () => runInDurableObject(stub, (_instance, state) => state.storage.getAlarm());
    await evictDurableObject(stub);
    expect((await log()).status).toBe(200);
    // Sent and nothing due: no alarm would find anything to do 30 s later (it would only start the object again).
    expect(await pendingAlarm()).toBeNull();
    expect((await stub.snapshot()).outbox).toBe(0);
    // The object is warm now: its next log keeps the backstop armed across calls (one write per 30 s).
    expect((await log()).status).toBe(200);
    expect(await pendingAlarm()).toEqual(expect.any(Number));
    await expect.poll(() => countLogged(projectId), POLL).toBe(2);
  });

  it("survives eviction: counters and balance are durable", async () => {
    const { admin, projectId } = await setupProject({
      definitions: { purchase_completed: { ...purchaseDefinition, limit: 2 } },
    });
    const stub = userObject(projectId, "alice");
    const log = () =>
      api<EventLoggedEnvelope>("POST", "/v1/event", { auth: admin, body: { eventId: "purchase_completed", userId: "alice", metadata: { amount: 3 } } });
    await log();
    await evictDurableObject(stub);
    await log();
    await evictDurableObject(stub);
    expect((await log()).json.data).toMatchObject({ limitReached: true, balance: 6 });
    expect(await stub.snapshot()).toMatchObject({ registered: true, balance: 6, counters: { "purchase_completed/lifetime": 2 } });
  });

  it("re-registers from D1 when the object never got the registration", async () => {
    const { admin, projectId } = await setupProject({ users: {} });
    // Simulate a registration whose Durable Object write was lost: the row exists only in D1.
    await env.DB.prepare("INSERT INTO users (project_key, user_id, usergroups, attributes, updated_at) VALUES (?, 'zoe', '[\"gold\"]', '{}', 'x')")
      .bind(projectId)
      .run();
    const res = await api<EventLoggedEnvelope>("POST", "/v1/event", {
      auth: admin,
      body: { eventId: "purchase_completed", userId: "zoe", metadata: { amount: 10 } },
    });
    expect(res.status).toBe(200);
    expect(res.json.data).toMatchObject({ userGroupId: "gold", points: 20 });
  });
});
