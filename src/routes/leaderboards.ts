import { z } from "@hono/zod-openapi";
import { assertActsFor } from "../auth/principal";
import { DefinitionIdSchema, LeaderboardDefinitionSchema } from "../domain/game-definitions";
import { CLOSED_PERIOD_GRACE_MS, CLOSED_PERIOD_KEPT_ENTRIES, PeriodStartSchema } from "../domain/leaderboards";
import { MAX_LEADERBOARD_OFFSET } from "../domain/limits";
import { UserIdParamSchema } from "../domain/user-id";
import { errorResponses } from "../http/errors";
import { jsonResponse, principalRoute } from "../http/openapi";
import { createRouter } from "../http/router";
import { leaderboardEntry, leaderboardPage } from "../services/leaderboards";

const EntrySchema = z.object({ rank: z.number().int(), userId: z.string(), score: z.number().int() }).openapi("LeaderboardEntry");

const closureFields = {
  closed: z
    .boolean()
    .describe(
      `True once the period ended more than ${CLOSED_PERIOD_GRACE_MS / 86_400_000} days ago and was closed: its standings are final and it keeps listing its top entries only`,
    ),
  keptEntries: z
    .number()
    .int()
    .nullable()
    .describe(`How many top entries a closed period lists (${CLOSED_PERIOD_KEPT_ENTRIES}); null while the period is open`),
};

const StandingsSchema = z
  .object({
    leaderboardId: z.string(),
    title: z.string(),
    period: z.enum(LeaderboardDefinitionSchema.shape.period.options),
    periodStart: z.string().nullable().describe("First local day of the period (YYYY-MM-DD); null for period all"),
    periodEnd: z.string().nullable().describe("Last local day of the period; null for period all"),
    totalParticipants: z.number().int(),
    ...closureFields,
    entries: z
      .array(EntrySchema)
      .describe(
        "Competition ranking (1, 2, 2, 4); equal scores ordered by who reached them first. A closed period lists its top keptEntries only: pages past them are empty",
      ),
  })
  .openapi("LeaderboardStandings");
export type StandingsBody = z.infer<typeof StandingsSchema>;

const UserRankSchema = z
  .object({
    rank: z.number().int(),
    userId: z.string(),
    score: z.number().int(),
    listed: z
      .boolean()
      .describe(
        "False when the user is not among a closed period's listed entries: the rank is then 1 + the users with a higher score (from the period's score histogram), and the user's place among equal scores is not kept",
      ),
  })
  .openapi("LeaderboardUserRank");

const UserEntrySchema = z
  .object({
    leaderboardId: z.string(),
    period: z.string(),
    periodStart: z.string().nullable(),
    ...closureFields,
    entry: UserRankSchema.nullable(),
  })
  .openapi("LeaderboardUserEntry");
export type UserEntryBody = z.infer<typeof UserEntrySchema>;

const periodStart = PeriodStartSchema.optional().openapi({
  example: "2026-11-23",
  description: "First day of a past period (a Monday for weekly boards); default: the current period",
});
const params = z.object({ leaderboardId: DefinitionIdSchema });

const getStandings = principalRoute({
  method: "get",
  path: "/leaderboards/{leaderboardId}",
  operationId: "getLeaderboardStandings",
  scope: "stats:read",
  summary: "A leaderboard's standings for a period",
  description: `Pages by limit and offset (at most ${MAX_LEADERBOARD_OFFSET}); while more entries follow, Link: rel="next" carries a cursor that continues at any depth for the cost of one page. A closed period (ended more than ${CLOSED_PERIOD_GRACE_MS / 86_400_000} days ago) lists its top ${CLOSED_PERIOD_KEPT_ENTRIES} entries only; pages past them are empty.`,
  tags: ["Leaderboards"],
  request: {
    params,
    query: z
      .object({
        limit: z.coerce.number().int().min(1).max(100).default(10),
        offset: z.coerce
          .number()
          .int()
          .min(0)
          .max(MAX_LEADERBOARD_OFFSET)
          .optional()
          .openapi({ type: "integer", default: 0, description: `At most ${MAX_LEADERBOARD_OFFSET}; further with the cursor of Link: rel="next"` }),
        periodStart,
        cursor: z
          .string()
          .optional()
          .openapi({ description: 'Continue after the page that returned it in Link: rel="next" (instead of offset), at any depth' }),
      })
      .superRefine((query, ctx) => {
        if (query.cursor !== undefined && query.offset !== undefined) {
          ctx.addIssue({ code: "custom", path: ["offset"], message: "must not be sent with cursor (the cursor says where the page starts)" });
        }
      }),
  },
  responses: { 200: jsonResponse(StandingsSchema, "The standings"), ...errorResponses(400, 401, 404) },
});

const getUserEntry = principalRoute({
  method: "get",
  path: "/leaderboards/{leaderboardId}/users/{userId}",
  operationId: "getLeaderboardUserEntry",
  scope: "stats:read",
  summary: "One user's rank and score (a user token reads only its own)",
  description: `On a closed period, a user below its top ${CLOSED_PERIOD_KEPT_ENTRIES} still gets a rank (1 + the users with a higher score) with listed: false.`,
  tags: ["Leaderboards"],
  request: { params: params.extend({ userId: UserIdParamSchema }), query: z.object({ periodStart }) },
  responses: { 200: jsonResponse(UserEntrySchema, "The user's entry, null without a score"), ...errorResponses(400, 401, 403, 404) },
});

export const leaderboardsRoutes = createRouter()
  .openapi(getStandings, async (c) => {
    const query = c.req.valid("query");
    const { standings, nextCursor } = await leaderboardPage(c.var.db, c.get("principal").projectKey, c.req.valid("param").leaderboardId, {
      ...query,
      offset: query.offset ?? 0,
    });
    if (nextCursor !== null) {
      // Relative (path and query, never the request's Host), naming the period so the walk stays on it.
      const url = new URL(c.req.url);
      url.searchParams.delete("offset");
      url.searchParams.set("limit", String(query.limit));
      if (standings.periodStart !== null) url.searchParams.set("periodStart", standings.periodStart);
      url.searchParams.set("cursor", nextCursor);
      c.header("Link", `<${url.pathname}${url.search}>; rel="next"`);
    }
    return c.json(standings, 200);
  })
  .openapi(getUserEntry, async (c) => {
    const { leaderboardId, userId } = c.req.valid("param");
    const principal = c.get("principal");
    assertActsFor(principal, userId);
    const entry = await leaderboardEntry(c.env, c.var.db, principal.projectKey, leaderboardId, userId, c.req.valid("query").periodStart);
    return c.json(entry, 200);
  });
