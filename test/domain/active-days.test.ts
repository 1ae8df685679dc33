import { describe, expect, it } from "vitest";
import { addDay, dayNumber, dayText, keepFromDay, monthOfDay, type DayRange, type Neighbours } from "../../src/domain/active-days";

const d = dayNumber;

/** The ranges as the object keeps them, with the reads and writes of addDay applied to an array. */
function add(ranges: DayRange[], day: number) {
  const sorted = [...ranges].sort((a, b) => a.first - b.first);
  const before = [...sorted].reverse().find((r) => r.first <= day) ?? null;
  const after = sorted.find((r) => r.first > day) ?? null;
  const neighbours: Neighbours = { before, after, newestLast: sorted.at(-1)?.last ?? null };
  const result = addDay(neighbours, day);
  let next = sorted;
  if (result.write) {
    const { remove, put } = result.write;
    next = sorted
      .filter((r) => r.first !== remove && r.first !== put.first)
      .concat(put)
      .sort((a, b) => a.first - b.first);
  }
  return { result, ranges: next };
}

describe("active days as ranges", () => {
  it("converts days and months both ways", () => {
    expect(d("1970-01-01")).toBe(0);
    expect(d("2025-08-07T23:59:59.999Z")).toBe(d("2025-08-07"));
    expect(dayText(d("2024-02-29"))).toBe("2024-02-29");
    expect(monthOfDay(d("2024-02-10"))).toEqual({ first: d("2024-02-01"), last: d("2024-02-29") });
    expect(monthOfDay(d("2025-12-31"))).toEqual({ first: d("2025-12-01"), last: d("2025-12-31") });
  });

  it("adds, joins and merges ranges; a known day changes nothing", () => {
    let ranges: DayRange[] = [];
    const step = (day: string) => {
      const next = add(ranges, d(day));
      ranges = next.ranges;
      return next.result;
    };
    expect(step("2025-08-05")).toMatchObject({ firstOfDay: true, firstOfMonth: true, previousLast: null });
    expect(step("2025-08-07")).toMatchObject({ firstOfDay: true, firstOfMonth: false, previousLast: d("2025-08-05") });
    expect(ranges).toEqual([
      { first: d("2025-08-05"), last: d("2025-08-05") },
      { first: d("2025-08-07"), last: d("2025-08-07") },
    ]);
    // The day between joins both: one range.
    expect(step("2025-08-06")).toMatchObject({ firstOfDay: true, firstOfMonth: false, previousLast: d("2025-08-07") });
    expect(ranges).toEqual([{ first: d("2025-08-05"), last: d("2025-08-07") }]);
    // A known day: nothing new, the last active day reported as it is.
    expect(step("2025-08-06")).toEqual({ firstOfDay: false, firstOfMonth: false, previousLast: d("2025-08-07"), write: null });
    // Joining the end, and the start.
    step("2025-08-08");
    step("2025-08-04");
    expect(ranges).toEqual([{ first: d("2025-08-04"), last: d("2025-08-08") }]);
    // A backfill into an earlier month: first of its day and month; the last active day stays the newest.
    expect(step("2025-07-20")).toMatchObject({ firstOfDay: true, firstOfMonth: true, previousLast: d("2025-08-08") });
    expect(step("2025-07-31")).toMatchObject({ firstOfDay: true, firstOfMonth: false });
    // A month whose only active day lies after the new one is not new either.
    expect(step("2025-09-30")).toMatchObject({ firstOfMonth: true });
    expect(step("2025-09-02")).toMatchObject({ firstOfDay: true, firstOfMonth: false });
    expect(ranges.length).toBe(5);
  });

  it("keeps 10 years and a month for backfills", () => {
    const now = Date.parse("2035-06-15T12:00:00Z");
    expect(keepFromDay(now)).toBe(Math.floor((now - 3653 * 86_400_000) / 86_400_000) - 31);
    expect(dayText(keepFromDay(now)) < "2025-06-15").toBe(true);
  });
});
