import { z } from "@hono/zod-openapi";
import { errorResponses, invalidFields } from "../http/errors";
import { adminRoute, jsonBody, jsonResponse } from "../http/openapi";
import { createRouter } from "../http/router";
import { ACKNOWLEDGED_RETENTION_MS, decodeReconciliationCursor, MAX_USERS_PER_CALL, reconcileProject } from "../services/reconciliation";
import { MAX_CURSOR_LENGTH } from "../lib/cursor";

/** A `from` a few minutes older than the window still passes (a client computing "7 days ago" is not refused). */
const FROM_GRACE_MS = 5 * 60_000;

const ReconciliationBodySchema = z
  .object({
    from: z.iso.datetime({ offset: true }).openapi({
      description: "Messages the users' objects acknowledged at or after this moment; at most 7 days back (what objects keep)",
      example: "2026-11-24T00:00:00Z",
    }),
    to: z.iso.datetime({ offset: true }).openapi({ description: "...and at or before this moment", example: "2026-11-25T00:00:00Z" }),
    cursor: z.string().max(MAX_CURSOR_LENGTH).optional().openapi({ description: "`nextCursor` of the previous call: continue with the next page of users" }),
    limit: z.number().int().min(1).max(MAX_USERS_PER_CALL).default(100).openapi({ description: "Users checked in this call (at most 1,000)" }),
  })
  .superRefine((body, ctx) => {
    const from = Date.parse(body.from);
    if (from > Date.parse(body.to)) ctx.addIssue({ code: "custom", path: ["from"], message: "must not be after to" });
    if (from < Date.now() - ACKNOWLEDGED_RETENTION_MS - FROM_GRACE_MS) {
      ctx.addIssue({ code: "custom", path: ["from"], message: "must be at most 7 days back: users' objects keep what they acknowledged for 7 days" });
    }
  })
  .openapi("ReconciliationRequest");

const ReconciliationReportSchema = z
  .object({
    usersChecked: z.number().int().describe("Registered users whose object was asked"),
    eventsAcknowledged: z
      .number()
      .int()
      .describe("Messages those objects acknowledged in the range: logged events (challenge completions included) and reward adjustments"),
    missing: z.number().int().describe("Of those, not in D1 (event_log, ledger adjustments)"),
    resent: z.number().int().describe("Missing ones put back into their user's outbox; they reach the log within seconds (idempotent)"),
    alreadyQueued: z.number().int().describe("Missing ones still waiting in their user's outbox (the queue has not taken them yet)"),
    usersTruncated: z.number().int().describe("Users with more than 5,000 messages in the range: only the oldest 5,000 were checked; narrow the range"),
    usersFailed: z.number().int().describe("Users whose object could not be asked; not checked by this call"),
    cost: z.object({ objectCalls: z.number().int(), d1Statements: z.number().int(), d1RowsRead: z.number().int() }).describe("What this call cost"),
    nextCursor: z.string().nullable().describe("Pass as `cursor` for the next page of users; null after the last page"),
  })
  .openapi("ReconciliationReport");
export type ReconciliationReportBody = z.infer<typeof ReconciliationReportSchema>;

const reconcileRoute = adminRoute({
  method: "post",
  path: "/admin/reconciliation",
  operationId: "reconcile",
  scope: "admin",
  summary: "Check that what users' objects acknowledged reached the event log, and send again what did not",
  description:
    "Walks a page of the project's registered users (in user id order), asks each user's object for the messages it acknowledged in [from, to], looks them up in D1 and sends the missing ones again through the user's outbox. Idempotent: the consumer skips what already arrived, so a second call finds nothing missing once the re-sent messages arrived.",
  request: { body: jsonBody(ReconciliationBodySchema) },
  responses: { 200: jsonResponse(ReconciliationReportSchema, "What was checked and re-sent"), ...errorResponses(400, 401) },
});

export const adminReconciliationRoutes = createRouter().openapi(reconcileRoute, async (c) => {
  const body = c.req.valid("json");
  const afterUserId = body.cursor === undefined ? null : decodeReconciliationCursor(body.cursor);
  if (body.cursor !== undefined && afterUserId === null) {
    throw invalidFields("body", [{ path: "cursor", message: "is not a cursor this route returned" }]);
  }
  const report = await reconcileProject(c.env, c.get("principal").projectKey, {
    from: Date.parse(body.from),
    to: Date.parse(body.to),
    afterUserId,
    limit: body.limit,
  });
  return c.json(report, 200);
});
