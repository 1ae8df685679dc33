import { z } from "@hono/zod-openapi";
import { boundedJsonObject } from "../domain/json";
import { MAX_IDEMPOTENCY_KEY_LENGTH } from "../domain/limits";
import { monthProblem } from "../domain/periods";
import { POINTS_HISTORY_TYPES } from "../domain/points-lifecycle";
import { STATS_PERIODS } from "../domain/stats";
import { UserIdParamSchema } from "../domain/user-id";
import { errorResponses } from "../http/errors";
import { jsonBody, jsonResponse, principalRoute, serverRoute } from "../http/openapi";
import { createRouter } from "../http/router";
import { checkIdempotencyKey } from "../services/event-logging";
import { pointsHistoryPage, pointsStatistics, redeemPoints, reverseRedemption } from "../services/points-lifecycle";

/** Points a redemption may take at once (the balance's own bound is 2^53 − 1). */
export const MAX_REDEMPTION_POINTS = 1_000_000_000_000;

const RedemptionInputSchema = z
  .strictObject({
    points: z.number().int().min(1).max(MAX_REDEMPTION_POINTS).describe("Points to take from the balance (oldest lots first)"),
    reason: z.string().min(1).max(500).describe("Why, as the history shows it (a reward's name, an order)"),
    reference: z.string().min(1).max(200).optional().describe("Your own id for it (an order, a voucher)"),
    metadata: boundedJsonObject().optional().describe("Kept with the redemption (at most 32 KiB as JSON)"),
  })
  .openapi("RedemptionInput");

const RedemptionSchema = z
  .object({
    redemptionId: z.string(),
    points: z.number().int(),
    balance: z.number().int().describe("The balance after the redemption (at the time it was made, for a replay)"),
    createdAt: z.string(),
  })
  .openapi("Redemption");
export type RedemptionBody = z.infer<typeof RedemptionSchema>;

const ReversalInputSchema = z.strictObject({ reason: z.string().min(1).max(500) }).openapi("ReversalInput");

const ReversalSchema = z
  .object({
    redemptionId: z.string(),
    points: z.number().int().describe("The points given back"),
    reason: z.string().describe("The redemption's reason"),
    reference: z.string().nullable(),
    createdAt: z.string().describe("When the redemption was made"),
    reversedAt: z.string(),
    balance: z.number().int().describe("The balance after the reversal"),
  })
  .openapi("Reversal");
export type ReversalBody = z.infer<typeof ReversalSchema>;

const PointsHistoryEntrySchema = z
  .object({
    seq: z.number().int().describe("The member's change number: the order of the changes"),
    type: z.enum(POINTS_HISTORY_TYPES),
    at: z.string(),
    points: z.number().int().describe("How the balance moved (negative for redeem, expire and negative adjustments; 0 for tier)"),
    balanceAfter: z.number().int(),
    reference: z.string().nullable().describe("earn and adjust: the loyalty event id; redeem and reverse: the redemption id"),
    reason: z.string().nullable(),
    details: z.record(z.string(), z.unknown()).nullable().describe("tier: {from, to, cause}; earn: the lot's expiry"),
  })
  .openapi("PointsHistoryEntry");

const PointsHistorySchema = z
  .object({
    entries: z.array(PointsHistoryEntrySchema).describe("Newest first"),
    nextCursor: z.string().nullable().describe("Pass as `cursor` for the next page; null after the last"),
  })
  .openapi("PointsHistory");
export type PointsHistoryBody = z.infer<typeof PointsHistorySchema>;

const PointsDaySchema = z.object({
  earned: z.number().int().describe("The stats' points: logs and challenge bonuses, adjustments applied in the adjusted event's day"),
  redeemed: z.number().int(),
  reversed: z.number().int().describe("Points given back by reversals"),
  expired: z.number().int(),
  opening: z.number().int().describe("Opening balances credited by member imports (POST /v1/admin/users/batch); not in earned"),
});

const PointsStatsSchema = z
  .object({
    period: z.string(),
    startDate: z.string(),
    endDate: z.string(),
    totals: PointsDaySchema,
    dailyData: z.record(z.string(), PointsDaySchema).describe("Every UTC day of the window, zeros included"),
  })
  .openapi("PointsStats");
export type PointsStatsBody = z.infer<typeof PointsStatsSchema>;

const userParams = z.object({ userId: UserIdParamSchema });

const idempotencyHeader = z.object({
  "idempotency-key": z.string({ error: `required: 1-${MAX_IDEMPOTENCY_KEY_LENGTH} characters naming this redemption (a retry sends the same key)` }).openapi({
    description:
      "Required; per user, kept with the redemption. A retry with the same key and body answers the first redemption again with Idempotent-Replayed: true; another body is 409",
  }),
});

const redeem = principalRoute({
  method: "post",
  path: "/users/{userId}/redemptions",
  operationId: "redeemPoints",
  scope: "points:redeem",
  summary: "Redeem a user's points",
  description:
    "Takes `points` from the balance, oldest lots first, decided by the user's object (exact under concurrency). 422 naming `points` when the balance, after the expiries due, is short; 409 when the Idempotency-Key was used with another body. A user token redeems only its own points, and only where the project's `userTokensMayRedeem` is true.",
  tags: ["Users"],
  request: { params: userParams, headers: idempotencyHeader, body: jsonBody(RedemptionInputSchema) },
  responses: {
    201: jsonResponse(RedemptionSchema, "Redeemed (a replay under the same key answers the same, with Idempotent-Replayed: true)"),
    ...errorResponses(400, 401, 403, 404, 409, 413, 422, 503),
  },
});

const reverse = serverRoute({
  method: "post",
  path: "/users/{userId}/redemptions/{redemptionId}/reversal",
  operationId: "reverseRedemption",
  scope: "points:redeem",
  summary: "Give a redemption's points back (once)",
  description:
    "The points go back to the lots they were taken from; those taken from lots that expired meanwhile come back as one lot earned now (expiring like an earn made now). A second reversal of the same redemption is 409; an unknown one 404.",
  tags: ["Users"],
  request: {
    params: userParams.extend({ redemptionId: z.string().min(1).max(100).openapi({ description: "The redemption's id (POST …/redemptions)" }) }),
    body: jsonBody(ReversalInputSchema),
  },
  responses: { 200: jsonResponse(ReversalSchema, "Reversed"), ...errorResponses(400, 401, 403, 404, 409, 503) },
});

const history = principalRoute({
  method: "get",
  path: "/users/{userId}/points-history",
  operationId: "getPointsHistory",
  scope: "users:read",
  summary: "A user's points history, newest first (a user token reads only its own)",
  description:
    "Every change of the balance with the balance after it: earn (a log or a challenge bonus), adjust, redeem, reverse, expire, and tier changes (points 0). For every member at every moment, earned − redeemed + reversed − expired ± adjusted = balance.",
  tags: ["Users"],
  request: {
    params: userParams,
    query: z.object({
      cursor: z.string().min(1).max(1_000).optional(),
      limit: z.coerce.number().int().min(1).max(100).default(20),
    }),
  },
  responses: { 200: jsonResponse(PointsHistorySchema, "A page of the history"), ...errorResponses(400, 401, 403, 404, 503) },
});

const stats = serverRoute({
  method: "get",
  path: "/stats/points",
  operationId: "getPointsStats",
  scope: "stats:read",
  summary: "Points earned, redeemed, reversed, expired and brought over (opening balances) per UTC day",
  tags: ["Analytics"],
  request: {
    query: z
      .object({
        period: z.enum(STATS_PERIODS).default("7d"),
        timeframe: z.enum(["month"]).optional().openapi({ description: "`month` with `month=YYYY-MM`: that whole month" }),
        month: z.string().optional().openapi({ example: "2025-08", description: "YYYY-MM; used with timeframe=month" }),
      })
      .superRefine((query, ctx) => {
        if (query.timeframe !== "month") return;
        const problem = query.month === undefined ? "required when timeframe=month" : monthProblem(query.month, new Date().toISOString());
        if (problem !== null) ctx.addIssue({ code: "custom", path: ["month"], message: problem });
      }),
  },
  responses: { 200: jsonResponse(PointsStatsSchema, "Points per day and totals"), ...errorResponses(400, 401, 403) },
});

export const pointsRoutes = createRouter()
  .openapi(redeem, async (c) => {
    const { userId } = c.req.valid("param");
    const key = checkIdempotencyKey(c.req.valid("header")["idempotency-key"], "header", "Idempotency-Key")!;
    const { redemption, replayed } = await redeemPoints(c.env, c.var.db, c.get("principal"), userId, c.req.valid("json"), key);
    if (replayed) c.header("Idempotent-Replayed", "true");
    const { redemptionId, points, balance, createdAt } = redemption;
    return c.json({ redemptionId, points, balance, createdAt }, 201);
  })
  .openapi(reverse, async (c) => {
    const { userId, redemptionId } = c.req.valid("param");
    const { redemption, balance } = await reverseRedemption(c.env, c.var.db, c.get("principal"), userId, redemptionId, c.req.valid("json").reason);
    const { points, reason, reference, createdAt, reversedAt } = redemption;
    return c.json({ redemptionId: redemption.redemptionId, points, reason, reference, createdAt, reversedAt, balance }, 200);
  })
  .openapi(history, async (c) => {
    const { userId } = c.req.valid("param");
    const { cursor, limit } = c.req.valid("query");
    return c.json(await pointsHistoryPage(c.env, c.var.db, c.get("principal"), userId, { cursor: cursor ?? null, limit }), 200);
  })
  .openapi(stats, async (c) => {
    const { period, timeframe, month } = c.req.valid("query");
    const query = { period, month: timeframe === "month" && month !== undefined ? month : null };
    return c.json(await pointsStatistics(c.var.db, c.get("principal").projectKey, query), 200);
  });
