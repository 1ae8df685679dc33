import { z } from "@hono/zod-openapi";
import { PointsExpirySchema } from "../domain/points-lifecycle";
import { PointsSettingsInputSchema } from "../domain/points-settings";
import { errorResponses } from "../http/errors";
import { adminRoute, jsonBody, jsonResponse } from "../http/openapi";
import { createRouter } from "../http/router";
import { pointsSettingsOf, setPointsSettings, settingsBody } from "../services/points-lifecycle";

const PointsSettingsSchema = z
  .object({
    pointsExpiry: PointsExpirySchema,
    timezone: z.string().describe("IANA time zone of expiry dates and tier windows"),
    userTokensMayRedeem: z.boolean(),
    version: z.number().int().describe("The project's catalogue version these settings are part of; grows with every change"),
    updatedAt: z.string().nullable().describe("When the settings or the tier ladder last changed; null: never set (the defaults)"),
  })
  .openapi("PointsSettings");
export type PointsSettingsBody = z.infer<typeof PointsSettingsSchema>;

const SETTINGS_RULES =
  'Points settings (README "Points lifecycle"). `pointsExpiry`: `none` (default), `after_days` (a lot\'s remainder expires at the end of the local day `days` days after it was earned) or `end_of_year_after` (at the end of the local year `years` years after the year it was earned; 0: that same year). Changing it applies to lots earned afterwards; lots earned before keep their dates. `timezone` (default UTC) cuts those days and years and the tier windows. `userTokensMayRedeem` (default false) lets a user token redeem its own points.';

const putSettings = adminRoute({
  method: "put",
  path: "/admin/project/settings",
  operationId: "putPointsSettings",
  scope: "definitions:write",
  summary: "Set the project's points settings (expiry, time zone, user-token redemptions)",
  description: `${SETTINGS_RULES} The fields sent replace the stored ones; the others stay. Every isolate applies them within 5 seconds.`,
  request: { body: jsonBody(PointsSettingsInputSchema) },
  responses: { 200: jsonResponse(PointsSettingsSchema, "The settings in force"), ...errorResponses(400, 401, 403) },
});

const getSettings = adminRoute({
  method: "get",
  path: "/admin/project/settings",
  operationId: "getPointsSettings",
  scope: "events:read",
  summary: "The project's points settings",
  description: SETTINGS_RULES,
  responses: { 200: jsonResponse(PointsSettingsSchema, "The settings in force (the defaults when never set)"), ...errorResponses(401, 403) },
});

export const projectSettingsRoutes = createRouter()
  .openapi(putSettings, async (c) => {
    const stored = await setPointsSettings(c.var.db, c.get("principal").projectKey, c.req.valid("json"));
    return c.json(settingsBody(stored), 200);
  })
  .openapi(getSettings, async (c) => c.json(settingsBody(await pointsSettingsOf(c.var.db, c.get("principal").projectKey)), 200));
