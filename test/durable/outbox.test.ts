import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import type { LoggedEvent } from "../../src/domain/logged-event";
import { MAX_BLIND_FAILED_SENDS, MAX_SEND_ATTEMPTS, OUTAGE_PAGE_ROWS, OUTBOX_BACKOFF_MS, OUTBOX_MAX_BACKOFF_MS } from "../../src/durable/storage/outbox";
import type { DeadLetterBody } from "../../src/routes/admin-dead-letters";
import { api, purchaseDefinition, replaceObjectQueue, setupProject, userObject, type Credential } from "../helpers";
import { LOGGED, OF_PROJECT } from "../log-rows";

type Stub = ReturnType<typeof userObject>;

type Sent = LoggedEvent | { kind: "bundle"; items: LoggedEvent[] };
/** What a sent message holds (objects send JSON text, one message or a bundle). */
function itemsOf(sent: Sent | string): LoggedEvent[] {
  const body = (typeof sent === "string" ? JSON.parse(sent) : sent) as Sent;
  return "kind" in body && body.kind === "bundle" ? body.items : [body as LoggedEvent];
}

/**
 * Replaces the object's queue binding: messages holding an item `refuse` picks are rejected (so is a send
 * `refuseSend` picks, by its number), the others go to the real queue. `sends` counts the calls to `send`.
 */
async function filterQueue(stub: Stub, refuse: (body: LoggedEvent) => boolean, refuseSend: (n: number) => boolean = () => false) {
  const counter = { sends: 0, items: 0 };
  const real = env.EVENTS_QUEUE;
  await replaceObjectQueue(stub, {
    send: async (body, options) => {
      const items = itemsOf(body as Sent | string);
      counter.sends += 1;
      counter.items += items.length;
      return items.some(refuse) || refuseSend(counter.sends) ? Promise.reject(new Error("message refused")) : real.send(body, options);
    },
    sendBatch: async (messages, options) => {
      const list = [...messages];
      if (list.some((m) => itemsOf(m.body as Sent | string).some(refuse))) throw new Error("batch refused");
      return real.sendBatch(list, options);
    },
  });
  return counter;
}

type OutboxRow = { amount: number; attempts: number; failed_sends: number; wait: number };

/** The outbox as stored (after deleting what was sent): each row's amount, blamed attempts, failed sends and wait. */
const outboxRows = async (stub: Stub) =>
  (await stub.snapshot()) &&
  runInDurableObject(stub, (_instance, state) =>
    state.storage.sql
      .exec<{ body: string; attempts: number; failed_sends: number; next_attempt_at: number }>(
        "SELECT body, attempts, failed_sends, next_attempt_at FROM outbox ORDER BY created_at",
      )
      .toArray()
      .map(
        (row): OutboxRow => ({
          amount: (JSON.parse(row.body) as LoggedEvent).metadata.amount as number,
          attempts: row.attempts,
          failed_sends: row.failed_sends,
          wait: row.next_attempt_at === 0 ? 0 : row.next_attempt_at - Date.now(),
        }),
      ),
  );

/** Time passes: every row backing off is due (as when its alarm fires). */
const backoffPasses = (stub: Stub) =>
  runInDurableObject(stub, (_instance, state) => {
    state.storage.sql.exec("UPDATE outbox SET next_attempt_at = 1 WHERE next_attempt_at > 1");
  });

const logCount = async (projectId: string) =>
  (await env.DB.prepare(`SELECT COUNT(*) AS n FROM event_log WHERE ${OF_PROJECT}`).bind(projectId).first<{ n: number }>())!.n;

const log = (admin: Credential, amount: number) =>
  api("POST", "/v1/event", { auth: admin, body: { eventId: "purchase_completed", userId: "alice", metadata: { amount } } });

describe("the outbox with a row the queue refuses", () => {
  it("keeps delivering the rows behind it, then sets it aside where an admin can see and replay it", async () => {
    const { admin, projectId } = await setupProject({ definitions: { purchase_completed: { ...purchaseDefinition, limit: 100 } } });
    const stub = userObject(projectId, "alice");
    expect((await log(admin, 1)).status).toBe(200);
    await vi.waitFor(async () => expect(await logCount(projectId)).toBe(1), { timeout: 15_000, interval: 100 });

    // A poison row at the head of the outbox (amount 666 is refused by the queue from now on). Its own log's
    // send delivered nothing, so it is not blamed for it; it backs off.
    await filterQueue(stub, (body) => body.metadata.amount === 666);
    expect((await log(admin, 666)).status).toBe(200);
    expect(await outboxRows(stub)).toEqual([{ amount: 666, attempts: 0, failed_sends: 1, wait: expect.any(Number) }]);

    // Every later log is delivered although the poison row is older. The next log's send goes through, so the
    // row (which so far only failed when nothing went through, like in an outage) is tried again at once; it
    // fails alone while the log's own row went through, so it is blamed, and from then on it backs off: later
    // logs try it only once its wait has passed. Blamed MAX_SEND_ATTEMPTS times, it is set aside.
    expect((await log(admin, 10)).status).toBe(200);
    expect(await outboxRows(stub)).toMatchObject([{ amount: 666, attempts: 1, failed_sends: 2 }]);
    expect((await log(admin, 11)).status).toBe(200);
    expect(await outboxRows(stub)).toMatchObject([{ amount: 666, attempts: 1, failed_sends: 2 }]);
    const later = [10, 11, ...Array.from({ length: MAX_SEND_ATTEMPTS - 1 }, (_, i) => 12 + i)];
    for (const [i, amount] of later.slice(2).entries()) {
      await backoffPasses(stub);
      expect((await log(admin, amount)).status).toBe(200);
      if (i < MAX_SEND_ATTEMPTS - 2) expect(await outboxRows(stub)).toMatchObject([{ amount: 666, attempts: i + 2, failed_sends: i + 3 }]);
      else expect((await stub.snapshot()).outbox).toBe(0);
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

  it("sets nothing aside while the queue refuses everything, backs each row off, and delivers it all once the queue is back", async () => {
    const { admin, projectId } = await setupProject();
    const stub = userObject(projectId, "alice");
    let queueDown = true;
    await filterQueue(stub, () => queueDown);
    for (let i = 1; i <= 3; i++) expect((await log(admin, i)).status).toBe(200);
    const waits: number[] = [];
    for (let i = 0; i < MAX_SEND_ATTEMPTS + 3; i++) {
      await backoffPasses(stub);
      expect(await runDurableObjectAlarm(stub)).toBe(true);
      const rows = await outboxRows(stub);
      // Nobody is blamed for an outage; every row failed once more, and waits longer each time, up to the cap.
      expect(rows.map((row) => [row.attempts, row.failed_sends])).toEqual([1, 2, 3].map(() => [0, i + 2]));
      waits.push(Math.min(...rows.map((row) => row.wait)));
    }
    const expected = waits.map((_, i) => Math.min(OUTBOX_MAX_BACKOFF_MS, OUTBOX_BACKOFF_MS * 2 ** (i + 1)));
    waits.forEach((wait, i) => {
      expect(wait).toBeGreaterThan(expected[i]! - 5_000);
    });
    waits.forEach((wait, i) => {
      expect(wait).toBeLessThanOrEqual(expected[i]!);
    });
    // The alarm stays armed, for when the earliest row is due.
    expect(await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm())).toEqual(expect.any(Number));
    expect((await api<{ items: DeadLetterBody[] }>("GET", "/v1/admin/dead-letters", { auth: admin })).json.items).toEqual([]);

    queueDown = false;
    await backoffPasses(stub);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await stub.snapshot()).outbox).toBe(0);
    await vi.waitFor(async () => expect(await logCount(projectId)).toBe(3), { timeout: 15_000, interval: 100 });
  });

  it("sends the backlog of an outage at once when a send goes through again, without waiting for each row's backoff", async () => {
    const { admin, projectId } = await setupProject();
    const stub = userObject(projectId, "alice");
    let queueDown = true;
    await filterQueue(stub, () => queueDown);
    for (let i = 1; i <= 3; i++) expect((await log(admin, i)).status).toBe(200);
    expect((await outboxRows(stub)).every((row) => row.wait > 0)).toBe(true);

    queueDown = false;
    expect((await log(admin, 4)).status).toBe(200);
    expect((await stub.snapshot()).outbox).toBe(0);
    await vi.waitFor(async () => expect(await logCount(projectId)).toBe(4), { timeout: 15_000, interval: 100 });
  });

  it("after an outage of many flushes and then partial sends, sets aside only the row that really fails; every healthy event arrives", async () => {
    const { admin, projectId } = await setupProject({ definitions: { purchase_completed: { ...purchaseDefinition, limit: 100 } } });
    const stub = userObject(projectId, "alice");
    let mode: "down" | "throttled" | "up" = "down";
    // 666 is refused always; while throttled, every other send is refused too.
    const queue = await filterQueue(
      stub,
      (body) => mode === "down" || body.metadata.amount === 666,
      (n) => mode === "throttled" && n % 2 === 0,
    );

    // The outage: logs keep being answered; each log's flush sends its own row and at most a few due ones.
    const healthy = Array.from({ length: 12 }, (_, i) => i + 1);
    for (const amount of [...healthy.slice(0, 6), 666, ...healthy.slice(6)]) {
      const before = { ...queue };
      if (amount % 3 === 0) await backoffPasses(stub);
      expect((await log(admin, amount)).status).toBe(200);
      expect(queue.sends - before.sends).toBeLessThanOrEqual(MAX_BLIND_FAILED_SENDS);
      // Its own row, one page of due rows in a bundle, and one of them alone.
      expect(queue.items - before.items).toBeLessThanOrEqual(1 + OUTAGE_PAGE_ROWS + 1);
    }
    // ...and many alarms (more than MAX_SEND_ATTEMPTS), each giving up after a few failed sends.
    for (let i = 0; i < 2 * MAX_SEND_ATTEMPTS; i++) {
      await backoffPasses(stub);
      const before = queue.sends;
      expect(await runDurableObjectAlarm(stub)).toBe(true);
      expect(queue.sends - before).toBeLessThanOrEqual(MAX_BLIND_FAILED_SENDS);
    }
    const afterOutage = await outboxRows(stub);
    expect(afterOutage).toHaveLength(13);
    expect(afterOutage.every((row) => row.attempts === 0 && row.failed_sends >= 2)).toBe(true);

    // The queue comes back throttled: half the sends fail. A few flushes go through partly; rows that fail alone
    // while others go through are blamed, but none as often as MAX_SEND_ATTEMPTS.
    mode = "throttled";
    for (let i = 0; i < MAX_SEND_ATTEMPTS - 1; i++) {
      await backoffPasses(stub);
      expect(await runDurableObjectAlarm(stub)).toBe(true);
    }
    expect((await api<{ items: DeadLetterBody[] }>("GET", "/v1/admin/dead-letters", { auth: admin })).json.items).toEqual([]);
    const afterThrottling = await outboxRows(stub);
    expect(afterThrottling.some((row) => row.amount === 666)).toBe(true);
    expect(afterThrottling.length).toBeLessThan(13);
    expect(afterThrottling.every((row) => row.attempts < MAX_SEND_ATTEMPTS)).toBe(true);

    // Then fully: the healthy rows go; the poison row keeps failing alone while new logs go through, and is set
    // aside once blamed MAX_SEND_ATTEMPTS times.
    mode = "up";
    for (let amount = 13; (await stub.snapshot()).outbox > 0 && amount < 13 + MAX_SEND_ATTEMPTS; amount++) {
      await backoffPasses(stub);
      expect((await log(admin, amount)).status).toBe(200);
      healthy.push(amount);
    }
    expect((await stub.snapshot()).outbox).toBe(0);
    await vi.waitFor(async () => expect(await logCount(projectId)).toBe(healthy.length), { timeout: 15_000, interval: 100 });
    const amounts = await env.DB.prepare(`SELECT json_extract(metadata, '$.amount') AS amount FROM ${LOGGED} WHERE project_key = ? ORDER BY amount`)
      .bind(projectId)
      .all<{ amount: number }>();
    expect(amounts.results.map((row) => row.amount)).toEqual(healthy);
    const letters = (await api<{ items: DeadLetterBody[] }>("GET", "/v1/admin/dead-letters", { auth: admin })).json.items;
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ queue: "outbox", attempts: MAX_SEND_ATTEMPTS, body: { metadata: { amount: 666 } } });
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
