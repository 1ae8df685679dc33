import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import type { LoggedEvent } from "../../src/domain/logged-event";
import { MAX_SEND_ATTEMPTS } from "../../src/durable/storage/outbox";
import type { DeadLetterBody } from "../../src/routes/admin-dead-letters";
import { api, purchaseDefinition, setupProject, userObject, type Credential } from "../helpers";

type Stub = ReturnType<typeof userObject>;

type Sent = LoggedEvent | { kind: "bundle"; items: LoggedEvent[] };
/** What a sent message holds (objects send JSON text, one message or a bundle). */
function itemsOf(sent: Sent | string): LoggedEvent[] {
  const body = (typeof sent === "string" ? JSON.parse(sent) : sent) as Sent;
  return "kind" in body && body.kind === "bundle" ? body.items : [body as LoggedEvent];
}

/** Replaces the object's queue binding: messages holding an item `refuse` picks are rejected, the others go to the real queue. */
async function filterQueue(stub: Stub, refuse: (body: LoggedEvent) => boolean) {
  await runInDurableObject(stub, (instance) => {
    const holder = instance as unknown as { env: Env };
    const real = env.EVENTS_QUEUE;
    holder.env = {
      ...holder.env,
      EVENTS_QUEUE: {
        send: async (body: Sent | string, options?: QueueSendOptions) =>
          itemsOf(body).some(refuse) ? Promise.reject(new Error("message refused")) : real.send(body, options),
        sendBatch: async (messages: Iterable<MessageSendRequest<Sent | string>>, options?: QueueSendBatchOptions) => {
          const list = [...messages];
          if (list.some((m) => itemsOf(m.body).some(refuse))) throw new Error("batch refused");
          return real.sendBatch(list, options);
        },
      } as unknown as Queue,
    };
  });
}

const logCount = async (projectId: string) =>
  (await env.DB.prepare("SELECT COUNT(*) AS n FROM event_log WHERE project_key = ?").bind(projectId).first<{ n: number }>())!.n;

const log = (admin: Credential, amount: number) =>
  api("POST", "/v1/event", { auth: admin, body: { eventId: "purchase_completed", userId: "alice", metadata: { amount } } });

describe("the outbox with a row the queue refuses", () => {
  it("keeps delivering the rows behind it, then sets it aside where an admin can see and replay it", async () => {
    const { admin, projectId } = await setupProject({ definitions: { purchase_completed: { ...purchaseDefinition, limit: 100 } } });
    const stub = userObject(projectId, "alice");
    expect((await log(admin, 1)).status).toBe(200);
    await vi.waitFor(async () => expect(await logCount(projectId)).toBe(1), { timeout: 15_000, interval: 100 });

    // A poison row at the head of the outbox (amount 666 is refused by the queue from now on).
    await filterQueue(stub, (body) => body.metadata.amount === 666);
    expect((await log(admin, 666)).status).toBe(200);
    expect((await stub.snapshot()).outbox).toBe(1);

    // Every later log is delivered although the poison row is older; each failed send counts against it (its
    // own log's send was the first), and once it failed MAX_SEND_ATTEMPTS times while others went through, it
    // is set aside.
    const later = Array.from({ length: MAX_SEND_ATTEMPTS - 1 }, (_, i) => 11 + i);
    for (const [i, amount] of later.entries()) {
      expect((await log(admin, amount)).status).toBe(200);
      expect((await stub.snapshot()).outbox).toBe(i < later.length - 1 ? 1 : 0);
    }
    await vi.waitFor(async () => expect(await logCount(projectId)).toBe(1 + later.length), { timeout: 15_000, interval: 100 });
    expect((await stub.snapshot()).balance).toBe(1 + 666 + later.reduce((sum, amount) => sum + amount, 0));

    // The row was set aside, not lost: listed for the project's admins, and replayable into the log once.
    const listed = await api<{ items: DeadLetterBody[] }>("GET", "/v1/admin/dead-letters", { auth: admin });
    expect(listed.status).toBe(200);
    expect(listed.json.items).toHaveLength(1);
    const letter = listed.json.items[0]!;
    expect(letter).toMatchObject({ queue: "outbox", attempts: MAX_SEND_ATTEMPTS, replayedAt: null, body: { metadata: { amount: 666 } } });
    expect(letter.error).toContain("refused");
    for (let i = 0; i < 2; i++) {
      const replayed = await api<DeadLetterBody>("POST", `/v1/admin/dead-letters/${letter.id}/replay`, { auth: admin });
      expect(replayed.status).toBe(200);
      expect(replayed.json.replayedAt).toEqual(expect.any(String));
    }
    expect(await logCount(projectId)).toBe(2 + later.length);
    const points = await env.DB.prepare("SELECT SUM(points) AS p FROM stats_daily WHERE project_key = ? AND event_id = '*'")
      .bind(projectId)
      .first<{ p: number }>();
    expect(points!.p).toBe((await stub.snapshot()).balance);

    // Another project's admin sees none of it and cannot replay it.
    const other = await setupProject();
    expect((await api<{ items: DeadLetterBody[] }>("GET", "/v1/admin/dead-letters", { auth: other.admin })).json.items).toEqual([]);
    expect((await api("POST", `/v1/admin/dead-letters/${letter.id}/replay`, { auth: other.admin })).status).toBe(404);
  });

  it("sets nothing aside while the queue refuses everything, and delivers it all once the queue is back", async () => {
    const { admin, projectId } = await setupProject();
    const stub = userObject(projectId, "alice");
    let queueDown = true;
    await filterQueue(stub, () => queueDown);
    for (let i = 1; i <= 3; i++) expect((await log(admin, i)).status).toBe(200);
    for (let i = 0; i < MAX_SEND_ATTEMPTS + 2; i++) expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await stub.snapshot()).outbox).toBe(3);
    expect((await api<{ items: DeadLetterBody[] }>("GET", "/v1/admin/dead-letters", { auth: admin })).json.items).toEqual([]);

    queueDown = false;
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await stub.snapshot()).outbox).toBe(0);
    await vi.waitFor(async () => expect(await logCount(projectId)).toBe(3), { timeout: 15_000, interval: 100 });
  });

  it("refuses, before writing anything, a log whose event would not fit a queue message", async () => {
    const { projectId } = await setupProject();
    const stub = userObject(projectId, "alice");
    const definition = { ...purchaseDefinition, eventId: "purchase_completed", status: "ACTIVE", limitPeriod: "lifetime", version: 1 } as never;
    const [outcome] = await stub.logEvents(projectId, "alice", [
      {
        kind: "log",
        definition,
        metadata: { amount: 5, note: "x".repeat(130_000) },
        occurredAt: new Date().toISOString(),
        streaks: [],
        challenges: [],
        leaderboards: [],
        fromUserToken: false,
        idempotencyKey: "big-1",
        requestHash: "h",
      },
    ]);
    expect(outcome).toEqual({ kind: "event_too_large" });
    expect(await stub.snapshot()).toEqual({ registered: true, balance: 0, counters: {}, outbox: 0 });
  });
});
