import { describe, expect, it } from "vitest";
import { globalStats, monthWindow, requestedWindow, statsWindow, type CountRow } from "../../src/domain/stats";

describe("statsWindow", () => {
  it.each([
    ["1d", "2025-08-07", null, "2025-08-07", "2025-08-07"],
    ["7d", "2025-08-07", null, "2025-08-01", "2025-08-07"],
    ["30d", "2025-08-30", null, "2025-08-01", "2025-08-30"],
    ["90d", "2025-03-31", null, "2025-01-01", "2025-03-31"],
    ["7d", "2025-03-03", null, "2025-02-25", "2025-03-03"],
    ["7d", "2024-03-03", null, "2024-02-26", "2024-03-03"],
    ["current_month", "2025-08-07", null, "2025-08-01", "2025-08-07"],
    ["current_month", "2025-08-01", null, "2025-08-01", "2025-08-01"],
    ["ytd", "2025-08-07", null, "2025-01-01", "2025-08-07"],
    ["ytd", "2026-01-01", null, "2026-01-01", "2026-01-01"],
    ["all", "2025-08-07", "2024-12-30", "2024-12-30", "2025-08-07"],
    ["all", "2025-08-07", null, "2025-08-07", "2025-08-07"],
  ] as const)("%s ending %s starts at %s", (period, today, first, start, end) => {
    expect(statsWindow(period, today, first)).toEqual({ startDate: start, endDate: end });
  });

  it.each([
    ["2025-08", "2025-08-01", "2025-08-31"],
    ["2024-02", "2024-02-01", "2024-02-29"],
    ["2025-02", "2025-02-01", "2025-02-28"],
    ["2025-12", "2025-12-01", "2025-12-31"],
  ])("month %s covers %s to %s", (month, start, end) => {
    expect(monthWindow(month)).toEqual({ startDate: start, endDate: end });
  });
});

describe("globalStats", () => {
  const row = (eventId: string, bucket: string, count: number, points = 0): CountRow => ({
    eventId,
    bucket,
    count,
    points,
    conditionMet: count,
    conditionFailed: 0,
    limitReached: 0,
  });
  const totals = (eventId: string, count: number, points: number) => ({ ...row(eventId, "", count, points), eventId });

  it("fills every day with zeros and 24 hourly counts, and ranks at most 10 events by count", () => {
    const eventTotals = Array.from({ length: 12 }, (_, i) => totals(`e${String(i).padStart(2, "0")}`, i === 3 ? 50 : i + 1, i));
    const stats = globalStats({
      window: { startDate: "2025-08-01", endDate: "2025-08-03" },
      eventTotals,
      uniqueUsers: 4,
      usersPerEvent: [{ eventId: "e03", users: 3 }],
      dailyRows: [row("*", "2025-08-02", 5, 9)],
      hourlyRows: [row("*", "2025-08-02T00", 2), row("*", "2025-08-02T23", 3)],
      usersPerDay: [{ day: "2025-08-02", users: 2 }],
    });
    expect(Object.keys(stats.dailyData)).toEqual(["2025-08-01", "2025-08-02", "2025-08-03"]);
    expect(stats.dailyData["2025-08-01"]).toEqual({ events: 0, users: 0, points: 0, hourlyDistribution: new Array(24).fill(0) });
    expect(stats.dailyData["2025-08-02"]!.hourlyDistribution[0]).toBe(2);
    expect(stats.dailyData["2025-08-02"]!.hourlyDistribution[23]).toBe(3);
    expect(stats.dailyData["2025-08-02"]).toMatchObject({ events: 5, users: 2, points: 9 });
    expect(stats.topEvents).toEqual(["e03", "e11", "e10", "e09", "e08", "e07", "e06", "e05", "e04", "e02"]);
    expect(stats.eventBreakdown.e03).toEqual({ count: 50, users: 3, points: 3 });
    expect(stats.eventBreakdown.e00!.users).toBe(0);
    expect(stats.totalEvents).toBe(eventTotals.reduce((s, t) => s + t.count, 0));
    expect(stats._metadata).toEqual({ uniqueUsersCalculationMethod: "daily_exact", uniqueUsersNote: null });
  });
});

describe("requestedWindow", () => {
  it("uses the whole month when one is given, else the period ending today", () => {
    expect(requestedWindow({ period: "7d", month: "2025-02" }, "2025-08-07", null)).toEqual({
      period: "month",
      startDate: "2025-02-01",
      endDate: "2025-02-28",
    });
    expect(requestedWindow({ period: "7d", month: null }, "2025-08-07", null)).toEqual({
      period: "7d",
      startDate: "2025-08-01",
      endDate: "2025-08-07",
    });
  });
});
