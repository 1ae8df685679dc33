import { firstDayOfPeriod, monthOfDay } from "./calendar";

/** What the streak math needs of a definition. */
export type StreakRules = { period: "day" | "week"; freezesPerMonth: number };

/**
 * A user's streak, computed from the set of periods with a qualifying log:
 * - `current`: consecutive periods ending at the latest qualifying period (`lastPeriod`);
 * - `longest`: the longest such run ever;
 * - `aliveThrough`: the last period in which the streak is still alive if the user logs nothing more
 *   (the period after `lastPeriod`, plus as many further periods as the remaining freezes cover).
 */
export type StreakSummary = { current: number; longest: number; lastPeriod: number; aliveThrough: number };

/** A streak never stays alive more than this many periods past its last log, whatever the freezes allow. */
export const MAX_ALIVE_PERIODS = 1_000;

/** The local calendar month a period belongs to for freezes: the month of its first day (a week's Monday). */
const freezeMonth = (period: number, rules: StreakRules): string => monthOfDay(firstDayOfPeriod(period, rules.period));

/** Freezes used per month. A gap is forgiven only as a whole, and only if every month it touches can afford it. */
class FreezeBudget {
  private readonly used = new Map<string, number>();

  constructor(private readonly rules: StreakRules) {}

  /** Forgives the missed periods `from`..`to` (both included) if the budget allows all of them. */
  forgive(from: number, to: number): boolean {
    if (this.rules.freezesPerMonth === 0) return false;
    const wanted = new Map<string, number>();
    for (let period = from; period <= to; period++) {
      const month = freezeMonth(period, this.rules);
      const count = (wanted.get(month) ?? 0) + 1;
      if ((this.used.get(month) ?? 0) + count > this.rules.freezesPerMonth) return false;
      wanted.set(month, count);
    }
    for (const [month, count] of wanted) this.used.set(month, (this.used.get(month) ?? 0) + count);
    return true;
  }
}

/**
 * Summarises a streak from its qualifying periods, which may come in any order (duplicates count once):
 * the result depends only on the set, so logs that arrive late or out of order give the same answer as logs
 * in time order. Null when there are none.
 */
export function summarizeStreak(periods: Iterable<number>, rules: StreakRules): StreakSummary | null {
  const sorted = [...new Set(periods)].sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const budget = new FreezeBudget(rules);
  let run = 0;
  let longest = 0;
  let previous: number | null = null;
  for (const period of sorted) {
    // Missed periods between two qualifying ones keep the run only if freezes forgive all of them; a
    // forgiven period keeps the run alive but does not add to its length.
    const continues = previous !== null && (period === previous + 1 || budget.forgive(previous + 1, period - 1));
    run = continues ? run + 1 : 1;
    longest = Math.max(longest, run);
    previous = period;
  }
  const lastPeriod = previous!;
  // Alive in the period after the last log; each further period needs a freeze for the one before it.
  let aliveThrough = lastPeriod + 1;
  while (aliveThrough - lastPeriod < MAX_ALIVE_PERIODS && budget.forgive(aliveThrough, aliveThrough)) aliveThrough += 1;
  return { current: run, longest, lastPeriod, aliveThrough };
}

/** Whether a streak is alive in period `now`: its last log is in `now` or the period before, or freezes cover the gap. */
export const isAlive = (summary: StreakSummary, now: number): boolean => now <= summary.aliveThrough;
