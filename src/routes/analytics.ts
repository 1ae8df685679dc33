import { z } from "@hono/zod-openapi";
import { DefinitionIdSchema } from "../domain/game-definitions";
import { errorResponses } from "../http/errors";
import { jsonResponse, serverRoute } from "../http/openapi";
import { createRouter } from "../http/router";
import { analyticsOfStreak } from "../services/streaks";
import { streakAnalyticsExample, withExamples } from "./examples";

export const StreakAnalyticsSchema = z
  .object({
    streakId: z.string(),
    totalParticipants: z.number().int().describe("Users with at least one qualifying log"),
    activeParticipants: z.number().int().describe("Users whose streak is alive now"),
    averageStreakLength: z.number().describe("Mean current streak of the active participants, one decimal"),
    longestUserStreak: z.number().int(),
    completionRate: z.number().describe("Share of participants whose longest streak reached the goal, two decimals"),
  })
  .openapi("StreakAnalytics");
export type StreakAnalytics = z.infer<typeof StreakAnalyticsSchema>;
/** The 200 body of GET /v1/analytics/streak. */
export const StreakAnalyticsResponseSchema = StreakAnalyticsSchema.nullable();

const getStreakAnalytics = serverRoute({
  method: "get",
  path: "/analytics/streak",
  operationId: "getStreakAnalytics",
  scope: "stats:read",
  summary: "Aggregated analytics of a streak (null while it has none)",
  tags: ["Analytics"],
  request: { query: z.object({ streakId: DefinitionIdSchema }) },
  responses: {
    200: withExamples(jsonResponse(StreakAnalyticsResponseSchema, "The analytics, or null for an unknown streak or one without participants"), {
      dailyLogin: { summary: "A daily login streak (the seed's answer)", value: streakAnalyticsExample },
    }),
    ...errorResponses(400, 401, 403),
  },
});

export const analyticsRoutes = createRouter().openapi(getStreakAnalytics, async (c) => {
  const analytics = await analyticsOfStreak(c.var.db, c.get("principal").projectKey, c.req.valid("query").streakId);
  return c.json(analytics, 200);
});
