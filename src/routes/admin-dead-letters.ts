import { z } from "@hono/zod-openapi";
import { errorResponses } from "../http/errors";
import { adminRoute, jsonResponse } from "../http/openapi";
import { createRouter } from "../http/router";
import { deadLettersOf, decodeDeadLetterCursor, parseDeadLetterId, replayDeadLetter } from "../services/dead-letters";

const DeadLetterSchema = z
  .object({
    id: z.string().describe("`d1-<n>` for a dead letter kept in D1, `r2-<name>` for one kept in R2 while D1 could not take it"),
    store: z.enum(["d1", "r2"]).describe("Where it is kept (the id's prefix)"),
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
  operationId: "listDeadLetters",
  scope: "admin",
  summary: "Events and messages that could not be processed, newest first (from D1 and, while D1 could not take them, R2)",
  request: {
    query: z.object({
      limit: z.coerce.number().int().min(1).max(100).default(50),
      cursor: z
        .string()
        .max(400)
        .refine((text) => decodeDeadLetterCursor(text) !== null, "must be a nextCursor of a previous page")
        .optional()
        .openapi({ description: "Page: the previous page's `nextCursor`" }),
      pending: z.enum(["true", "false"]).default("false").openapi({ description: '"true": only those not replayed yet' }),
    }),
  },
  responses: {
    200: jsonResponse(
      z.object({
        items: z.array(DeadLetterSchema),
        nextCursor: z.string().nullable().describe("Pass as `cursor` for the next page; null after the last one"),
      }),
      "Dead letters",
    ),
    ...errorResponses(400, 401, 403, 503),
  },
});

const replayRoute = adminRoute({
  method: "post",
  path: "/admin/dead-letters/{id}/replay",
  operationId: "replayDeadLetter",
  scope: "admin",
  summary: "Write a dead-lettered event to the event log and the stats (idempotent); an R2 letter moves to D1 as replayed",
  request: {
    params: z.object({
      id: z
        .string()
        .refine((id) => parseDeadLetterId(id) !== null, "must be a dead letter id (d1-<n> or r2-<name>)")
        .openapi({ description: "A dead letter's id" }),
    }),
  },
  responses: {
    200: jsonResponse(DeadLetterSchema, "Replayed"),
    ...errorResponses(400, 401, 403, 404, 422, 503),
  },
});

export const adminDeadLettersRoutes = createRouter()
  .openapi(listRoute, async (c) => {
    const { limit, cursor, pending } = c.req.valid("query");
    const page = await deadLettersOf(c.env, c.get("principal").projectKey, {
      limit,
      cursor: cursor === undefined ? undefined : decodeDeadLetterCursor(cursor)!,
      pendingOnly: pending === "true",
    });
    return c.json(page, 200);
  })
  .openapi(replayRoute, async (c) => {
    const replayed = await replayDeadLetter(c.env, c.get("principal").projectKey, c.req.valid("param").id);
    return c.json(replayed, 200);
  });
