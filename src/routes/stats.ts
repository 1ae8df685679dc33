import { createRoute, z } from "@hono/zod-openapi";
import { requireServerRights } from "../auth/middleware";
import { getDb } from "../db/client";
import { findDefinition } from "../db/definitions";
import { firstEventDay, readStatsRows } from "../db/stats";
import { EventIdSchema } from "../domain/definition";
import { dayOf } from "../domain/periods";
import { eventStats, globalStats, MONTH_PATTERN, requestedWindow, STATS_PERIODS, sumTotals } from "../domain/stats";
import { ApiError, errorResponses } from "../http/errors";
import { anyCredential, createRouter } from "../http/router";

const hourly = z.array(z.number().int()).length(24).describe("Events per UTC hour, 0 to 23");

const GlobalStatsSchema = z
  .object({
    totalEvents: z.number().int(),
    uniqueUsers: z.number().int(),
    totalPoints: z.number().int(),
    eventBreakdown: z.record(z.string(), z.object({ count: z.number().int(), users: z.number().int(), points: z.number().int() })),
    topEvents: z.array(z.string()).max(10),
    dailyData: z.record(
      z.string(),
      z.object({ events: z.number().int(), users: z.number().int(), points: z.number().int(), hourlyDistribution: hourly }),
    ),
    _metadata: z.object({ uniqueUsersCalculationMethod: z.literal("exact"), uniqueUsersNote: z.null() }),
  })
  .openapi("GlobalEventStats");

const EventStatsSchema = z
  .object({
    totalCount: z.number().int(),
    uniqueUsers: z.number().int(),
    pointsAwarded: z.number().int(),
    conditionMet: z.number().int(),
    conditionFailed: z.number().int(),
    limitReached: z.number().int(),
    dailyData: z.record(
      z.string(),
      z.object({ count: z.number().int(), users: z.number().int(), points: z.number().int(), hourlyDistribution: hourly }),
    ),
  })
  .openapi("EventStats");

const StatsResponseSchema = z.object({
  period: z.string(),
  eventId: z.string().nullable(),
  startDate: z.string(),
  endDate: z.string(),
  data: z.union([GlobalStatsSchema, EventStatsSchema]),
});

const getStats = createRoute({
  method: "get",
  path: "/stats/event",
  summary: "Global or per-event statistics for a UTC window ending today",
  tags: ["Analytics"],
  security: anyCredential,
  middleware: [requireServerRights] as const,
  request: {
    query: z
      .object({
        period: z.enum(STATS_PERIODS).default("7d"),
        eventId: EventIdSchema.optional(),
        timeframe: z.enum(["month"]).optional().openapi({ description: "`month` with `month=YYYY-MM` uses the monthly aggregates" }),
        month: z.string().optional().openapi({ example: "2025-08", description: "YYYY-MM; used with timeframe=month" }),
      })
      .superRefine((query, ctx) => {
        if (query.timeframe === "month" && (query.month === undefined || !MONTH_PATTERN.test(query.month))) {
          ctx.addIssue({ code: "custom", path: ["month"], message: "must be YYYY-MM when timeframe=month" });
        }
      }),
  },
  responses: {
    200: { description: "Statistics", content: { "application/json": { schema: StatsResponseSchema } } },
    ...errorResponses(400, 401, 403, 404),
  },
});

export const statsRoutes = createRouter().openapi(getStats, async (c) => {
  const { period, eventId, timeframe, month } = c.req.valid("query");
  const projectKey = c.get("principal").projectKey;
  if (eventId !== undefined && !(await findDefinition(getDb(c.env.DB), projectKey, eventId))) {
    throw new ApiError(404, `Event ${eventId} does not exist in this project`);
  }
  const byMonth = timeframe === "month" && month !== undefined ? month : null;
  const firstDay = byMonth === null && period === "all" ? await firstEventDay(c.env.DB, projectKey) : null;
  const { period: reported, ...window } = requestedWindow({ period, month: byMonth }, dayOf(new Date().toISOString()), firstDay);
  const scope = eventId === undefined ? ({ kind: "global" } as const) : ({ kind: "event", eventId } as const);
  const rows = await readStatsRows(c.env.DB, projectKey, scope, window, byMonth);
  const data =
    scope.kind === "global"
      ? globalStats({ window, ...rows })
      : eventStats({ window, ...rows, totals: sumTotals(rows.eventTotals) });
  return c.json({ period: reported, eventId: eventId ?? null, ...window, data }, 200);
});
