import { heldOr, hold } from "./held";

/** Rewarded logs per event and limit period (`lifetime`, a UTC day, an ISO week or a month). */

/** Counters are held in memory once read or written (./held.ts). */
const heldKey = (eventId: string, periodKey: string) => `limit\u0000${eventId}\u0000${periodKey}`;

export function usedInPeriod(sql: SqlStorage, eventId: string, periodKey: string): number {
  return heldOr(
    sql,
    heldKey(eventId, periodKey),
    () => sql.exec<{ used: number }>("SELECT used FROM limit_counters WHERE event_id = ? AND period_key = ?", eventId, periodKey).toArray()[0]?.used ?? 0,
  );
}

export function countRewardedLog(sql: SqlStorage, eventId: string, periodKey: string): void {
  const { used } = sql
    .exec<{ used: number }>(
      `INSERT INTO limit_counters (event_id, period_key, used) VALUES (?, ?, 1)
       ON CONFLICT (event_id, period_key) DO UPDATE SET used = used + 1 RETURNING used`,
      eventId,
      periodKey,
    )
    .one();
  hold(sql, heldKey(eventId, periodKey), used);
}

/** Every counter as `eventId/periodKey` → used, for snapshots. */
export function allCounters(sql: SqlStorage): Record<string, number> {
  const counters: Record<string, number> = {};
  for (const row of sql.exec<{ event_id: string; period_key: string; used: number }>("SELECT event_id, period_key, used FROM limit_counters")) {
    counters[`${row.event_id}/${row.period_key}`] = row.used;
  }
  return counters;
}
