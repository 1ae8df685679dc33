import { z } from "@hono/zod-openapi";
import { TierLadderSchema } from "../domain/points-lifecycle";
import { TierLadderInputSchema } from "../domain/points-settings";
import { ApiError, errorResponses } from "../http/errors";
import { adminRoute, jsonBody, jsonResponse } from "../http/openapi";
import { createRouter } from "../http/router";
import { ladderBody, pointsSettingsOf, removeTierLadder, setTierLadder } from "../services/points-lifecycle";

const StoredTierLadderSchema = TierLadderSchema.extend({
  version: z.number().int().describe("The project's catalogue version the ladder is part of; grows with every change"),
  updatedAt: z.string().nullable(),
}).openapi("StoredTierLadder");
export type TierLadderBody = z.infer<typeof StoredTierLadderSchema>;

const LADDER_RULES =
  "A member's tier is the highest level whose `minPoints` the points earned in the `window` reach (logs, challenge bonuses and positive adjustments; not redemptions, expiries or reversals), in the project's time zone (PUT /v1/admin/project/settings). Below the lowest level a member has no tier. `downgrade: never` keeps a member's highest tier; `end_of_window` re-evaluates it when a window ends. The tier acts as a usergroup for rewards (`reward.<tierId>`). At most 20 levels, tier ids unique, no two levels at the same minPoints (stored sorted by it).";

const noLadder = () => new ApiError(404, "This project has no tier ladder");

const putTiers = adminRoute({
  method: "put",
  path: "/admin/tiers",
  operationId: "putTierLadder",
  scope: "definitions:write",
  summary: "Create or replace the project's tier ladder",
  description: `${LADDER_RULES} Every isolate applies a change within 5 seconds; members' tiers follow at their next change or window end.`,
  request: { body: jsonBody(TierLadderInputSchema) },
  responses: {
    200: jsonResponse(StoredTierLadderSchema, "Replaced"),
    201: jsonResponse(StoredTierLadderSchema, "Created"),
    ...errorResponses(400, 401, 403),
  },
});

const getTiers = adminRoute({
  method: "get",
  path: "/admin/tiers",
  operationId: "getTierLadder",
  scope: "events:read",
  summary: "The project's tier ladder",
  description: LADDER_RULES,
  responses: { 200: jsonResponse(StoredTierLadderSchema, "The ladder"), ...errorResponses(401, 403, 404) },
});

const deleteTiers = adminRoute({
  method: "delete",
  path: "/admin/tiers",
  operationId: "deleteTierLadder",
  scope: "definitions:write",
  summary: "Remove the project's tier ladder (members have no tier from then on)",
  responses: { 204: { description: "Removed" }, ...errorResponses(401, 403, 404) },
});

export const tiersRoutes = createRouter()
  .openapi(putTiers, async (c) => {
    const { created, stored } = await setTierLadder(c.var.db, c.get("principal").projectKey, c.req.valid("json"));
    const body = ladderBody(stored);
    if (!body) throw new Error("the ladder just written was not read back");
    return c.json(body, created ? 201 : 200);
  })
  .openapi(getTiers, async (c) => {
    const body = ladderBody(await pointsSettingsOf(c.var.db, c.get("principal").projectKey));
    if (!body) throw noLadder();
    return c.json(body, 200);
  })
  .openapi(deleteTiers, async (c) => {
    if (!(await removeTierLadder(c.var.db, c.get("principal").projectKey))) throw noLadder();
    return c.body(null, 204);
  });
