import { describe, expect, it } from "vitest";
import { challengeDelta, reachesTarget, shownProgress } from "../../src/domain/challenges";
import { boardWindow, competitionRanks } from "../../src/domain/leaderboards";

describe("challengeDelta", () => {
  it("adds 1 per log for count, and the field's positive number for sum", () => {
    expect(challengeDelta({ metric: "count" }, { amount: 50 })).toBe(1);
    expect(challengeDelta({ metric: "sum", field: "amount" }, { amount: 20.5 })).toBe(20.5);
    expect(challengeDelta({ metric: "sum", field: "cart.total" }, { cart: { total: 7 } })).toBe(7);
    for (const amount of [-5, "12", null, Number.NaN, undefined]) expect(challengeDelta({ metric: "sum", field: "amount" }, { amount })).toBe(0);
  });

  it("reaches a target despite binary noise in sums of decimals", () => {
    expect(0.1 + 0.2).not.toBe(0.3);
    expect(reachesTarget(0.1 + 0.2, 0.3)).toBe(true);
    expect(reachesTarget(0.29, 0.3)).toBe(false);
    expect(shownProgress(0.1 + 0.2)).toBe(0.3);
  });
});

describe("competitionRanks", () => {
  const board = [
    { userId: "a", score: 100 },
    { userId: "b", score: 90 },
    { userId: "c", score: 90 },
    { userId: "d", score: 80 },
    { userId: "e", score: 80 },
    { userId: "f", score: 70 },
  ];

  it("ranks 1, 2, 2, 4 and keeps the board's order of equal scores", () => {
    expect(competitionRanks(board, 1, 0).map((e) => `${e.userId}${e.rank}`)).toEqual(["a1", "b2", "c2", "d4", "e4", "f6"]);
  });

  it("ranks a page that starts inside a tie from the rank of its first entry", () => {
    // Page offset 2: c (tied with b at rank 2), d, e, f.
    expect(competitionRanks(board.slice(2), 2, 2).map((e) => e.rank)).toEqual([2, 4, 4, 6]);
    expect(competitionRanks(board.slice(4), 4, 4).map((e) => e.rank)).toEqual([4, 6]);
    expect(competitionRanks([], 1, 0)).toEqual([]);
  });
});

describe("boardWindow", () => {
  const weekly = { period: "week" as const, timezone: "Europe/Berlin" };
  const monday = Date.parse("2026-11-30T12:00:00Z");

  it("puts a Sunday 23:30 and a Monday 00:30 Berlin log in different weekly boards", () => {
    const sunday = boardWindow(weekly, undefined, Date.parse("2026-11-29T22:30:00Z"));
    const next = boardWindow(weekly, undefined, Date.parse("2026-11-29T23:30:00Z"));
    expect(sunday).toMatchObject({ periodStart: "2026-11-23", periodEnd: "2026-11-29" });
    expect(next).toMatchObject({ periodStart: "2026-11-30", periodEnd: "2026-12-06" });
  });

  it("reads a past period from its first day, and refuses anything else", () => {
    expect(boardWindow(weekly, "2026-11-16", monday)).toMatchObject({ periodStart: "2026-11-16", periodEnd: "2026-11-22" });
    expect(boardWindow(weekly, "2026-11-17", monday)).toBe("must be a Monday (weeks start on Monday)");
    expect(boardWindow(weekly, "2026-12-07", monday)).toBe("must not be after the current period");
    expect(boardWindow(weekly, "2026-13-01", monday)).toBe("must be a calendar date YYYY-MM-DD");
    expect(boardWindow({ period: "month", timezone: "UTC" }, "2026-10-01", monday)).toMatchObject({ periodEnd: "2026-10-31" });
    expect(boardWindow({ period: "month", timezone: "UTC" }, "2026-10-02", monday)).toBe("must be the first day of a month");
    // Impossible dates are refused, not rolled over (2026-02-30 is not March 2, 2026-04-31 not May 1).
    expect(boardWindow({ period: "day", timezone: "UTC" }, "2026-02-30", monday)).toBe("must be a calendar date YYYY-MM-DD");
    expect(boardWindow({ period: "day", timezone: "UTC" }, "2026-04-31", monday)).toBe("must be a calendar date YYYY-MM-DD");
    expect(boardWindow({ period: "day", timezone: "UTC" }, "2025-02-29", monday)).toBe("must be a calendar date YYYY-MM-DD");
    expect(boardWindow({ period: "day", timezone: "UTC" }, "2024-02-29", monday)).toMatchObject({ periodStart: "2024-02-29" });
    expect(boardWindow({ period: "day", timezone: "UTC" }, "2026-11-03", monday)).toMatchObject({ periodStart: "2026-11-03", periodEnd: "2026-11-03" });
    expect(boardWindow({ period: "all", timezone: "UTC" }, undefined, monday)).toEqual({ period: 0, periodStart: null, periodEnd: null });
    expect(boardWindow({ period: "all", timezone: "UTC" }, "2026-11-03", monday)).toBe("not used by boards with period all");
  });
});
