import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { dateToDay, periodAt, periodOfDay } from "../../src/domain/calendar";
import { isAlive, MAX_ALIVE_PERIODS, summarizeStreak, type StreakRules } from "../../src/domain/streaks";

const daily: StreakRules = { period: "day", freezesPerMonth: 0 };
const days = (...dates: string[]) => dates.map(dateToDay);
const d = dateToDay;

describe("summarizeStreak", () => {
  it("counts consecutive days ending at the latest, and the longest run ever", () => {
    const summary = summarizeStreak(days("2026-11-01", "2026-11-02", "2026-11-03", "2026-11-05", "2026-11-06"), daily);
    expect(summary).toEqual({ current: 2, longest: 3, lastPeriod: d("2026-11-06"), aliveThrough: d("2026-11-07") });
  });

  it("counts several logs in one period once", () => {
    expect(summarizeStreak([5, 5, 5, 6, 6], daily)).toMatchObject({ current: 2, longest: 2 });
  });

  it("is null without qualifying periods", () => {
    expect(summarizeStreak([], daily)).toBeNull();
  });

  it("is alive in the latest period and the next one only, without freezes", () => {
    const summary = summarizeStreak([10, 11], daily)!;
    expect([10, 11, 12, 13].map((now) => isAlive(summary, now))).toEqual([true, true, true, false]);
  });

  it("forgives up to freezesPerMonth missed periods per local month, without adding them to the length", () => {
    const rules: StreakRules = { period: "day", freezesPerMonth: 1 };
    // Missed the 3rd (forgiven), then the 6th and 7th (two in one month: not forgivable).
    const summary = summarizeStreak(days("2026-11-01", "2026-11-02", "2026-11-04", "2026-11-05", "2026-11-08", "2026-11-09"), rules);
    expect(summary).toMatchObject({ current: 2, longest: 4 });
    // A gap across two months may use a freeze of each (Oct 31 and Nov 1), but not two of one month.
    expect(summarizeStreak(days("2026-10-30", "2026-11-02"), rules)).toMatchObject({ current: 2 });
    expect(summarizeStreak(days("2026-10-30", "2026-11-03"), rules)).toMatchObject({ current: 1 });
    expect(summarizeStreak(days("2026-10-29", "2026-11-01"), rules)).toMatchObject({ current: 1 });
    // The budget is per month: a second gap in November is not forgiven, one in December is.
    expect(summarizeStreak(days("2026-11-01", "2026-11-03", "2026-11-05"), rules)).toMatchObject({ current: 1, longest: 2 });
    expect(summarizeStreak(days("2026-11-29", "2026-12-01", "2026-12-03"), rules)).toMatchObject({ current: 3, longest: 3 });
  });

  it("stays alive across missed periods the remaining freezes cover", () => {
    const summary = summarizeStreak(days("2026-11-20", "2026-11-21"), { period: "day", freezesPerMonth: 2 })!;
    // Alive on the 22nd (the next day); the 22nd and 23rd missed are forgiven, so alive on the 23rd and 24th too.
    expect(summary.aliveThrough).toBe(d("2026-11-24"));
    expect(isAlive(summary, d("2026-11-24"))).toBe(true);
    expect(isAlive(summary, d("2026-11-25"))).toBe(false);
  });

  it("never stays alive for ever, even when freezes cover every period", () => {
    const summary = summarizeStreak([100], { period: "day", freezesPerMonth: 31 })!;
    expect(summary.aliveThrough).toBe(100 + MAX_ALIVE_PERIODS);
  });

  it("counts weekly streaks across a year boundary (ISO week 1)", () => {
    const weeks = ["2026-12-21", "2026-12-28", "2027-01-04", "2027-01-11"].map((date) => periodOfDay(d(date), "week"));
    expect(summarizeStreak(weeks, { period: "week", freezesPerMonth: 0 })).toMatchObject({ current: 4, longest: 4 });
    // A week is charged to the month of its Monday: the missed week of 2026-12-28 uses December's freeze.
    const gap = [weeks[0]!, weeks[2]!];
    expect(summarizeStreak(gap, { period: "week", freezesPerMonth: 1 })).toMatchObject({ current: 2 });
  });

  it("joins two runs into one when a backfilled log fills the gap, exactly as if it had come in order", () => {
    const inOrder = days("2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04", "2026-11-05");
    const late = days("2026-11-01", "2026-11-02", "2026-11-04", "2026-11-05");
    expect(summarizeStreak(late, daily)).toMatchObject({ current: 2, longest: 2 });
    expect(summarizeStreak([...late, d("2026-11-03")], daily)).toEqual(summarizeStreak(inOrder, daily));
  });

  it("matches the README's worked example (Europe/Berlin, one freeze a month)", () => {
    const rules: StreakRules = { period: "day", freezesPerMonth: 1 };
    const berlin = (iso: string) => periodAt(Date.parse(iso), "day", "Europe/Berlin");
    // 23:30 on Jan 14 and 00:30 on Jan 15 in Berlin: one UTC day, two Berlin days.
    const logs = [berlin("2026-01-14T22:30:00Z"), berlin("2026-01-14T23:30:00Z")];
    expect(logs.map((p) => periodAt(Date.parse("2026-01-14T22:30:00Z"), "day", "UTC") === p)).toEqual([true, false]);
    expect(summarizeStreak(logs, rules)).toMatchObject({ current: 2 });
    logs.push(d("2026-01-17"));
    expect(summarizeStreak(logs, rules)).toMatchObject({ current: 3 });
    logs.push(d("2026-01-20"));
    expect(summarizeStreak(logs, rules)).toMatchObject({ current: 1, longest: 3 });
    expect(summarizeStreak([...logs, d("2026-01-19")], rules)).toMatchObject({ current: 2, longest: 3 });
    expect(summarizeStreak([...logs, d("2026-01-18"), d("2026-01-19")], rules)).toMatchObject({ current: 6, longest: 6 });
  });

  it("gives the same summary for any order of the same logs (property)", () => {
    const periods = fc.array(fc.integer({ min: 20_000, max: 20_400 }), { minLength: 1, maxLength: 60 });
    const rules = fc.record({ period: fc.constantFrom("day" as const, "week" as const), freezesPerMonth: fc.integer({ min: 0, max: 4 }) });
    fc.assert(
      fc.property(periods, rules, fc.integer(), (list, r, seed) => {
        const shuffled = fc.sample(fc.shuffledSubarray(list, { minLength: list.length, maxLength: list.length }), { numRuns: 1, seed })[0]!;
        expect(summarizeStreak(shuffled, r)).toEqual(summarizeStreak(list, r));
      }),
      { numRuns: 300 },
    );
  });

  it("never has a current run longer than the longest, nor longer than the periods logged (property)", () => {
    const periods = fc.array(fc.integer({ min: 0, max: 3000 }), { minLength: 1, maxLength: 200 });
    fc.assert(
      fc.property(periods, fc.integer({ min: 0, max: 31 }), (list, freezes) => {
        const summary = summarizeStreak(list, { period: "day", freezesPerMonth: freezes })!;
        expect(summary.current).toBeLessThanOrEqual(summary.longest);
        expect(summary.longest).toBeLessThanOrEqual(new Set(list).size);
        expect(summary.lastPeriod).toBe(Math.max(...list));
      }),
    );
  });
});
