import { z } from "@hono/zod-openapi";
import { assertActsFor } from "../auth/principal";
import { UserIdParamSchema } from "../domain/user-id";
import { errorResponses, userNotFound } from "../http/errors";
import { jsonResponse, principalRoute } from "../http/openapi";
import { createRouter } from "../http/router";
import { pointsProfile } from "../services/users";

const PointsProfileSchema = z
  .object({
    userId: z.string(),
    accountId: z.number().int(),
    balance: z.number().int(),
    usergroups: z.array(z.string()),
    attributes: z.record(z.string(), z.unknown()),
    streaks: z.array(
      z.object({
        streakId: z.string(),
        current: z.number().int().describe("Consecutive periods ending at the latest qualifying one"),
        longest: z.number().int(),
        alive: z.boolean().describe("The latest qualifying period is the current or the previous one (or freezes cover the gap)"),
        lastPeriod: z.string().nullable().describe("First local day (YYYY-MM-DD) of the latest qualifying period"),
      }),
    ),
    challenges: z.array(
      z.object({
        challengeId: z.string(),
        periodStart: z.string().nullable().describe("First local day of the current period; null for period once"),
        progress: z.number(),
        target: z.number(),
        completed: z.boolean(),
      }),
    ),
    expiring: z
      .array(z.object({ points: z.number().int(), expiresAt: z.string() }))
      .max(3)
      .describe("The next (at most three) dates on which points expire, soonest first, with the points expiring then"),
    tier: z
      .object({
        tierId: z.string().nullable().describe("null: below the ladder's lowest level"),
        title: z.string().nullable(),
        since: z.string().nullable().describe("When the member reached this tier"),
        pointsInWindow: z.number().int().describe("Points earned in the ladder's current window"),
        next: z
          .object({ tierId: z.string(), pointsNeeded: z.number().int() })
          .nullable()
          .describe("The next level up and the points still to earn in the window; null at the top"),
      })
      .nullable()
      .describe("Where the member stands on the project's tier ladder; null when the project has none"),
  })
  .openapi("PointsProfile");
export type PointsProfileBody = z.infer<typeof PointsProfileSchema>;

const getProfile = principalRoute({
  method: "get",
  path: "/users/{userId}",
  operationId: "getUserProfile",
  scope: "users:read",
  summary: "A user's points profile: balance, usergroups, streaks, challenges, tier, expiring points (a user token reads only its own)",
  tags: ["Users"],
  request: { params: z.object({ userId: UserIdParamSchema }) },
  responses: { 200: jsonResponse(PointsProfileSchema, "The profile"), ...errorResponses(401, 403, 404) },
});

export const usersRoutes = createRouter().openapi(getProfile, async (c) => {
  const { userId } = c.req.valid("param");
  const principal = c.get("principal");
  assertActsFor(principal, userId);
  const profile = await pointsProfile(c.env, c.var.db, principal.projectKey, userId);
  if (!profile) throw userNotFound(userId);
  return c.json(profile, 200);
});
