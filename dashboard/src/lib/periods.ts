/** Calendar arithmetic on YYYY-MM-DD strings (no time zone involved: a date is a label here). */

export type BoardPeriod = "all" | "day" | "week" | "month";

const parse = (day: string) => new Date(`${day}T00:00:00Z`);
const format = (date: Date) => date.toISOString().slice(0, 10);

export const addDays = (day: string, days: number) => {
  const date = parse(day);
  date.setUTCDate(date.getUTCDate() + days);
  return format(date);
};

/** The first day of the board period containing `day`: itself, its Monday, or the 1st of its month. */
export function periodStartOf(period: BoardPeriod, day: string): string {
  if (period === "week") return addDays(day, -((parse(day).getUTCDay() + 6) % 7));
  if (period === "month") return `${day.slice(0, 7)}-01`;
  return day;
}

/** The start of the period `steps` periods before (negative) or after (positive) the one starting on `start`. */
export function shiftPeriod(period: BoardPeriod, start: string, steps: number): string {
  if (period === "day") return addDays(start, steps);
  if (period === "week") return addDays(start, 7 * steps);
  const date = parse(start);
  date.setUTCMonth(date.getUTCMonth() + steps, 1);
  return format(date);
}
