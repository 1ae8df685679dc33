import { canonicalTimeZone, dateToDay, dayToDate, localDayNumber, startOfLocalDay } from "./calendar";
import type { PointsExpiry } from "./points-lifecycle";

/**
 * Points live in lots (README "Points lifecycle"): each earn (a log, a challenge bonus, a positive adjustment,
 * a reversal whose lots expired meanwhile) is one lot with its own expiry; spending and negative adjustments
 * take from the oldest lot first; a lot's remainder expires at its date. The lots' remainders always add up to
 * the balance when it is positive, and to 0 when it is not: a negative balance (an adjustment allowed to
 * overdraw) is a debt, which any points added later pay first. Pure decisions; the user's object stores lots.
 */

/** Zone names as given → the zone computed in (canonicalTimeZone builds an Intl formatter: not once per log). */
const zones = new Map<string, string>();

/**
 * The zone a policy's dates are computed in: its own when Intl knows it, else UTC (the Worker validates zones;
 * this only keeps a bad stored one from failing every log).
 */
export function policyTimeZone(timeZone: string): string {
  let zone = zones.get(timeZone);
  if (zone === undefined) {
    zone = canonicalTimeZone(timeZone) ?? "UTC";
    // A project has one zone; the bound only keeps odd inputs from growing the map.
    if (zones.size >= 100) zones.clear();
    zones.set(timeZone, zone);
  }
  return zone;
}

/**
 * When a lot earned at `earnedAt` expires (epoch ms), or null: never. Dates are local to `timeZone`:
 * - `after_days`: at the end of the local day `days` days after the day it was earned (the next local
 *   midnight after it, or the moment that day begins when a DST change skips midnight): earned on 10 January
 *   with 30 days, usable through 9 February, gone at 00:00 on 10 February.
 * - `end_of_year_after`: at the end of the local year `years` after the year it was earned (00:00 on 1 January
 *   of the year after that): earned in 2026 with 1 year, usable through 31 December 2027; 0 years: the end of
 *   the year it was earned in.
 */
export function lotExpiresAt(earnedAt: number, expiry: PointsExpiry, timeZone: string): number | null {
  if (expiry.mode === "none") return null;
  const zone = policyTimeZone(timeZone);
  const earnedDay = localDayNumber(earnedAt, zone);
  switch (expiry.mode) {
    case "after_days":
      return startOfLocalDay(earnedDay + expiry.days + 1, zone);
    case "end_of_year_after": {
      const year = Number(dayToDate(earnedDay).slice(0, 4));
      return startOfLocalDay(dateToDay(`${String(year + expiry.years + 1).padStart(4, "0")}-01-01`), zone);
    }
  }
}

/** A lot's id (its age: lower is older) and what is left of it. */
export type LotRemainder = { id: number; remaining: number };
/** Points taken from one lot. */
export type LotTake = { lotId: number; points: number };

/**
 * Takes `points` from lots in the order given (oldest first), reading no further than it needs. `untaken`: what
 * the lots could not cover.
 */
export function takeOldestFirst(lots: Iterable<LotRemainder>, points: number): { taken: LotTake[]; untaken: number } {
  const taken: LotTake[] = [];
  let left = points;
  if (left > 0) {
    for (const lot of lots) {
      const take = Math.min(lot.remaining, left);
      if (take > 0) taken.push({ lotId: lot.id, points: take });
      left -= take;
      if (left === 0) break;
    }
  }
  return { taken, untaken: left };
}

/** Of `points` (> 0) added to a balance, what goes into lots: a debt (a negative balance) is paid first. */
export const creditedToLots = (balance: number, points: number): number => Math.max(0, balance + points) - Math.max(0, balance);

/** Of `points` (> 0) taken from a balance, what comes out of lots; the rest makes or deepens a debt. */
export const debitedFromLots = (balance: number, points: number): number => Math.max(0, balance) - Math.max(0, balance - points);

/**
 * How a redemption's points go back when it is reversed: each lot it took from gets its points back while the
 * lot has not expired; what it took from lots that expired meanwhile becomes one new lot (expiring like a fresh
 * earn: the member loses nothing to the expiry, and gains no more time than a new earn would). A debt is paid
 * first, from the points in the order they were taken.
 */
export function giveBack(
  taken: readonly LotTake[],
  isExpired: (lotId: number) => boolean,
  debt: number,
): { restored: LotTake[]; newLot: number; paidDebt: number } {
  let owed = Math.max(0, debt);
  const restored: LotTake[] = [];
  let newLot = 0;
  for (const take of taken) {
    const toDebt = Math.min(owed, take.points);
    owed -= toDebt;
    const back = take.points - toDebt;
    if (back === 0) continue;
    if (isExpired(take.lotId)) newLot += back;
    else restored.push({ lotId: take.lotId, points: back });
  }
  return { restored, newLot, paidDebt: Math.max(0, debt) - owed };
}
