/** The current reward amount of each event the user's rewards were adjusted on. */

export function adjustedAmount(sql: SqlStorage, eventUid: string): number | null {
  return sql.exec<{ amount: number }>("SELECT amount FROM reward_adjustments WHERE event_uid = ?", eventUid).toArray()[0]?.amount ?? null;
}

export function saveAdjustedAmount(sql: SqlStorage, eventUid: string, amount: number, now: number): void {
  sql.exec("INSERT OR REPLACE INTO reward_adjustments (event_uid, amount, adjusted_at) VALUES (?, ?, ?)", eventUid, amount, now);
}
