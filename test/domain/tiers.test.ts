import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { dateToDay, dayToDate } from "../../src/domain/calendar";
import type { TierLadder } from "../../src/domain/points-lifecycle";
import {
  addMonthsToDay,
  higherTier,
  leavesRollingWindowOn,
  levelFor,
  nextLevel,
  tierAfterEarn,
  tierAtWindowEnd,
  tierStanding,
  tierUnderNewLadder,
  windowRange,
  windowReviewDay,
} from "../../src/domain/tiers";

const d = dateToDay;
const ladder = (window: TierLadder["window"], downgrade: TierLadder["downgrade"]): TierLadder => ({
  basis: "points_earned",
  window,
  downgrade,
  // Out of order on purpose: ranks follow minPoints.
  levels: [
    { tierId: "gold", title: "Gold", minPoints: 500 },
    { tierId: "bronze", title: "Bronze", minPoints: 0 },
    { tierId: "silver", title: "Silver", minPoints: 100 },
  ],
});
const year = ladder("calendar_year", "end_of_window");
const rolling = ladder("rolling_12_months", "end_of_window");

describe("levels", () => {
  it("picks the level with the highest minPoints at or below the points", () => {
    expect([0, 99, 100, 499, 500, 10_000].map((p) => levelFor(year, p)?.tierId)).toEqual(["bronze", "bronze", "silver", "silver", "gold", "gold"]);
    expect(levelFor({ ...year, levels: [{ tierId: "vip", title: "VIP", minPoints: 10 }] }, 9)).toBeNull();
    expect(higherTier(year, "silver", "gold")).toBe("gold");
    expect(higherTier(year, "unknown", "bronze")).toBe("bronze");
    expect(nextLevel(year, "silver")?.tierId).toBe("gold");
    expect(nextLevel(year, "gold")).toBeNull();
  });
});

describe("windows", () => {
  it("calendar_year holds the local year; lifetime everything", () => {
    expect(windowRange("calendar_year", d("2026-06-15"))).toEqual({ first: d("2026-01-01"), last: d("2026-12-31") });
    expect(windowRange("lifetime", d("2026-06-15"))).toEqual({ first: null, last: null });
  });

  it("rolling_12_months: a day leaves at the start of the same date 12 months later (29 February on 28 February)", () => {
    expect(dayToDate(leavesRollingWindowOn(d("2026-03-10")))).toBe("2027-03-10");
    expect(dayToDate(leavesRollingWindowOn(d("2028-02-29")))).toBe("2029-02-28");
    expect(dayToDate(addMonthsToDay(d("2026-01-31"), 1))).toBe("2026-02-28");
    expect(dayToDate(windowRange("rolling_12_months", d("2027-03-10")).first!)).toBe("2026-03-11");
    expect(dayToDate(windowRange("rolling_12_months", d("2029-02-28")).first!)).toBe("2028-03-01");
  });

  it("rolling_12_months: the window's first day agrees with when each day leaves", () => {
    fc.assert(
      fc.property(fc.integer({ min: d("2000-01-01"), max: d("2100-01-01") }), fc.integer({ min: 0, max: 400 }), (today, back) => {
        const day = today - back;
        const inWindow = day >= windowRange("rolling_12_months", today).first!;
        expect(inWindow).toBe(leavesRollingWindowOn(day) > today);
      }),
    );
  });
});

describe("tier decisions", () => {
  it("goes up at an earn, never down there", () => {
    expect(tierAfterEarn(year, "bronze", { inWindow: 120, previousWindow: 0 })).toBe("silver");
    expect(tierAfterEarn(year, "gold", { inWindow: 120, previousWindow: 0 })).toBe("gold");
  });

  it("calendar_year with end_of_window: a tier reached in a year holds through the next, then follows that year's points", () => {
    expect(tierAtWindowEnd(year, { inWindow: 0, previousWindow: 520 })).toBe("gold");
    expect(tierAtWindowEnd(year, { inWindow: 0, previousWindow: 150 })).toBe("silver");
    expect(tierAtWindowEnd(rolling, { inWindow: 150, previousWindow: 9_999 })).toBe("silver");
  });

  it("under a new ladder: what the points give; with never, not below the tier held if the ladder still has it", () => {
    const never = ladder("lifetime", "never");
    expect(tierUnderNewLadder(year, "gold", { inWindow: 150, previousWindow: 0 })).toBe("silver");
    expect(tierUnderNewLadder(never, "gold", { inWindow: 150, previousWindow: 0 })).toBe("gold");
    expect(tierUnderNewLadder(never, "platinum", { inWindow: 150, previousWindow: 0 })).toBe("silver");
  });

  it("reviews a calendar year at the next 1 January while the tier is above what 0 points give", () => {
    expect(windowReviewDay(year, "silver", d("2026-06-15"), () => [])).toBe(d("2027-01-01"));
    expect(windowReviewDay(year, "bronze", d("2026-06-15"), () => [])).toBeNull();
    expect(windowReviewDay(ladder("calendar_year", "never"), "gold", d("2026-06-15"), () => [])).toBeNull();
    expect(windowReviewDay(ladder("lifetime", "end_of_window"), "gold", d("2026-06-15"), () => [])).toBeNull();
  });

  it("reviews a rolling window on the day the leaving days take its points below the tier", () => {
    const days = [
      { day: d("2026-03-10"), points: 300 },
      { day: d("2026-05-20"), points: 250 },
      { day: d("2026-07-01"), points: 100 },
    ];
    expect(dayToDate(windowReviewDay(rolling, "gold", d("2026-08-01"), () => days)!)).toBe("2027-03-10");
    // Silver (100) holds while 100 are left: until the last day leaves.
    expect(dayToDate(windowReviewDay(rolling, "silver", d("2026-08-01"), () => days)!)).toBe("2027-07-01");
    // Already below (a new ladder): today.
    expect(windowReviewDay(rolling, "gold", d("2026-08-01"), () => days.slice(1))).toBe(d("2026-08-01"));
  });

  it("shows the tier with the next level's distance", () => {
    expect(tierStanding(year, "silver", Date.parse("2026-03-01T10:00:00Z"), 150)).toEqual({
      tierId: "silver",
      title: "Silver",
      since: "2026-03-01T10:00:00.000Z",
      pointsInWindow: 150,
      next: { tierId: "gold", pointsNeeded: 350 },
    });
    expect(tierStanding({ ...year, levels: [{ tierId: "vip", title: "VIP", minPoints: 10 }] }, null, null, 4)).toEqual({
      tierId: null,
      title: null,
      since: null,
      pointsInWindow: 4,
      next: { tierId: "vip", pointsNeeded: 6 },
    });
  });
});
