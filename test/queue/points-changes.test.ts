// The points changes users' objects report (redemptions, reversals, expiries, tier changes) as the stats consumer
// ingests them: once each, into the daily points stats, found by reconciliation, trimmed with the log window, and
// handed to the webhooks queue. The messages are made by hand here, as a user's object sends them.
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { missingMessageUids } from "../../src/db/event-log";
import type { PointsChangeMessage } from "../../src/domain/points-lifecycle";
import type { WebhookEvent, WebhookFanoutMessage } from "../../src/domain/webhook-events";
import type { PointsStatsBody } from "../../src/routes/points";
import { trimLogWindows, WINDOW_DELETE_GUARD_MS } from "../../src/services/log-window";
import { webhookHandover } from "../../src/services/webhook-emission";
import { deliver, loggedEvent } from "../fixtures";
import { api, setupProject } from "../helpers";

const DAY = 86_400_000;

function pointsChange(
  projectKey: string,
  change: PointsChangeMessage["change"],
  points: number,
  overrides: Partial<PointsChangeMessage> = {},
): PointsChangeMessage {
  return {
    kind: "points_change",
    changeUid: crypto.randomUUID(),
    projectKey,
    userId: "alice",
    accountId: 1,
    seq: 7,
    change,
    points,
    balanceAfter: 100,
    at: new Date().toISOString(),
    redemptionId: change === "redeem" || change === "reverse" ? `rd_${crypto.randomUUID()}` : null,
    reason: change === "redeem" || change === "reverse" ? "voucher" : null,
    tier: change === "tier" ? { from: null, to: "silver", cause: "earned" } : null,
    ...overrides,
  };
}

const pointsRows = (projectKey: string) =>
  env.DB.prepare("SELECT day, redeemed, reversed, expired FROM stats_points_daily WHERE project_key = ? ORDER BY day").bind(projectKey).all();

let handovers: WebhookFanoutMessage[][] = [];
beforeEach(() => {
  handovers = [];
  vi.spyOn(webhookHandover, "send").mockImplementation(async (_queue, parts) => void handovers.push(structuredClone([...parts])));
});
afterEach(() => vi.restoreAllMocks());

describe("points changes in the stats consumer", () => {
  it("counts each change once per UTC day, however often it is delivered, and answers GET /v1/stats/points", async () => {
    const { admin, projectId } = await setupProject();
    const today = new Date().toISOString().slice(0, 10);
    const redeem = pointsChange(projectId, "redeem", 30);
    const bodies = [
      loggedEvent(projectId, { points: 120, balanceAfter: 120, occurredAt: new Date().toISOString() }),
      redeem,
      pointsChange(projectId, "redeem", 12),
      pointsChange(projectId, "reverse", 12),
      pointsChange(projectId, "expire", 25),
      pointsChange(projectId, "tier", 0),
      // The same change twice in one batch, then the whole batch again.
      redeem,
    ];
    expect((await deliver(bodies)).explicitAcks).toHaveLength(bodies.length);
    expect((await deliver(bodies)).explicitAcks).toHaveLength(bodies.length);
    expect((await pointsRows(projectId)).results).toEqual([{ day: today, redeemed: 42, reversed: 12, expired: 25 }]);
    // A tier change moves no points but is kept, so reconciliation finds it.
    const kept = await env.DB.prepare("SELECT change, points FROM points_changes WHERE project_key = ? ORDER BY change, points DESC").bind(projectId).all();
    expect(kept.results).toEqual([
      { change: "expire", points: 25 },
      { change: "redeem", points: 30 },
      { change: "redeem", points: 12 },
      { change: "reverse", points: 12 },
      { change: "tier", points: 0 },
    ]);

    const stats = await api<PointsStatsBody>("GET", "/v1/stats/points?period=7d", { auth: admin });
    expect(stats.status).toBe(200);
    expect(stats.json.totals).toEqual({ earned: 120, redeemed: 42, reversed: 12, expired: 25, opening: 0 });
    expect(stats.json.dailyData[today]).toEqual({ earned: 120, redeemed: 42, reversed: 12, expired: 25, opening: 0 });
    expect(Object.keys(stats.json.dailyData)).toHaveLength(7);
    expect(stats.json).toMatchObject({ period: "7d", endDate: today });
  });

  it("puts a change in the UTC day of its time, and `all` starts at the first day with points", async () => {
    const { admin, projectId } = await setupProject();
    const at = new Date(Date.now() - 40 * DAY).toISOString();
    await deliver([pointsChange(projectId, "expire", 9, { at })]);
    const all = await api<PointsStatsBody>("GET", "/v1/stats/points?period=all", { auth: admin });
    expect(all.json.startDate).toBe(at.slice(0, 10));
    expect(all.json.totals).toEqual({ earned: 0, redeemed: 0, reversed: 0, expired: 9, opening: 0 });
    expect((await api<PointsStatsBody>("GET", "/v1/stats/points?period=30d", { auth: admin })).json.totals.expired).toBe(0);
    const month = at.slice(0, 7);
    const byMonth = await api<PointsStatsBody>("GET", `/v1/stats/points?timeframe=month&month=${month}`, { auth: admin });
    expect(byMonth.json).toMatchObject({ period: "month", startDate: `${month}-01`, totals: { expired: 9 } });
  });

  it("refuses a bad period or month with 400 naming it, and keys without stats:read with 403", async () => {
    const { admin } = await setupProject();
    expect((await api("GET", "/v1/stats/points?period=2w", { auth: admin })).json.errors?.[0]?.path).toBe("period");
    expect((await api("GET", "/v1/stats/points?timeframe=month", { auth: admin })).json.errors?.[0]?.path).toBe("month");
    expect((await api("GET", "/v1/stats/points?timeframe=month&month=2999-01", { auth: admin })).json.errors?.[0]?.path).toBe("month");
  });

  it("lets reconciliation find ingested changes (and only those)", async () => {
    const { projectId } = await setupProject();
    const ingested = pointsChange(projectId, "tier", 0);
    const lost = pointsChange(projectId, "redeem", 5);
    await deliver([ingested]);
    expect((await missingMessageUids(env.DB, [ingested.changeUid, lost.changeUid])).missing).toEqual([lost.changeUid]);
  });

  it("keeps changes until past the project's log window and the redelivery guard, then removes them; the daily stats stay", async () => {
    const { projectId } = await setupProject();
    const old = pointsChange(projectId, "expire", 4, { at: new Date(Date.now() - 100 * DAY).toISOString() });
    const recent = pointsChange(projectId, "redeem", 6);
    await deliver([old, recent]);
    const count = async () =>
      (await env.DB.prepare("SELECT COUNT(*) AS n FROM points_changes WHERE project_key = ?").bind(projectId).first<{ n: number }>())!.n;
    // Older than the 90-day window, but ingested just now: a redelivery could still come, so it stays.
    expect((await trimLogWindows(env.DB)).pointsChanges).toBe(0);
    expect(await count()).toBe(2);
    // Past the guard: the old one goes, the recent one (inside the window then too) stays.
    const report = await trimLogWindows(env.DB, { now: Date.now() + WINDOW_DELETE_GUARD_MS + DAY });
    expect(report.pointsChanges).toBe(1);
    expect(await count()).toBe(1);
    expect((await pointsRows(projectId)).results).toHaveLength(2);
  });

  it("hands points.redeemed, points.expired and tier.changed to the webhooks queue (a reversal emits nothing)", async () => {
    const { admin, projectId } = await setupProject();
    const res = await api("POST", "/v1/admin/webhooks", {
      auth: admin,
      body: { url: "https://example.com/hook", eventTypes: ["points.redeemed", "points.expired", "tier.changed"] },
    });
    expect(res.status).toBe(201);
    const [redeem, reverse, expire, tier] = [
      pointsChange(projectId, "redeem", 30, { seq: 3 }),
      pointsChange(projectId, "reverse", 30, { seq: 4 }),
      pointsChange(projectId, "expire", 5, { seq: 5 }),
      pointsChange(projectId, "tier", 0, { seq: 6 }),
    ];
    await deliver([redeem, reverse, expire, tier]);
    await deliver([redeem]);
    const events: WebhookEvent[] = handovers
      .flat()
      .flatMap((part) => part.events)
      .filter((event) => event.projectId === projectId);
    expect(events.map((event) => event.id)).toEqual([
      `pc_${redeem!.changeUid}_points.redeemed`,
      `pc_${expire!.changeUid}_points.expired`,
      `pc_${tier!.changeUid}_tier.changed`,
      // The redelivery emits the same id again (deliveries are unique per endpoint and id).
      `pc_${redeem!.changeUid}_points.redeemed`,
    ]);
    expect(events[0]!.data).toEqual({
      userId: "alice",
      sequence: 3,
      redemptionId: redeem!.redemptionId,
      points: 30,
      balanceAfter: 100,
      reason: "voucher",
      redeemedAt: redeem!.at,
    });
    expect(events[2]!.data).toEqual({ userId: "alice", sequence: 6, from: null, to: "silver", cause: "earned", changedAt: tier!.at });
  });
});
