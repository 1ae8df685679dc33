import { describe, expect, it } from "vitest";
import {
  canonicalTimeZone,
  dateToDay,
  dayToDate,
  firstDayOfPeriod,
  isValidTimeZone,
  lastDayOfPeriod,
  localDayNumber,
  MAX_TIME_ZONE_FORMATTERS,
  periodAt,
  periodStartDate,
  periodStartMs,
  startOfLocalDay,
  timeZoneFormatterCount,
} from "../../src/domain/calendar";
import { isoWeekOf } from "../../src/domain/periods";

const at = (iso: string) => Date.parse(iso);
const localDate = (iso: string, timeZone: string) => dayToDate(localDayNumber(at(iso), timeZone));

describe("local days", () => {
  it("puts a 23:30 and a 00:30 Berlin log on different days although they share a UTC day", () => {
    // 23:30 on the 24th in Berlin (UTC+1) is 22:30Z; 00:30 on the 25th is 23:30Z: both on the 24th in UTC.
    expect(localDate("2026-11-24T22:30:00Z", "Europe/Berlin")).toBe("2026-11-24");
    expect(localDate("2026-11-24T23:30:00Z", "Europe/Berlin")).toBe("2026-11-25");
  });

  it("puts two Los Angeles logs on one local day although their UTC days differ", () => {
    // 15:00 and 17:30 on the 24th in Los Angeles (UTC-8) are 23:00Z on the 24th and 01:30Z on the 25th.
    expect(localDate("2026-11-24T23:00:00Z", "America/Los_Angeles")).toBe("2026-11-24");
    expect(localDate("2026-11-25T01:30:00Z", "America/Los_Angeles")).toBe("2026-11-24");
  });

  it("starts days at local midnight, and DST days last 23 and 25 hours", () => {
    const day = (date: string) => startOfLocalDay(dateToDay(date), "Europe/Berlin");
    expect(new Date(day("2026-11-24")).toISOString()).toBe("2026-11-23T23:00:00.000Z");
    expect(new Date(day("2026-07-01")).toISOString()).toBe("2026-06-30T22:00:00.000Z");
    expect((day("2026-03-30") - day("2026-03-29")) / 3_600_000).toBe(23);
    expect((day("2026-10-26") - day("2026-10-25")) / 3_600_000).toBe(25);
    // On the short day, 00:30 and 23:30 local are still that day.
    expect(localDate("2026-03-28T23:30:00Z", "Europe/Berlin")).toBe("2026-03-29");
    expect(localDate("2026-03-29T21:30:00Z", "Europe/Berlin")).toBe("2026-03-29");
  });

  it("finds the start of a day whose midnight a DST change skips", () => {
    // Havana moves its clocks from 00:00 to 01:00 on the second Sunday of March.
    const start = startOfLocalDay(dateToDay("2026-03-08"), "America/Havana");
    expect(localDate(new Date(start).toISOString(), "America/Havana")).toBe("2026-03-08");
    expect(localDate(new Date(start - 1).toISOString(), "America/Havana")).toBe("2026-03-07");
  });

  it("validates IANA names", () => {
    expect(isValidTimeZone("Europe/Berlin")).toBe(true);
    expect(isValidTimeZone("UTC")).toBe(true);
    expect(isValidTimeZone("Mars/Olympus")).toBe(false);
    expect(isValidTimeZone("")).toBe(false);
  });

  it("names a zone canonically however it is spelled, and refuses offsets and names without a region", () => {
    expect(canonicalTimeZone("europe/berlin")).toBe("Europe/Berlin");
    expect(canonicalTimeZone("EUROPE/BERLIN")).toBe("Europe/Berlin");
    expect(canonicalTimeZone("Europe/Berlin")).toBe("Europe/Berlin");
    expect(canonicalTimeZone("utc")).toBe("UTC");
    expect(canonicalTimeZone("Etc/UTC")).toBe("UTC");
    expect(canonicalTimeZone("america/argentina/buenos_aires")).toMatch(/^America\/(Argentina\/)?Buenos_Aires$/);
    for (const refused of ["+05:30", "-08:00", "EST5EDT", "EST", "Mars/Olympus", "", "Europe/Berlin".repeat(10)]) {
      expect(canonicalTimeZone(refused), refused).toBeNull();
    }
  });

  it("holds a bounded number of formatters, however many spellings of a zone it is asked for", () => {
    // 2,000 spellings of Europe/Berlin (letter case), as documents stored before canonical names may hold.
    const letters = "europeberlin".split("");
    const spelling = (n: number) => {
      const word = letters.map((c, i) => ((n >> i) & 1 ? c.toUpperCase() : c)).join("");
      return `${word.slice(0, 6)}/${word.slice(6)}`;
    };
    expect(new Set(Array.from({ length: 2_000 }, (_, n) => spelling(n))).size).toBe(2_000);
    const expected = localDayNumber(at("2026-11-24T23:30:00Z"), "Europe/Berlin");
    for (let n = 0; n < 2_000; n++) expect(localDayNumber(at("2026-11-24T23:30:00Z"), spelling(n))).toBe(expected);
    expect(timeZoneFormatterCount()).toBeLessThanOrEqual(MAX_TIME_ZONE_FORMATTERS);
  });
});

describe("periods", () => {
  it("numbers ISO weeks from Monday, across a year boundary", () => {
    const week = (date: string) => periodAt(at(`${date}T12:00:00Z`), "week", "UTC");
    // 2026-12-28 (Mon) is in ISO week 2026-W53, 2027-01-04 (Mon) starts 2027-W01; 2025-12-29 starts 2026-W01.
    expect(week("2027-01-03")).toBe(week("2026-12-28"));
    expect(week("2027-01-04")).toBe(week("2026-12-28") + 1);
    expect(week("2025-12-29")).toBe(week("2026-01-04"));
    for (const date of ["2024-12-30", "2026-12-28", "2027-01-04", "2020-12-28", "2021-01-04"]) {
      const start = periodStartDate(week(date), "week");
      expect(start).toBe(date);
      expect(isoWeekOf(start!)).toBe(isoWeekOf(date));
    }
  });

  it("cuts a Berlin week between Sunday 23:30 and Monday 00:30", () => {
    const sunday = periodAt(at("2026-11-29T22:30:00Z"), "week", "Europe/Berlin");
    const monday = periodAt(at("2026-11-29T23:30:00Z"), "week", "Europe/Berlin");
    expect(monday).toBe(sunday + 1);
    expect(new Date(periodStartMs(monday, "week", "Europe/Berlin")).toISOString()).toBe("2026-11-29T23:00:00.000Z");
  });

  it("numbers months and knows their first and last days", () => {
    const month = periodAt(at("2026-02-14T12:00:00Z"), "month", "UTC");
    expect(dayToDate(firstDayOfPeriod(month, "month"))).toBe("2026-02-01");
    expect(dayToDate(lastDayOfPeriod(month, "month")!)).toBe("2026-02-28");
    expect(dayToDate(firstDayOfPeriod(month + 11, "month"))).toBe("2027-01-01");
    expect(periodAt(at("2026-02-28T23:30:00Z"), "month", "Europe/Berlin")).toBe(month + 1);
  });

  it("has one lifetime period", () => {
    expect(periodAt(at("2026-02-14T12:00:00Z"), "all", "UTC")).toBe(0);
    expect(periodAt(at("1999-02-14T12:00:00Z"), "all", "Asia/Tokyo")).toBe(0);
    expect(lastDayOfPeriod(0, "all")).toBeNull();
  });
});
