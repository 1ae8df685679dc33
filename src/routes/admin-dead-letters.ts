import { z } from "@hono/zod-openapi";
import { getDb } from "../db/client";
import { errorResponses } from "../http/errors";
import { adminRoute, jsonResponse } from "../http/openapi";
import { createRouter } from "../http/router";
import { deadLettersOf, replayDeadLetter } from "../services/dead-letters";

const DeadLetterSchema = z
  .object({
    id: z.number().int(),
    queue: z.string().describe("`outbox` for events a user's object could not send; else the queue that gave up"),
    messageId: z.string().describe("For outbox rows, the event's eventUid"),
    attempts: z.number().int(),
    error: z.string().nullable(),
    receivedAt: z.string(),
    replayedAt: z.string().nullable(),
    body: z.unknown().describe("The message: a logged event, or whatever could not be parsed"),
  })
  .openapi("DeadLetter");
export type DeadLetterBody = z.infer<typeof DeadLetterSchema>;

const listRoute = adminRoute({
  method: "get",
  path: "/admin/dead-letters",
  scope: "admin",
  summary: "Events and messages that could not be processed, newest first",
  request: {
    query: z.object({
      limit: z.coerce.number().int().min(1).max(100).default(50),
      before: z.coerce.number().int().positive().optional().openapi({ description: "Page: only ids below this one" }),
      pending: z.enum(["true", "false"]).default("false").openapi({ description: '"true": only those not replayed yet' }),
    }),
  },
  responses: { 200: jsonResponse(z.object({ items: z.array(DeadLetterSchema) }), "Dead letters"), ...errorResponses(400, 401, 403) },
});

const replayRoute = adminRoute({
  method: "post",
  path: "/admin/dead-letters/{id}/replay",
  scope: "admin",
  summary: "Write a dead-lettered event to the event log and the stats (idempotent)",
  request: { params: z.object({ id: z.coerce.number().int().positive() }) },
  responses: {
    200: jsonResponse(DeadLetterSchema, "Replayed"),
    ...errorResponses(401, 403, 404, 422),
  },
});

export const adminDeadLettersRoutes = createRouter()
  .openapi(listRoute, async (c) => {
    const { limit, before, pending } = c.req.valid("query");
    const items = await deadLettersOf(getDb(c.env.DB), c.get("principal").projectKey, { limit, before, pendingOnly: pending === "true" });
    return c.json({ items }, 200);
  })
  .openapi(replayRoute, async (c) => {
    const replayed = await replayDeadLetter(c.env.DB, getDb(c.env.DB), c.get("principal").projectKey, c.req.valid("param").id);
    return c.json(replayed, 200);
  });
