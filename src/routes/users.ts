import { z } from "@hono/zod-openapi";
import { assertActsFor } from "../auth/principal";
import { getDb } from "../db/client";
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
  })
  .openapi("PointsProfile");
export type PointsProfileBody = z.infer<typeof PointsProfileSchema>;

const getProfile = principalRoute({
  method: "get",
  path: "/users/{userId}",
  operationId: "getUserProfile",
  scope: "users:read",
  summary: "A user's points profile: balance, usergroups, streaks, challenges (a user token reads only its own)",
  tags: ["Users"],
  request: { params: z.object({ userId: UserIdParamSchema }) },
  responses: { 200: jsonResponse(PointsProfileSchema, "The profile"), ...errorResponses(401, 403, 404) },
});

export const usersRoutes = createRouter().openapi(getProfile, async (c) => {
  const { userId } = c.req.valid("param");
  const principal = c.get("principal");
  assertActsFor(principal, userId);
  const profile = await pointsProfile(c.env, getDb(c.env.DB), principal.projectKey, userId);
  if (!profile) throw userNotFound(userId);
  return c.json(profile, 200);
});
