import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { RedeemCommand } from "../../src/domain/points-lifecycle";
import { userObject } from "../helpers";
import { at, earnCommand, expectInvariants, fireAlarm, ladder, newMember, pendingAlarm, pointsState, policyOf, standardDefinition } from "./points-helpers";

const redeem = (points: number, key: string, extra: Partial<RedeemCommand> = {}): RedeemCommand => ({
  policy: policyOf({ version: 0 }),
  points,
  reason: "voucher",
  reference: null,
  metadata: {},
  idempotencyKey: key,
  requestHash: `hash-${key}-${points}`,
  ...extra,
});

const DAY = 86_400_000;

describe("redemptions", () => {
  it("answers a retry under the same key with the first redemption, and a different body under it with a conflict", async () => {
    const member = await newMember({ now: at("2027-01-10T10:00:00Z") });
    await member.log(earnCommand(100, { now: member.clock.now }));
    const first = await member.object.redeem(member.projectKey, member.userId, redeem(30, "order-1"));
    expect(first).toMatchObject({ kind: "redeemed", replayed: false, redemption: { points: 30, balance: 70, reason: "voucher", reversedAt: null } });
    member.clock.now += 60_000;
    const again = await member.object.redeem(member.projectKey, member.userId, redeem(30, "order-1"));
    expect(again).toEqual({ ...first, replayed: true });
    expect(await member.object.redeem(member.projectKey, member.userId, redeem(40, "order-1"))).toEqual({ kind: "idempotency_conflict" });
    const state = await expectInvariants(member.stub);
    expect(state.balance).toBe(70);
    expect(state.sums.redeem).toBe(-30);
    // One message for the one redemption.
    expect(member.changes().map((c) => [c.change, c.points, c.balanceAfter])).toEqual([["redeem", 30, 70]]);
  });

  it("refuses to overdraw under concurrency: 200 redemptions of 10 against 100 succeed exactly 10 times", async () => {
    const member = await newMember({ now: at("2027-01-10T10:00:00Z") });
    await member.log(earnCommand(100, { now: member.clock.now }));
    const outcomes = await Promise.all(Array.from({ length: 200 }, (_, i) => member.object.redeem(member.projectKey, member.userId, redeem(10, `k-${i}`))));
    expect(outcomes.filter((o) => o.kind === "redeemed")).toHaveLength(10);
    expect(outcomes.filter((o) => o.kind === "insufficient_points")).toHaveLength(190);
    expect(outcomes.filter((o) => o.kind === "insufficient_points").every((o) => o.kind === "insufficient_points" && o.balance === 0)).toBe(true);
    const state = await expectInvariants(member.stub);
    expect(state.balance).toBe(0);
  });

  it("takes from the oldest lot first", async () => {
    const member = await newMember({ now: at("2027-01-10T10:00:00Z") });
    for (const points of [30, 50, 20]) {
      await member.log(earnCommand(points, { now: member.clock.now }));
      member.clock.now += DAY;
    }
    await member.object.redeem(member.projectKey, member.userId, redeem(60, "a"));
    expect((await pointsState(member.stub)).lots.map((lot) => [lot.points, lot.remaining])).toEqual([
      [30, 0],
      [50, 20],
      [20, 20],
    ]);
    await expectInvariants(member.stub);
  });

  it("is refused for a member nobody registered", async () => {
    const member = await newMember({ now: at("2027-01-10T10:00:00Z") });
    const stranger = userObject(member.projectKey, "nobody-registered");
    // The object asks D1, which does not know the user either.
    expect(await stranger.redeem(member.projectKey, "nobody-registered", redeem(1, "x"))).toEqual({ kind: "not_registered" });
  });
});

describe("expiry", () => {
  it("expires a lot's remainder at local midnight by the alarm, across both DST changes (Europe/Berlin)", async () => {
    const berlin = (days: number) => policyOf({ version: days, timezone: "Europe/Berlin", expiry: { mode: "after_days", days } });
    // Earned on 27 February 2027 (Berlin) with 28 days: usable through 27 March, gone at 00:00 on 28 March,
    // the day summer time begins (02:00 → 03:00): 23:00Z, as Berlin is still at +01:00 at that midnight.
    const member = await newMember({ now: at("2027-02-27T09:00:00Z") });
    await member.log(earnCommand(40, { now: member.clock.now, policy: berlin(28) }));
    const spring = at("2027-03-27T23:00:00Z");
    expect((await member.object.standing([], []))!.expiring).toEqual([{ points: 40, expiresAt: "2027-03-27T23:00:00.000Z" }]);

    // The outbox's retry alarm fires first (nothing to retry) and re-arms for the expiry.
    member.clock.now += 30_000;
    await fireAlarm(member.stub);
    expect(await pendingAlarm(member.stub)).toBe(spring);
    // An alarm a moment early expires nothing.
    member.clock.now = spring - 1;
    await fireAlarm(member.stub);
    expect((await pointsState(member.stub)).balance).toBe(40);
    expect(await pendingAlarm(member.stub)).toBe(spring);
    member.clock.now = spring;
    await fireAlarm(member.stub);
    let state = await expectInvariants(member.stub);
    expect(state.balance).toBe(0);
    expect(member.changes().map((c) => [c.change, c.points, c.balanceAfter, c.at])).toEqual([["expire", 40, 0, "2027-03-27T23:00:00.000Z"]]);

    // Autumn: 00:00 on 31 October (the day winter time begins, 03:00 → 02:00) is 22:00Z at +02:00; 00:00 on
    // 1 November is 23:00Z at +01:00: that day has 25 hours. Each instant expires its own lot, once.
    member.clock.now = at("2027-10-01T10:00:00Z");
    await member.log(earnCommand(15, { now: member.clock.now, policy: berlin(29) }));
    member.clock.now = at("2027-10-02T10:00:00Z");
    await member.log(earnCommand(25, { now: member.clock.now, policy: berlin(29) }));
    expect((await member.object.standing([], []))!.expiring).toEqual([
      { points: 15, expiresAt: "2027-10-30T22:00:00.000Z" },
      { points: 25, expiresAt: "2027-10-31T23:00:00.000Z" },
    ]);
    member.clock.now = at("2027-10-30T22:00:00Z");
    await fireAlarm(member.stub);
    expect((await pointsState(member.stub)).balance).toBe(25);
    expect(await pendingAlarm(member.stub)).toBe(at("2027-10-31T23:00:00Z"));
    member.clock.now = at("2027-10-31T22:59:59.999Z");
    expect((await member.object.snapshot()).balance).toBe(25);
    member.clock.now = at("2027-10-31T23:00:00Z");
    await fireAlarm(member.stub);
    state = await expectInvariants(member.stub);
    expect(state.balance).toBe(0);
    expect(
      member
        .changes()
        .filter((c) => c.change === "expire")
        .map((c) => [c.points, c.at]),
    ).toEqual([
      [40, "2027-03-27T23:00:00.000Z"],
      [15, "2027-10-30T22:00:00.000Z"],
      [25, "2027-10-31T23:00:00.000Z"],
    ]);
  });

  it("applies the expiries due before a redemption, even when the alarm has not run", async () => {
    const policy = policyOf({ version: 1, expiry: { mode: "after_days", days: 1 } });
    const member = await newMember({ now: at("2027-01-10T10:00:00Z") });
    await member.log(earnCommand(50, { now: member.clock.now, policy }));
    member.clock.now = at("2027-01-12T00:00:00Z");
    expect(await member.object.redeem(member.projectKey, member.userId, redeem(10, "late", { policy }))).toEqual({ kind: "insufficient_points", balance: 0 });
    const state = await expectInvariants(member.stub);
    expect(state.sums.expire).toBe(-50);
  });
});

describe("reversals", () => {
  it("gives the points back once; those from a lot that expired meanwhile come back as a new lot expiring like a fresh earn", async () => {
    const policy = policyOf({ version: 1, expiry: { mode: "after_days", days: 10 } });
    const member = await newMember({ now: at("2027-01-01T10:00:00Z") });
    const { stub, object, projectKey, userId } = member;
    await member.log(earnCommand(50, { now: member.clock.now, policy })); // lot A: gone at 2027-01-12T00:00Z
    member.clock.now = at("2027-01-06T10:00:00Z");
    await member.log(earnCommand(30, { now: member.clock.now, policy })); // lot B: gone at 2027-01-17T00:00Z
    const redeemed = await object.redeem(projectKey, userId, redeem(60, "r", { policy }));
    if (redeemed.kind !== "redeemed") throw new Error(redeemed.kind);
    expect((await pointsState(stub)).lots.map((lot) => lot.remaining)).toEqual([0, 20]);

    // Lot A's date passes: it had nothing left, so nothing expires.
    member.clock.now = at("2027-01-13T10:00:00Z");
    const reversed = await object.reverseRedemption(projectKey, userId, { policy, redemptionId: redeemed.redemption.redemptionId, reason: "cancelled" });
    expect(reversed).toMatchObject({ kind: "reversed", balance: 80, redemption: { points: 60, reversedAt: "2027-01-13T10:00:00.000Z" } });
    const state = await expectInvariants(stub);
    // B gets its 10 back; A's 50 come back as a new lot earned now: gone at 00:00 on 24 January.
    expect(state.lots.map((lot) => [lot.source, lot.remaining, lot.expires_at && new Date(lot.expires_at).toISOString()])).toEqual([
      ["earn", 0, "2027-01-12T00:00:00.000Z"],
      ["earn", 30, "2027-01-17T00:00:00.000Z"],
      ["reverse", 50, "2027-01-24T00:00:00.000Z"],
    ]);
    expect(state.sums.expire ?? 0).toBe(0);

    expect(await object.reverseRedemption(projectKey, userId, { policy, redemptionId: redeemed.redemption.redemptionId, reason: "again" })).toEqual({
      kind: "already_reversed",
    });
    expect(await object.reverseRedemption(projectKey, userId, { policy, redemptionId: "no-such", reason: "x" })).toEqual({ kind: "unknown_redemption" });
    // A replay of the redemption answers it again, now showing when it was reversed.
    expect(await object.redeem(projectKey, userId, redeem(60, "r", { policy }))).toMatchObject({
      kind: "redeemed",
      replayed: true,
      redemption: { balance: 20, reversedAt: "2027-01-13T10:00:00.000Z" },
    });
    expect(member.changes().map((c) => [c.change, c.points, c.balanceAfter])).toEqual([
      ["redeem", 60, 20],
      ["reverse", 60, 80],
    ]);
  });
});

describe("tiers", () => {
  const levels: Array<[string, number]> = [
    ["silver", 100],
    ["gold", 500],
  ];

  it("goes up at the earn and, with end_of_window on a calendar year, down at the end of the first year that does not hold it", async () => {
    const policy = policyOf({ version: 1, timezone: "Europe/Berlin", tiers: ladder("calendar_year", "end_of_window", levels) });
    const member = await newMember({ now: at("2027-03-01T10:00:00Z") });
    await member.log(earnCommand(120, { now: member.clock.now, policy }));
    await member.log(earnCommand(400, { now: member.clock.now, policy }));
    let standing = await member.object.standing([], []);
    expect(standing?.tier).toEqual({ tierId: "gold", title: "GOLD", since: "2027-03-01T10:00:00.000Z", pointsInWindow: 520, next: null });
    expect(member.changes().map((c) => c.tier)).toEqual([
      { from: null, to: "silver", cause: "earned" },
      { from: "silver", to: "gold", cause: "earned" },
    ]);

    // The end of 2027 (Berlin): gold was reached in 2027, so it holds through 2028.
    const endOf2027 = at("2027-12-31T23:00:00Z");
    expect((await pointsState(member.stub)).tier.review_at).toBe(endOf2027);
    member.clock.now = endOf2027;
    await fireAlarm(member.stub);
    standing = await member.object.standing([], []);
    expect(standing?.tier).toMatchObject({ tierId: "gold", pointsInWindow: 0, next: null });

    // 2028 earns 150 (silver); at its end gold goes, silver stays.
    member.clock.now = at("2028-06-01T10:00:00Z");
    await member.log(earnCommand(150, { now: member.clock.now, policy }));
    member.clock.now = at("2028-12-31T23:00:00Z");
    await fireAlarm(member.stub);
    expect((await member.object.standing([], []))?.tier).toEqual({
      tierId: "silver",
      title: "SILVER",
      since: "2028-12-31T23:00:00.000Z",
      pointsInWindow: 0,
      next: { tierId: "gold", pointsNeeded: 500 },
    });
    expect(member.changes().at(-1)).toMatchObject({
      change: "tier",
      points: 0,
      balanceAfter: 670,
      tier: { from: "gold", to: "silver", cause: "window_ended" },
    });
    const state = await expectInvariants(member.stub);
    expect(state.steps.filter((step) => step.points === 0)).toHaveLength(3);
  });

  it("never goes down with downgrade never, and sets no review", async () => {
    const policy = policyOf({ version: 1, tiers: ladder("calendar_year", "never", levels) });
    const member = await newMember({ now: at("2027-03-01T10:00:00Z") });
    await member.log(earnCommand(600, { now: member.clock.now, policy }));
    expect((await pointsState(member.stub)).tier).toEqual({ tier_id: "gold", review_at: null });
    member.clock.now = at("2030-01-02T00:00:00Z");
    await fireAlarm(member.stub);
    await member.log(earnCommand(1, { now: member.clock.now, policy }));
    expect((await member.object.standing([], []))?.tier).toMatchObject({ tierId: "gold", pointsInWindow: 1 });
  });

  it("goes down in a rolling window when the days leaving it take the points below the tier", async () => {
    const policy = policyOf({ version: 1, tiers: ladder("rolling_12_months", "end_of_window", levels) });
    const member = await newMember({ now: at("2027-03-10T10:00:00Z") });
    await member.log(earnCommand(300, { now: member.clock.now, policy }));
    member.clock.now = at("2027-05-20T10:00:00Z");
    await member.log(earnCommand(250, { now: member.clock.now, policy }));
    expect((await pointsState(member.stub)).tier).toEqual({ tier_id: "gold", review_at: at("2028-03-10T00:00:00Z") });
    // 10 March 2028: the 300 of 10 March 2027 leave; 250 is silver. On 20 May 2028 the rest leaves.
    member.clock.now = at("2028-03-10T00:00:00Z");
    await fireAlarm(member.stub);
    expect((await pointsState(member.stub)).tier).toEqual({ tier_id: "silver", review_at: at("2028-05-20T00:00:00Z") });
    member.clock.now = at("2028-05-20T00:00:00Z");
    await fireAlarm(member.stub);
    expect((await pointsState(member.stub)).tier).toEqual({ tier_id: null, review_at: null });
    expect(member.changes().map((c) => c.tier?.to)).toEqual(["silver", "gold", "silver", null]);
    await expectInvariants(member.stub);
  });

  it("acts as the member's usergroup for rewards, also for a user token naming it", async () => {
    const policy = policyOf({ version: 1, tiers: ladder("lifetime", "never", [["gold", 10]]) });
    const purchase = standardDefinition("purchase", { default: 10, gold: 20 });
    const member = await newMember({ now: at("2027-03-01T10:00:00Z") });
    const first = await member.log(earnCommand(0, { now: member.clock.now, policy, definition: purchase }));
    expect(first).toMatchObject({ kind: "logged", response: { data: { points: 10, userGroupId: "default" } } });
    const second = await member.log(earnCommand(0, { now: member.clock.now, policy, definition: purchase }));
    expect(second).toMatchObject({ kind: "logged", response: { data: { points: 20, userGroupId: "gold" } } });
    const named = await member.log(
      earnCommand(0, { now: member.clock.now, policy, definition: purchase, fromUserToken: true, metadata: { usergroup: "gold" } }),
    );
    expect(named).toMatchObject({ kind: "logged", response: { data: { points: 20 } } });

    const newcomer = await newMember({ now: at("2027-03-01T10:00:00Z") });
    expect(
      await newcomer.log(earnCommand(0, { now: newcomer.clock.now, policy, definition: purchase, fromUserToken: true, metadata: { usergroup: "gold" } })),
    ).toEqual({
      kind: "usergroup_not_held",
      groups: ["gold"],
    });
  });

  it("re-evaluates under a new ladder at the next command", async () => {
    const member = await newMember({ now: at("2027-03-01T10:00:00Z") });
    await member.log(earnCommand(300, { now: member.clock.now, policy: policyOf({ version: 1, tiers: ladder("lifetime", "end_of_window", levels) }) }));
    expect((await pointsState(member.stub)).tier.tier_id).toBe("silver");
    // A stale policy (older version) changes nothing; the new ladder puts gold at 250.
    await member.log(earnCommand(0, { now: member.clock.now, policy: policyOf({ version: 0 }) }));
    expect((await pointsState(member.stub)).tier.tier_id).toBe("silver");
    const newer = policyOf({
      version: 2,
      tiers: ladder("lifetime", "end_of_window", [
        ["silver", 100],
        ["gold", 250],
      ]),
    });
    await member.object.redeem(member.projectKey, member.userId, redeem(1, "x", { policy: newer }));
    expect((await pointsState(member.stub)).tier.tier_id).toBe("gold");
    expect(member.changes().find((c) => c.tier?.cause === "ladder_changed")).toMatchObject({ tier: { from: "silver", to: "gold" } });
    // Without a ladder, no tier.
    await member.object.redeem(member.projectKey, member.userId, redeem(1, "y", { policy: policyOf({ version: 3 }) }));
    expect((await member.object.standing([], []))?.tier).toBeNull();
    await expectInvariants(member.stub);
  });
});

describe("adjustments", () => {
  it("a positive one is a lot of its own; a negative one takes from the oldest lots, and past them leaves a debt the next earn pays first", async () => {
    const member = await newMember({ now: at("2027-01-10T10:00:00Z") });
    await member.log(earnCommand(30, { now: member.clock.now }));
    await member.log(earnCommand(20, { now: member.clock.now }));
    const [first, second] = await runInDurableObject(member.stub, (_i, state) =>
      state.storage.sql.exec<{ event_uid: string; id: number }>("SELECT event_uid, id FROM ledger ORDER BY id").toArray(),
    );
    const adjust = (eventUid: string, originalAmount: number, newAmount: number) =>
      member.object.adjust({
        eventUid,
        occurredAt: new Date(member.clock.now).toISOString(),
        rewardType: "LOYALTY_POINTS",
        originalAmount,
        newAmount,
        reason: "correction",
        allowNegativeBalance: true,
        pointsBoards: [],
        idempotencyKey: null,
        requestHash: null,
      });
    await adjust(second!.event_uid, 20, 45); // +25: a new lot
    expect((await pointsState(member.stub)).lots.map((lot) => [lot.source, lot.points, lot.remaining])).toEqual([
      ["earn", 30, 30],
      ["earn", 20, 20],
      ["adjust", 25, 25],
    ]);
    await adjust(first!.event_uid, 30, 0); // -30: the oldest lot
    expect((await pointsState(member.stub)).lots.map((lot) => lot.remaining)).toEqual([0, 20, 25]);
    // Overdraw: 45 spent, then the 45 adjusted away leaves -45: a debt. The next earn of 60 pays it first and
    // leaves a lot of 15.
    await member.object.redeem(member.projectKey, member.userId, redeem(45, "all"));
    await adjust(second!.event_uid, 45, 0);
    expect((await pointsState(member.stub)).balance).toBe(-45);
    await member.log(earnCommand(60, { now: member.clock.now }));
    const state = await pointsState(member.stub);
    expect(state.balance).toBe(15);
    expect(state.lots.map((lot) => [lot.points, lot.remaining])).toEqual([
      [30, 0],
      [20, 0],
      [25, 0],
      [60, 15],
    ]);
    const history = await member.object.pointsHistory({ limit: 50 });
    expect(history?.entries.find((e) => e.type === "adjust")).toMatchObject({ reference: String(second!.id), reason: "correction" });
    await expectInvariants(member.stub);
  });
});

describe("history", () => {
  it("lists every change newest first with its running balance, by cursor", async () => {
    const member = await newMember({ now: at("2027-01-10T10:00:00Z") });
    await member.log(earnCommand(100, { now: member.clock.now }));
    await member.object.redeem(member.projectKey, member.userId, redeem(30, "a"));
    await member.log(earnCommand(5, { now: member.clock.now }));
    const first = await member.object.pointsHistory({ limit: 2 });
    expect(first?.entries.map((e) => [e.type, e.points, e.balanceAfter])).toEqual([
      ["earn", 5, 75],
      ["redeem", -30, 70],
    ]);
    const rest = await member.object.pointsHistory({ limit: 2, cursor: first!.nextCursor! });
    expect(rest).toMatchObject({ entries: [{ type: "earn", points: 100, balanceAfter: 100, reference: expect.any(String) }], nextCursor: null });
    expect(first?.entries[1]).toMatchObject({ reason: "voucher", details: { reference: null } });
  });
});
