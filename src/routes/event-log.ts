import { z } from "@hono/zod-openapi";
import { EventIdSchema } from "../domain/definition";
import { boundedJsonObject } from "../domain/json";
import { MAX_BATCH_BODY_BYTES, MAX_BATCH_EVENTS } from "../domain/limits";
import { EventLoggedEnvelopeSchema, type EventLoggedEnvelope } from "../domain/logged-event";
import { UserIdSchema } from "../domain/user-id";
import { eventLoggedExample, logEventRequestExample, withExamples } from "./examples";
import { limitUserLogs } from "../auth/middleware";
import { ApiError, ErrorEnvelopeSchema, errorResponses, validationError, type ErrorEnvelope } from "../http/errors";
import { jsonBody, jsonResponse, principalRoute, serverRoute } from "../http/openapi";
import { createRouter } from "../http/router";
import { logFailure } from "../http/user-object-errors";
import { checkIdempotencyKey, logBatch, logEvent, type BatchItem } from "../services/event-logging";

export const LogEventBodySchema = z
  .object({
    eventId: EventIdSchema,
    userId: UserIdSchema,
    metadata: boundedJsonObject().optional(),
    timestamp: z.iso
      .datetime({ offset: true })
      .optional()
      .openapi({ description: "When the event happened (ISO 8601); admin tokens and API keys only, for backfill" }),
  })
  .openapi("LogEventInput");
export type LogEventBody = z.input<typeof LogEventBodySchema>;
/** The 200 body of POST /v1/event (re-exported for the examples' test). */
export { EventLoggedEnvelopeSchema };

/** A logged batch item: the single route's 200 envelope, and `replayed` where that route has its header. */
const BatchLoggedSchema = EventLoggedEnvelopeSchema.extend({
  replayed: z.boolean().describe("True when an idempotencyKey replayed an earlier answer (nothing was awarded)"),
}).openapi("BatchEventLogged");
export type BatchResponseBody = { results: Array<(EventLoggedEnvelope & { replayed: boolean }) | ErrorEnvelope> };

/** A batch item: a log body plus its own idempotency key. */
const BatchItemSchema = LogEventBodySchema.extend({ idempotencyKey: z.string().optional() });

const idempotencyHeader = z.object({
  "idempotency-key": z.string().optional().openapi({ description: "Replays return the first response with Idempotent-Replayed: true (kept 48 h, per user)" }),
});

const logEventRoute = principalRoute(
  {
    method: "post",
    path: "/event",
    operationId: "logEvent",
    scope: "events:log",
    summary: "Log an event for a user",
    tags: ["Events"],
    request: {
      headers: idempotencyHeader,
      body: withExamples(jsonBody(LogEventBodySchema), { purchase: { summary: "A purchase (the seed's request)", value: logEventRequestExample } }),
    },
    responses: {
      200: withExamples(jsonResponse(EventLoggedEnvelopeSchema, "Logged (points, limit state and balance in data)"), {
        purchase: { summary: "The purchase logged and rewarded", value: eventLoggedExample },
      }),
      ...errorResponses(400, 401, 403, 404, 413, 415, 422, 429, 503),
    },
  },
  [limitUserLogs],
);

const logBatchRoute = serverRoute({
  method: "post",
  path: "/events/batch",
  operationId: "logEventBatch",
  scope: "events:log",
  summary: "Log up to 1000 events in one call (admin or API key)",
  tags: ["Events"],
  maxBodyBytes: MAX_BATCH_BODY_BYTES,
  request: {
    body: jsonBody(
      z.object({
        events: z.array(z.unknown()).min(1).max(MAX_BATCH_EVENTS).openapi({ description: "LogEventInput items, each with an optional idempotencyKey" }),
      }),
    ),
  },
  responses: {
    200: jsonResponse(
      z.object({ results: z.array(z.union([BatchLoggedSchema, ErrorEnvelopeSchema])) }),
      "One result per item, in order: the 200 envelope (with `replayed`) or an error envelope",
    ),
    ...errorResponses(400, 401, 403, 413, 415, 429),
  },
});

/** Validates one raw batch item; an invalid one keeps the error naming `events.<i>.<field>`. */
function parseBatchItem(raw: unknown, index: number): BatchItem {
  const parsed = BatchItemSchema.safeParse(raw);
  if (!parsed.success) return { invalid: validationError(parsed.error, "event", `events.${index}`) };
  const { idempotencyKey, ...request } = parsed.data;
  try {
    return { request, idempotencyKey: checkIdempotencyKey(idempotencyKey, "event", `events.${index}.idempotencyKey`) };
  } catch (error) {
    if (error instanceof ApiError) return { invalid: error };
    throw error;
  }
}

export const eventLogRoutes = createRouter()
  .openapi(logEventRoute, async (c) => {
    const request = c.req.valid("json");
    const idempotencyKey = checkIdempotencyKey(c.req.valid("header")["idempotency-key"], "header", "Idempotency-Key");
    const outcome = await logEvent(c.env, c.var.db, c.get("principal"), request, idempotencyKey);
    if (outcome.kind !== "logged") throw logFailure(outcome, request.userId);
    if (outcome.replayed) c.header("Idempotent-Replayed", "true");
    return c.json(outcome.response, 200);
  })
  .openapi(logBatchRoute, async (c) => {
    const items = c.req.valid("json").events.map(parseBatchItem);
    const outcomes = await logBatch(c.env, c.var.db, c.get("principal"), items);
    const results = outcomes.map((o) => {
      if (o.kind === "invalid") return o.error.toEnvelope();
      if (o.outcome.kind === "logged") return { ...o.outcome.response, replayed: o.outcome.replayed };
      const error = logFailure(o.outcome, o.userId);
      const retryAfter = error.headers["Retry-After"];
      if (retryAfter) c.header("Retry-After", retryAfter);
      return error.toEnvelope();
    });
    return c.json({ results }, 200);
  });
