import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { DEAD_LETTER_QUEUE, EVENTS_QUEUE, MAX_RETRIES, QUEUE_RETENTION_SECONDS, retryDelaySeconds } from "../../src/queue/consumer";
import wranglerToml from "../../wrangler.toml?raw";
import { deliver, loggedEvent } from "../fixtures";
import { instrumentedD1, newProject } from "../helpers";
import { archivedKeys, brokenR2, d1Letters, deliverAt, outageD1 } from "./outage";
import { OF_PROJECT } from "../log-rows";

async function counts(projectKey: string) {
  const log = await env.DB.prepare(`SELECT COUNT(*) AS n FROM event_log WHERE ${OF_PROJECT}`).bind(projectKey).first<{ n: number }>();
  const stats = await env.DB.prepare("SELECT SUM(count) AS count, SUM(points) AS points FROM stats_daily WHERE project_key = ? AND event_id = '*'")
    .bind(projectKey)
    .first<{ count: number | null; points: number | null }>();
  const hourly = await env.DB.prepare("SELECT SUM(count) AS count FROM stats_hourly WHERE project_key = ? AND event_id != '*'")
    .bind(projectKey)
    .first<{ count: number | null }>();
  const monthly = await env.DB.prepare("SELECT SUM(count) AS count FROM stats_monthly WHERE project_key = ? AND event_id = '*'")
    .bind(projectKey)
    .first<{ count: number | null }>();
  return { log: log!.n, daily: stats!.count ?? 0, points: stats!.points ?? 0, hourly: hourly!.count ?? 0, monthly: monthly!.count ?? 0 };
}

describe("events queue consumer", () => {
  it("writes the log and every aggregate once, and acks each message", async () => {
    const project = newProject();
    const events = [loggedEvent(project), loggedEvent(project, { userId: "bob", points: 7 }), loggedEvent(project, { eventId: "login" })];
    const result = await deliver(events);
    expect(result.explicitAcks).toHaveLength(3);
    expect(result.retryMessages).toEqual([]);
    expect(await counts(project)).toEqual({ log: 3, daily: 3, points: 17, hourly: 3, monthly: 3 });
  });

  it("ignores a batch delivered twice", async () => {
    const project = newProject();
    const events = Array.from({ length: 20 }, (_, i) => loggedEvent(project, { userId: `u${i % 4}` }));
    await deliver(events);
    await deliver(events);
    await deliver(events.slice(5, 9));
    expect(await counts(project)).toEqual({ log: 20, daily: 20, points: 100, hourly: 20, monthly: 20 });
    // One day, 4 users: the day's distinct users (no per-user rows in D1 since migration 0009).
    const users = await env.DB.prepare("SELECT SUM(users) AS n FROM stats_daily WHERE project_key = ? AND event_id = '*'").bind(project).first<{ n: number }>();
    expect(users!.n).toBe(4);
  });

  it("retries only what failed when D1 fails half-way, and the redelivery counts the rest once", async () => {
    const project = newProject();
    // ~60 KB of metadata each: 20 events need two ingest chunks (each one D1 transaction).
    const events = Array.from({ length: 20 }, () => loggedEvent(project, { metadata: { note: "x".repeat(60_000) } }));
    // D1 goes down after the first chunk: the second fails, and so do both its halves (then D1 is left alone).
    const flaky = instrumentedD1({ failBatch: (n) => n >= 2 });
    const first = await deliverAt(events, { environment: { ...env, DB: flaky.db } });
    expect(flaky.batches()).toBe(4);
    expect(first.explicitAcks.length).toBeGreaterThan(0);
    expect(first.retryMessages.length).toBe(20 - first.explicitAcks.length);
    expect(first.retryMessages.every((m) => m.delaySeconds === retryDelaySeconds(1))).toBe(true);
    const afterFailure = await counts(project);
    expect(afterFailure.log).toBe(first.explicitAcks.length);
    expect(afterFailure.daily).toBe(first.explicitAcks.length);

    // The queue redelivers (here: all of it, as an at-least-once queue may); nothing is counted twice.
    const second = await deliver(events, { attempts: 2 });
    expect(second.retryMessages).toEqual([]);
    expect(await counts(project)).toEqual({ log: 20, daily: 20, points: 100, hourly: 20, monthly: 20 });
  });

  it("backs off exponentially with the attempt count, capped at 3 hours, spanning most of the queue's retention", async () => {
    expect([1, 2, 3, 4, 10, 11, 12, 100, 101].map(retryDelaySeconds)).toEqual([10, 20, 40, 80, 5120, 10240, 10800, 10800, 10800]);
    const window = Array.from({ length: MAX_RETRIES }, (_, i) => retryDelaySeconds(i + 1)).reduce((a, b) => a + b, 0);
    expect(window).toBe(981_670); // about 11.4 days: the README's numbers
    expect(window).toBeGreaterThan(10 * 86_400);
    expect(window).toBeLessThan(QUEUE_RETENTION_SECONDS - 86_400);
    expect(QUEUE_RETENTION_SECONDS).toBe(1_209_600); // the most Cloudflare Queues keep a message
  });

  it("is configured in wrangler.toml as the code expects: 100 retries for both consumers, the dead-letter queue behind the events queue", () => {
    const sections = wranglerToml.split("[[queues.consumers]]").slice(1);
    const consumer = (queue: string) => sections.find((section) => section.includes(`queue = "${queue}"`)) ?? "";
    const number = (section: string, key: string) => Number(new RegExp(`^${key} = (\\d+)$`, "m").exec(section)?.[1]);
    expect(number(consumer(EVENTS_QUEUE), "max_retries")).toBe(MAX_RETRIES);
    expect(consumer(EVENTS_QUEUE)).toContain(`dead_letter_queue = "${DEAD_LETTER_QUEUE}"`);
    expect(number(consumer(DEAD_LETTER_QUEUE), "max_retries")).toBe(MAX_RETRIES);
    expect(number(consumer(DEAD_LETTER_QUEUE), "retry_delay")).toBeGreaterThan(0);
  });

  it("parks malformed messages in dead_letters instead of dropping them", async () => {
    const project = newProject();
    const good = loggedEvent(project);
    const result = await deliver([good, { not: "an event" }]);
    expect(result.explicitAcks).toHaveLength(2);
    expect((await counts(project)).log).toBe(1);
    const parked = await env.DB.prepare("SELECT body FROM dead_letters WHERE body LIKE '%an event%'").all<{ body: string }>();
    expect(parked.results.map((r) => JSON.parse(r.body))).toContainEqual({ not: "an event" });
  });

  it("copies dead-lettered messages to D1 once", async () => {
    const project = newProject();
    const dead = loggedEvent(project);
    const id = `dead-${crypto.randomUUID()}`;
    for (let i = 0; i < 2; i++) {
      const result = await deliver([dead], { queue: DEAD_LETTER_QUEUE, attempts: 9, ids: [id] });
      expect(result.explicitAcks).toEqual([id]);
    }
    const rows = await env.DB.prepare("SELECT queue, attempts, body FROM dead_letters WHERE message_id = ?").bind(id).all();
    expect(rows.results).toHaveLength(1);
    expect(rows.results[0]).toMatchObject({ queue: DEAD_LETTER_QUEUE, attempts: 9 });
    expect((await counts(project)).log).toBe(0);
  });

  it("ingests the items of a bundle like separate messages, and parks a bundle with an invalid item whole", async () => {
    const project = newProject();
    const items = [loggedEvent(project), loggedEvent(project, { userId: "bob", points: 7 }), loggedEvent(project, { eventId: "login" })];
    const result = await deliver([{ kind: "bundle", items }]);
    expect(result.explicitAcks).toHaveLength(1);
    expect(await counts(project)).toEqual({ log: 3, daily: 3, points: 17, hourly: 3, monthly: 3 });
    // Redelivered, whole or item by item: nothing counts twice.
    await deliver([{ kind: "bundle", items }, items[0]]);
    expect(await counts(project)).toEqual({ log: 3, daily: 3, points: 17, hourly: 3, monthly: 3 });

    const broken = await deliver([{ kind: "bundle", items: [loggedEvent(project), { not: "an event" }] }]);
    expect(broken.explicitAcks).toHaveLength(1);
    expect((await counts(project)).log).toBe(3);
    const parked = await env.DB.prepare("SELECT project_key, error FROM dead_letters WHERE message_id = ?").bind(broken.messages[0]!.id).first();
    expect(parked).toEqual({ project_key: project, error: expect.stringContaining("bundle") });
  });
});

describe("events queue consumer while D1 is unavailable", () => {
  it("retries every delivery for the whole retry window with growing delays, parks nothing, and ingests each event once when D1 is back", async () => {
    const project = newProject();
    const events = [loggedEvent(project), loggedEvent(project, { userId: "bob", points: 7 })];
    const bodies = [events[0], { kind: "bundle", items: [events[1], loggedEvent(project, { eventId: "login" })] }];
    const ids = bodies.map((_, i) => `outage-${i}-${crypto.randomUUID()}`);
    const d1 = outageD1();
    const down = { ...env, DB: d1.db };
    const start = Date.now();
    let elapsedSeconds = 0;
    let previousDelay = 0;
    for (let attempts = 1; attempts <= MAX_RETRIES; attempts++) {
      // Each delivery comes as late as the previous retry asked: the message is as old as the delays so far.
      const result = await deliverAt(bodies, { environment: down, attempts, ids, timestamp: new Date(start - elapsedSeconds * 1000) });
      expect(result.explicitAcks).toEqual([]);
      expect(result.retryBatch.retry).toBe(false);
      expect(result.retryMessages.map((m) => m.msgId).sort()).toEqual([...ids].sort());
      const [delay] = new Set(result.retryMessages.map((m) => m.delaySeconds));
      expect(delay).toBe(retryDelaySeconds(attempts));
      expect(delay!).toBeGreaterThanOrEqual(previousDelay);
      previousDelay = delay!;
      elapsedSeconds += delay!;
    }
    // The delays grew from 10 s to 3 hours and span more than 10 days of the outage; nothing was parked anywhere.
    expect(previousDelay).toBe(3 * 3_600);
    expect(elapsedSeconds).toBeGreaterThan(10 * 86_400);
    expect(d1.failed()).toBeGreaterThanOrEqual(MAX_RETRIES);
    expect(await d1Letters(project)).toEqual([]);
    expect(await archivedKeys(project)).toEqual([]);
    expect(await counts(project)).toEqual({ log: 0, daily: 0, points: 0, hourly: 0, monthly: 0 });

    // D1 is back for the last delivery: every event arrives once, and a redelivery changes nothing.
    const back = await deliverAt(bodies, { attempts: MAX_RETRIES + 1, ids, timestamp: new Date(start - elapsedSeconds * 1000) });
    expect(back.explicitAcks.sort()).toEqual([...ids].sort());
    expect(back.retryMessages).toEqual([]);
    await deliverAt(bodies, { attempts: MAX_RETRIES + 1, ids });
    expect(await counts(project)).toEqual({ log: 3, daily: 3, points: 17, hourly: 3, monthly: 3 });
    expect(await d1Letters(project)).toEqual([]);
  });

  it("parks in R2 what is still failing on its last delivery, or when the next retry would outlive the queue's retention", async () => {
    const project = newProject();
    const down = { ...env, DB: outageD1().db };
    const last = await deliverAt([loggedEvent(project)], { environment: down, attempts: MAX_RETRIES + 1 });
    expect(last.explicitAcks).toHaveLength(1);
    expect(last.retryMessages).toEqual([]);
    // Waited 13 days in a backlog: its next retry (10 s) would come within a day of the 14 days' retention.
    const old = await deliverAt([loggedEvent(project)], { environment: down, attempts: 1, timestamp: new Date(Date.now() - 13 * 86_400_000) });
    expect(old.explicitAcks).toHaveLength(1);
    const young = await deliverAt([loggedEvent(project)], { environment: down, attempts: 1, timestamp: new Date(Date.now() - 86_400_000) });
    expect(young.retryMessages).toHaveLength(1);

    const keys = await archivedKeys(project);
    expect(keys).toHaveLength(2);
    const stored = await Promise.all(keys.map(async (key) => (await env.ARCHIVE.get(key))!.json<{ queue: string; error: string; attempts: number }>()));
    expect(stored.map((s) => s.attempts).sort((a, b) => a - b)).toEqual([1, MAX_RETRIES + 1]);
    expect(stored.every((s) => s.queue === EVENTS_QUEUE && s.error.includes("D1 failed"))).toBe(true);
    expect(await d1Letters(project)).toEqual([]);
  });

  it("never drops a message: when neither D1 nor R2 takes it, it is retried", async () => {
    const project = newProject();
    const nowhere = { ...env, DB: outageD1().db, ARCHIVE: brokenR2() };
    const dead = await deliverAt([loggedEvent(project)], { environment: nowhere, queue: DEAD_LETTER_QUEUE, attempts: 3 });
    expect(dead.explicitAcks).toEqual([]);
    expect(dead.retryMessages).toEqual([{ msgId: dead.messages[0]!.id, delaySeconds: retryDelaySeconds(3) }]);
    const malformed = await deliverAt([{ not: "an event" }], { environment: nowhere });
    expect(malformed.explicitAcks).toEqual([]);
    expect(malformed.retryMessages).toHaveLength(1);
    const last = await deliverAt([loggedEvent(project)], { environment: nowhere, attempts: MAX_RETRIES + 1 });
    expect(last.explicitAcks).toEqual([]);
    expect(last.retryMessages).toHaveLength(1);
  });

  it("isolates a message D1 keeps refusing: the messages beside it are ingested, it is retried (not parked)", async () => {
    const project = newProject();
    const events = Array.from({ length: 10 }, (_, i) => loggedEvent(project, { userId: `u${i}` }));
    const poison = events[6]!.eventUid;
    const d1 = outageD1({ failing: () => false, refuse: (args) => args.some((arg) => typeof arg === "string" && arg.includes(poison)) });
    const result = await deliverAt(events, { environment: { ...env, DB: d1.db } });
    expect(result.explicitAcks).toHaveLength(9);
    expect(result.retryMessages).toEqual([{ msgId: result.messages[6]!.id, delaySeconds: retryDelaySeconds(1) }]);
    expect((await counts(project)).log).toBe(9);
    expect(await d1Letters(project)).toEqual([]);
  });
});

describe("events queue consumer with a message that can never be stored", () => {
  it("parks it at once, without retries, while D1 works, and ingests the rest of the batch", async () => {
    const project = newProject();
    const good = loggedEvent(project);
    const poisons: unknown[] = [
      `{"projectKey":"${project}", not json`,
      { ...loggedEvent(project), points: "many" },
      { kind: "bundle", items: [loggedEvent(project), { projectKey: project, not: "an event" }] },
      loggedEvent(project, { metadata: { note: "x".repeat(950_000) } }),
    ];
    const d1 = outageD1({ failing: () => false });
    const result = await deliverAt([good, ...poisons], { environment: { ...env, DB: d1.db } });
    expect(result.explicitAcks.sort()).toEqual(result.messages.map((m) => m.id).sort());
    expect(result.retryMessages).toEqual([]);
    expect(d1.failed()).toBe(0);
    expect((await counts(project)).log).toBe(1);
    const letters = await d1Letters(project);
    expect(letters.map((l) => l.message_id).sort()).toEqual(
      result.messages
        .slice(2)
        .map((m) => m.id)
        .sort(),
    ); // the first names no parseable project
    expect(letters.every((l) => l.attempts === 1 && l.queue === EVENTS_QUEUE)).toBe(true);
    expect(letters.find((l) => l.message_id === result.messages[4]!.id)?.error).toContain("larger than");
    const unnamed = await env.DB.prepare("SELECT error FROM dead_letters WHERE message_id = ?").bind(result.messages[1]!.id).first<{ error: string }>();
    expect(unnamed?.error).toContain("neither");
    expect(await archivedKeys(project)).toEqual([]);
  });

  it("parks it at once in R2 while D1 is down, and still retries the valid messages", async () => {
    const project = newProject();
    const result = await deliverAt([loggedEvent(project), { projectKey: project, not: "an event" }], { environment: { ...env, DB: outageD1().db } });
    expect(result.explicitAcks).toEqual([result.messages[1]!.id]);
    expect(result.retryMessages).toEqual([{ msgId: result.messages[0]!.id, delaySeconds: retryDelaySeconds(1) }]);
    const keys = await archivedKeys(project);
    expect(keys).toHaveLength(1);
    expect(await (await env.ARCHIVE.get(keys[0]!))!.json()).toMatchObject({
      queue: EVENTS_QUEUE,
      messageId: result.messages[1]!.id,
      projectKey: project,
      body: JSON.stringify({ projectKey: project, not: "an event" }),
      attempts: 1,
      replayedAt: null,
    });
  });
});
