import type { Db } from "../db/client";
import { firstEventDay, readStatsRows } from "../db/stats";
import { dayOf } from "../domain/periods";
import { eventStats, globalStats, requestedWindow, sumTotals, type StatsPeriod } from "../domain/stats";
import { eventNotFound } from "../http/errors";
import { findDefinition } from "./definitions";

export type StatsQuery = { period: StatsPeriod; eventId: string | null; month: string | null };

/**
 * Global or per-event statistics: picks the window (a whole month, or a period ending today in UTC), reads the
 * aggregate rows in one D1 round trip and shapes them. Throws 404 for an event the project does not define.
 */
export async function eventStatistics(db: Db, projectKey: string, query: StatsQuery) {
  const { eventId, month } = query;
  if (eventId !== null && !(await findDefinition(db, projectKey, eventId))) throw eventNotFound(eventId);
  const firstDay = month === null && query.period === "all" ? await firstEventDay(db.$client, projectKey) : null;
  const { period, ...window } = requestedWindow({ period: query.period, month }, dayOf(new Date().toISOString()), firstDay);
  const scope = eventId === null ? ({ kind: "global" } as const) : ({ kind: "event", eventId } as const);
  const rows = await readStatsRows(db.$client, projectKey, scope, window, month);
  const data = scope.kind === "global" ? globalStats({ window, ...rows }) : eventStats({ window, ...rows, totals: sumTotals(rows.eventTotals) });
  return { period, eventId, ...window, data };
}
