import { describe, expect, it } from "vitest";

import { addDays, dayOf, daysInRange, eventTimeProblem, hourOf, isoWeekOf, limitPeriodKey, monthOf } from "../../src/domain/periods";
import type { LimitPeriod } from "../../src/domain/definition-vocabulary";

/** Independent ISO-8601 week reference: week = floor((ordinal - weekday + 10) / 7), with year-boundary fixups. */
function referenceIsoWeek(day: string): string {
  const [y, m, d] = day.split("-").map(Number) as [number, number, number];
  const ms = Date.UTC(y, m - 1, d);
  const ordinal = Math.round((ms - Date.UTC(y, 0, 1)) / 86_400_000) + 1;
  const weekday = ((new Date(ms).getUTCDay() + 6) % 7) + 1; // Monday = 1 .. Sunday = 7
  const weeksIn = (year: number): number => {
    // A year has 53 weeks when Jan 1 is a Thursday, or a Wednesday in a leap year.
    const jan1 = ((new Date(Date.UTC(year, 0, 1)).getUTCDay() + 6) % 7) + 1;
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
    return jan1 === 4 || (leap && jan1 === 3) ? 53 : 52;
  };
  let week = Math.floor((ordinal - weekday + 10) / 7);
  let year = y;
  if (week < 1) {
    year = y - 1;
    week = weeksIn(year);
  } else if (week > weeksIn(y)) {
    year = y + 1;
    week = 1;
  }
  return `${year}-W${String(week).padStart(2, "0")}`;
}

describe("dayOf / monthOf / hourOf", () => {
  it("slice an ISO timestamp", () => {
    const iso = "2026-11-24T13:45:06.789Z";
    expect(dayOf(iso)).toBe("2026-11-24");
    expect(monthOf(iso)).toBe("2026-11");
    expect(hourOf(iso)).toBe("2026-11-24T13");
  });
});

describe("isoWeekOf", () => {
  it.each([
    ["2020-12-31", "2020-W53"],
    ["2021-01-01", "2020-W53"],
    ["2021-01-03", "2020-W53"],
    ["2021-01-04", "2021-W01"],
    ["2026-11-24", "2026-W48"],
    ["2024-12-29", "2024-W52"],
    ["2024-12-30", "2025-W01"],
    ["2025-01-01", "2025-W01"],
    ["2025-01-05", "2025-W01"],
    ["2025-01-06", "2025-W02"],
    ["2015-12-31", "2015-W53"],
    ["2016-01-03", "2015-W53"],
    ["2016-01-04", "2016-W01"],
    ["2008-12-29", "2009-W01"],
    ["2010-01-03", "2009-W53"],
    ["2026-01-01", "2026-W01"],
    ["2026-12-31", "2026-W53"],
    ["2027-01-03", "2026-W53"],
    ["2027-01-04", "2027-W01"],
    ["2024-02-29", "2024-W09"],
    ["2023-01-01", "2022-W52"],
    ["2023-01-02", "2023-W01"],
  ])("%s -> %s", (day, week) => {
    expect(isoWeekOf(day)).toBe(week);
    expect(isoWeekOf(`${day}T00:00:00.000Z`)).toBe(week);
    expect(isoWeekOf(`${day}T23:59:59.999Z`)).toBe(week);
  });

  it("changes week between Sunday 23:59:59.999Z and Monday 00:00:00.000Z", () => {
    expect(isoWeekOf("2026-11-29T23:59:59.999Z")).toBe("2026-W48");
    expect(isoWeekOf("2026-11-30T00:00:00.000Z")).toBe("2026-W49");
  });

  it("matches an independent ISO-week computation for every day from 1999 to 2041", () => {
    const mismatches: string[] = [];
    for (let day = "1999-01-01"; day <= "2041-12-31"; day = addDays(day, 1)) {
      const actual = isoWeekOf(day);
      const expected = referenceIsoWeek(day);
      if (actual !== expected) mismatches.push(`${day}: ${actual} != ${expected}`);
    }
    expect(mismatches).toEqual([]);
  });

  it("gives every Monday-to-Sunday run the same week and the next Monday the next week", () => {
    let monday = "2019-12-30"; // a Monday
    for (let i = 0; i < 400; i++) {
      const week = isoWeekOf(monday);
      for (let d = 1; d < 7; d++) expect(isoWeekOf(addDays(monday, d))).toBe(week);
      const next = addDays(monday, 7);
      expect(isoWeekOf(next) > week).toBe(true);
      monday = next;
    }
  });
});

describe("limitPeriodKey", () => {
  it.each<[LimitPeriod, string, string]>([
    ["lifetime", "2026-11-24T13:45:06.789Z", "lifetime"],
    ["lifetime", "1999-01-01T00:00:00.000Z", "lifetime"],
    ["day", "2026-11-24T13:45:06.789Z", "2026-11-24"],
    ["week", "2026-11-24T13:45:06.789Z", "2026-W48"],
    ["month", "2026-11-24T13:45:06.789Z", "2026-11"],
    ["week", "2021-01-03T12:00:00.000Z", "2020-W53"],
    ["month", "2021-01-03T12:00:00.000Z", "2021-01"],
  ])("%s of %s is %s", (period, iso, key) => {
    expect(limitPeriodKey(period, iso)).toBe(key);
  });

  it.each<[LimitPeriod, string, string, string, string]>([
    // period, last instant, first instant of the next unit, key before, key after
    ["day", "2026-11-24T23:59:59.999Z", "2026-11-25T00:00:00.000Z", "2026-11-24", "2026-11-25"],
    ["week", "2026-11-29T23:59:59.999Z", "2026-11-30T00:00:00.000Z", "2026-W48", "2026-W49"],
    ["month", "2026-11-30T23:59:59.999Z", "2026-12-01T00:00:00.000Z", "2026-11", "2026-12"],
    ["day", "2025-12-31T23:59:59.999Z", "2026-01-01T00:00:00.000Z", "2025-12-31", "2026-01-01"],
    ["week", "2025-12-31T23:59:59.999Z", "2026-01-01T00:00:00.000Z", "2026-W01", "2026-W01"],
    ["month", "2025-12-31T23:59:59.999Z", "2026-01-01T00:00:00.000Z", "2025-12", "2026-01"],
    ["lifetime", "2025-12-31T23:59:59.999Z", "2026-01-01T00:00:00.000Z", "lifetime", "lifetime"],
    ["day", "2024-02-28T23:59:59.999Z", "2024-02-29T00:00:00.000Z", "2024-02-28", "2024-02-29"],
    ["month", "2024-02-29T23:59:59.999Z", "2024-03-01T00:00:00.000Z", "2024-02", "2024-03"],
  ])("%s key across the boundary %s | %s", (period, before, after, keyBefore, keyAfter) => {
    expect(limitPeriodKey(period, before)).toBe(keyBefore);
    expect(limitPeriodKey(period, after)).toBe(keyAfter);
  });

  it("keeps the same day key for the whole UTC day", () => {
    expect(limitPeriodKey("day", "2026-11-24T00:00:00.000Z")).toBe(limitPeriodKey("day", "2026-11-24T23:59:59.999Z"));
  });
});

describe("addDays", () => {
  it.each<[string, number, string]>([
    ["2026-11-24", 0, "2026-11-24"],
    ["2026-11-24", 1, "2026-11-25"],
    ["2026-11-30", 1, "2026-12-01"],
    ["2026-01-31", 1, "2026-02-01"],
    ["2025-12-31", 1, "2026-01-01"],
    ["2026-01-01", -1, "2025-12-31"],
    ["2024-02-28", 1, "2024-02-29"],
    ["2024-02-29", 1, "2024-03-01"],
    ["2024-03-01", -1, "2024-02-29"],
    ["2023-02-28", 1, "2023-03-01"],
    ["2100-02-28", 1, "2100-03-01"], // not a leap year
    ["2000-02-28", 1, "2000-02-29"], // leap year
    ["2024-01-01", 366, "2025-01-01"],
    ["2023-01-01", 365, "2024-01-01"],
    ["2026-03-28", 2, "2026-03-30"], // across a European DST change: UTC is unaffected
    ["2026-11-01", 1, "2026-11-02"], // across a US DST change
    ["2026-11-24", -30, "2026-10-25"],
  ])("%s + %i = %s", (day, days, expected) => {
    expect(addDays(day, days)).toBe(expected);
  });
});

describe("daysInRange", () => {
  it("includes both ends", () => {
    expect(daysInRange("2026-11-24", "2026-11-27")).toEqual(["2026-11-24", "2026-11-25", "2026-11-26", "2026-11-27"]);
  });

  it("returns one day when start equals end", () => {
    expect(daysInRange("2026-11-24", "2026-11-24")).toEqual(["2026-11-24"]);
  });

  it("returns nothing when start is after end", () => {
    expect(daysInRange("2026-11-25", "2026-11-24")).toEqual([]);
  });

  it("crosses a leap day and a year boundary", () => {
    expect(daysInRange("2024-02-27", "2024-03-01")).toEqual(["2024-02-27", "2024-02-28", "2024-02-29", "2024-03-01"]);
    expect(daysInRange("2025-12-30", "2026-01-02")).toEqual(["2025-12-30", "2025-12-31", "2026-01-01", "2026-01-02"]);
  });

  it.each<[string, string, number]>([
    ["2024-01-01", "2024-12-31", 366],
    ["2025-01-01", "2025-12-31", 365],
    ["2026-02-01", "2026-02-28", 28],
  ])("%s..%s has %i days", (start, end, count) => {
    const days = daysInRange(start, end);
    expect(days).toHaveLength(count);
    expect(days[0]).toBe(start);
    expect(days.at(-1)).toBe(end);
    expect(new Set(days).size).toBe(count);
  });
});

describe("eventTimeProblem", () => {
  const now = Date.parse("2026-11-24T12:00:00Z");
  it.each([
    [now, null],
    [now + 5 * 60_000, null],
    [now + 5 * 60_000 + 1, "must not be in the future"],
    [now - 3653 * 86_400_000, null],
    [now - 3653 * 86_400_000 - 1, "must not be more than 10 years ago"],
  ])("%i is %s", (occurredAt, problem) => {
    expect(eventTimeProblem(occurredAt, now)).toBe(problem);
  });
});
