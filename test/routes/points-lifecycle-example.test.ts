// README "Points lifecycle", the worked example: the same calls as its curl block, through the Worker, checking
// every number the README states. The example spans 32 days: the test moves the member's object's clock (the
// only clock that decides lots, expiries and tiers) to each day; the Worker's own clock stays today's.
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { PointsHistoryBody, PointsStatsBody, RedemptionBody } from "../../src/routes/points";
import type { PointsProfileBody } from "../../src/routes/users";
import { addDays } from "../../src/domain/periods";
import { adminToken, api, newProject, POLL, userObject, type Credential } from "../helpers";

const DAY = 86_400_000;

/** The local date and wall-clock time of an instant in Berlin, `2026-04-10 00:00`. */
const berlin = (iso: string) =>
  new Intl.DateTimeFormat("sv-SE", {
    timeZone: "Europe/Berlin",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).format(new Date(iso));

describe("the README's points lifecycle example", () => {
  it("earns, spends, expires and moves up the tiers as the README says", async () => {
    const projectId = newProject();
    const admin: Credential = { bearer: await adminToken(projectId) };
    const json = { auth: admin };

    // Settings and ladder.
    expect(
      (await api("PUT", "/v1/admin/project/settings", { ...json, body: { pointsExpiry: { mode: "after_days", days: 30 }, timezone: "Europe/Berlin" } })).status,
    ).toBe(200);
    const ladder = {
      basis: "points_earned",
      window: "rolling_12_months",
      downgrade: "end_of_window",
      levels: [
        { tierId: "silver", title: "Silver", minPoints: 200 },
        { tierId: "gold", title: "Gold", minPoints: 500 },
      ],
    };
    expect((await api("PUT", "/v1/admin/tiers", { ...json, body: ladder })).status).toBe(201);
    expect(
      (await api("PUT", "/v1/admin/events/order_placed", { ...json, body: { title: "Order placed", type: "STANDARD", reward: { default: 150 } } })).status,
    ).toBe(201);
    expect((await api("PUT", "/v1/admin/users/frida", { ...json, body: {} })).status).toBe(201);

    // The member's object runs on the example's days.
    const day1 = Date.now() - 32 * DAY;
    const clock = { now: day1 };
    await runInDurableObject(userObject(projectId, "frida"), (instance) => {
      (instance as unknown as { clock: () => number }).clock = () => clock.now;
    });
    const order = async () => api<{ data: { balance: number } }>("POST", "/v1/event", { ...json, body: { eventId: "order_placed", userId: "frida" } });
    const profile = async () => (await api<PointsProfileBody>("GET", "/v1/users/frida", json)).json;

    // The end of the 30th local day after an instant's local day: 00:00 Berlin time 31 days after it.
    const expiryOf = (ms: number) => `${addDays(berlin(new Date(ms).toISOString()).slice(0, 10), 31)} 00:00`;

    // Day 1: two orders of 150 points: "balance":300, tier silver (300 of the 200 it needs), gold 200 points away;
    // 300 points expire at the end of the 30th day after today.
    expect((await order()).json.data.balance).toBe(150);
    expect((await order()).json.data.balance).toBe(300);
    const first = await profile();
    expect(first.balance).toBe(300);
    expect(first.tier).toMatchObject({ tierId: "silver", title: "Silver", pointsInWindow: 300, next: { tierId: "gold", pointsNeeded: 200 } });
    expect(first.expiring.map((e) => [e.points, berlin(e.expiresAt)])).toEqual([[300, expiryOf(day1)]]);

    // Day 10: a voucher for 100 points: 201 with "balance":200; the same call again answers the same, replayed.
    clock.now = day1 + 9 * DAY;
    const redeem = () =>
      api<RedemptionBody>("POST", "/v1/users/frida/redemptions", {
        ...json,
        headers: { "idempotency-key": "voucher-1" },
        body: { points: 100, reason: "10 EUR voucher", reference: "V-1" },
      });
    const voucher = await redeem();
    expect(voucher.status).toBe(201);
    expect(voucher.json).toMatchObject({ points: 100, balance: 200 });
    const again = await redeem();
    expect(again.status).toBe(201);
    expect(again.json).toEqual(voucher.json);
    expect(again.headers.get("idempotent-replayed")).toBe("true");

    // Day 20: two more orders: "balance":500; 600 points earned in the window make her gold (the top: next null);
    // expiring: 200 (what the voucher left of day 1's lots) at day 1's date, 300 at day 20's.
    const day20 = day1 + 19 * DAY;
    clock.now = day20;
    expect((await order()).json.data.balance).toBe(350);
    expect((await order()).json.data.balance).toBe(500);
    const twenty = await profile();
    expect(twenty.tier).toMatchObject({ tierId: "gold", title: "Gold", pointsInWindow: 600, next: null });
    expect(twenty.expiring.map((e) => [e.points, berlin(e.expiresAt)])).toEqual([
      [200, expiryOf(day1)],
      [300, expiryOf(day20)],
    ]);

    // Day 32: day 1's lots expired: "balance":300, still gold (the tier counts points earned, not the balance).
    clock.now = day1 + 31 * DAY + 12 * 3_600_000;
    const last = await profile();
    expect(last.balance).toBe(300);
    expect(last.tier).toMatchObject({ tierId: "gold", pointsInWindow: 600 });
    expect(last.expiring.map((e) => [e.points, berlin(e.expiresAt)])).toEqual([[300, expiryOf(day20)]]);

    // The history, newest first, each entry with the balance after it.
    const history = await api<PointsHistoryBody>("GET", "/v1/users/frida/points-history?limit=20", json);
    expect(history.json.entries.map((e) => [e.type, e.points, e.balanceAfter, e.type === "tier" ? `${e.details?.from}->${e.details?.to}` : null])).toEqual([
      ["expire", -200, 300, null],
      ["tier", 0, 500, "silver->gold"],
      ["earn", 150, 500, null],
      ["earn", 150, 350, null],
      ["redeem", -100, 200, null],
      ["tier", 0, 300, "null->silver"],
      ["earn", 150, 300, null],
      ["earn", 150, 150, null],
    ]);
    expect(history.json.entries[4]).toMatchObject({ reference: voucher.json.redemptionId, reason: "10 EUR voucher" });
    expect(berlin(history.json.entries[0]!.at)).toBe(expiryOf(day1));

    // The stats, once the queue has carried the changes: earned 600, redeemed 100, reversed 0, expired 200.
    await expect
      .poll(async () => (await api<PointsStatsBody>("GET", "/v1/stats/points?period=90d", json)).json.totals, POLL)
      .toEqual({ earned: 600, redeemed: 100, reversed: 0, expired: 200, opening: 0 });
  });
});
