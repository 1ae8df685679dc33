import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { DEAD_LETTER_QUEUE, retryDelaySeconds } from "../../src/queue/consumer";
import { deliver, loggedEvent } from "../fixtures";
import { instrumentedD1, newProject } from "../helpers";

async function counts(projectKey: string) {
  const log = await env.DB.prepare("SELECT COUNT(*) AS n FROM event_log WHERE project_key = ?").bind(projectKey).first<{ n: number }>();
  const stats = await env.DB.prepare(
    "SELECT SUM(count) AS count, SUM(points) AS points FROM stats_daily WHERE project_key = ? AND event_id = '*'",
  )
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
    const users = await env.DB.prepare("SELECT COUNT(*) AS n FROM stats_daily_users WHERE project_key = ? AND event_id = '*'")
      .bind(project)
      .first<{ n: number }>();
    expect(users!.n).toBe(4);
  });

  it("retries only what failed when the handler fails half-way, and the redelivery counts the rest once", async () => {
    const project = newProject();
    // ~60 KB of metadata each: 20 events need two ingest chunks (each one D1 transaction).
    const events = Array.from({ length: 20 }, () => loggedEvent(project, { metadata: { note: "x".repeat(60_000) } }));
    const flaky = instrumentedD1({ failBatch: (n) => n === 2 });
    const first = await deliver(events, { environment: { ...env, DB: flaky.db } });
    expect(flaky.batches()).toBe(2);
    expect(first.explicitAcks.length).toBeGreaterThan(0);
    expect(first.retryMessages.length).toBe(20 - first.explicitAcks.length);
    const afterFailure = await counts(project);
    expect(afterFailure.log).toBe(first.explicitAcks.length);
    expect(afterFailure.daily).toBe(first.explicitAcks.length);

    // The queue redelivers (here: all of it, as an at-least-once queue may); nothing is counted twice.
    const second = await deliver(events, { attempts: 2 });
    expect(second.retryMessages).toEqual([]);
    expect(await counts(project)).toEqual({ log: 20, daily: 20, points: 100, hourly: 20, monthly: 20 });
  });

  it("backs off exponentially with the attempt count", async () => {
    expect([1, 2, 3, 4, 10].map(retryDelaySeconds)).toEqual([10, 20, 40, 80, 600]);
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
