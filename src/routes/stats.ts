import { z } from "@hono/zod-openapi";
import { EventIdSchema } from "../domain/definition";
import { monthProblem } from "../domain/periods";
import { STATS_PERIODS } from "../domain/stats";
import { errorResponses } from "../http/errors";
import { jsonResponse, serverRoute } from "../http/openapi";
import { createRouter } from "../http/router";
import { eventStatistics } from "../services/stats";
import { eventStatsExample, globalStatsExample, withExamples } from "./examples";

const hourly = z.array(z.number().int()).length(24).describe("Events per UTC hour, 0 to 23");

export const GlobalStatsSchema = z
  .object({
    totalEvents: z.number().int(),
    uniqueUsers: z.number().int(),
    totalPoints: z.number().int(),
    eventBreakdown: z.record(z.string(), z.object({ count: z.number().int(), users: z.number().int(), points: z.number().int() })),
    topEvents: z.array(z.string()).max(10),
    dailyData: z.record(z.string(), z.object({ events: z.number().int(), users: z.number().int(), points: z.number().int(), hourlyDistribution: hourly })),
    _metadata: z.object({ uniqueUsersCalculationMethod: z.literal("daily_exact"), uniqueUsersNote: z.null() }),
  })
  .openapi("GlobalEventStats");

export const EventStatsSchema = z
  .object({
    totalCount: z.number().int(),
    uniqueUsers: z.number().int(),
    pointsAwarded: z.number().int(),
    conditionMet: z.number().int(),
    conditionFailed: z.number().int(),
    limitReached: z.number().int(),
    dailyData: z.record(z.string(), z.object({ count: z.number().int(), users: z.number().int(), points: z.number().int(), hourlyDistribution: hourly })),
  })
  .openapi("EventStats");

/** The 200 body of GET /v1/stats/event: global, or per event with eventId. */
export const StatsResponseSchema = z.object({
  period: z.string(),
  eventId: z.string().nullable(),
  startDate: z.string(),
  endDate: z.string(),
  data: z.union([GlobalStatsSchema, EventStatsSchema]),
});
export type GlobalStatsBody = { period: string; eventId: null; startDate: string; endDate: string; data: z.infer<typeof GlobalStatsSchema> };
export type EventStatsBody = { period: string; eventId: string; startDate: string; endDate: string; data: z.infer<typeof EventStatsSchema> };

const getStats = serverRoute({
  method: "get",
  path: "/stats/event",
  operationId: "getEventStats",
  scope: "stats:read",
  summary: "Global or per-event statistics for a UTC window ending today",
  tags: ["Analytics"],
  request: {
    query: z
      .object({
        period: z.enum(STATS_PERIODS).default("7d"),
        eventId: EventIdSchema.optional(),
        timeframe: z.enum(["month"]).optional().openapi({ description: "`month` with `month=YYYY-MM` uses the monthly aggregates" }),
        month: z.string().optional().openapi({ example: "2025-08", description: "YYYY-MM; used with timeframe=month" }),
      })
      .superRefine((query, ctx) => {
        if (query.timeframe !== "month") return;
        const problem = query.month === undefined ? "required when timeframe=month" : monthProblem(query.month, new Date().toISOString());
        if (problem !== null) ctx.addIssue({ code: "custom", path: ["month"], message: problem });
      }),
  },
  responses: {
    200: withExamples(jsonResponse(StatsResponseSchema, "Statistics"), {
      global: { summary: "All events, last 7 days (the seed's global answer)", value: globalStatsExample },
      perEvent: { summary: "One event (eventId=purchase_completed), last 30 days (the seed's per-event answer)", value: eventStatsExample },
    }),
    ...errorResponses(400, 401, 403, 404),
  },
});

export const statsRoutes = createRouter().openapi(getStats, async (c) => {
  const { period, eventId, timeframe, month } = c.req.valid("query");
  const byMonth = timeframe === "month" && month !== undefined ? month : null;
  const stats = await eventStatistics(c.var.db, c.get("principal").projectKey, {
    period,
    eventId: eventId ?? null,
    month: byMonth,
  });
  return c.json(stats, 200);
});
