import { createRoute, z } from "@hono/zod-openapi";
import { getDb } from "../db/client";
import { findDefinition, projectDefinitions } from "../db/definitions";
import { EventDefinitionSchema, EventIdSchema, type VersionedDefinition } from "../domain/definition";
import { requireServerRights } from "../auth/middleware";
import { ApiError, ErrorEnvelopeSchema, errorResponses } from "../http/errors";
import {
  checkIdempotencyKey,
  dispatchLogs,
  LogEventBodySchema,
  parseBatchItem,
  prepareLog,
  type LogResult,
  type PreparedLog,
} from "../services/event-logging";
import { anyCredential, createRouter } from "../http/router";

/** Comparable APIs accept up to 1,000 events per ingest call. */
const MAX_BATCH_EVENTS = 1000;

const toDocument = ({ version: _version, ...document }: VersionedDefinition) => document;

const listEvents = createRoute({
  method: "get",
  path: "/event",
  summary: "List event definitions",
  tags: ["Events"],
  security: anyCredential,
  request: {
    query: z.object({
      showAll: z.enum(["true", "false"]).default("true").openapi({ description: '"false" returns only ACTIVE events' }),
    }),
  },
  responses: {
    200: { description: "The project's event definitions", content: { "application/json": { schema: z.array(EventDefinitionSchema) } } },
    204: { description: "No events are configured for the project" },
    ...errorResponses(400, 401),
  },
});

const getEvent = createRoute({
  method: "get",
  path: "/event/{eventId}",
  summary: "Get one event definition",
  tags: ["Events"],
  security: anyCredential,
  request: { params: z.object({ eventId: EventIdSchema }) },
  responses: {
    200: { description: "The event definition", content: { "application/json": { schema: EventDefinitionSchema } } },
    ...errorResponses(400, 401, 404),
  },
});

export const eventsRoutes = createRouter()
  .openapi(listEvents, async (c) => {
    const { showAll } = c.req.valid("query");
    const definitions = [...(await projectDefinitions(getDb(c.env.DB), c.get("principal").projectKey)).values()]
      .filter((d) => showAll === "true" || d.status === "ACTIVE")
      .map(toDocument);
    if (definitions.length === 0) return c.body(null, 204);
    return c.json(definitions, 200);
  })
  .openapi(getEvent, async (c) => {
    const { eventId } = c.req.valid("param");
    const definition = await findDefinition(getDb(c.env.DB), c.get("principal").projectKey, eventId);
    if (!definition) throw new ApiError(404, `Event ${eventId} does not exist in this project`);
    return c.json(toDocument(definition), 200);
  });

const EventLoggedSchema = z
  .object({
    statusCode: z.literal(200),
    message: z.enum(["Event erfolgreich geloggt", "Event Limit erreicht"]),
    data: z.object({
      userId: z.string(),
      eventId: z.string(),
      points: z.number().int(),
      type: z.enum(["STANDARD", "TRANSACTION"]),
      title: z.string(),
      limit: z.number().int().nullable(),
      maximumReward: z.number().int().nullable(),
      metadata: z.record(z.string(), z.unknown()),
      conditionReached: z.boolean(),
      limitReached: z.boolean(),
      userGroupId: z.string(),
      balance: z.number().int().describe("The user's points after this log"),
      reasons: z.array(z.record(z.string(), z.unknown())).describe("Why points were not (fully) awarded"),
    }),
  })
  .openapi("EventLogged");

const idempotencyHeader = z.object({
  "idempotency-key": z
    .string()
    .optional()
    .openapi({ description: "Replays return the first response with Idempotent-Replayed: true (kept 48 h, per user)" }),
});

const logEvent = createRoute({
  method: "post",
  path: "/event",
  summary: "Log an event for a user",
  tags: ["Events"],
  security: anyCredential,
  request: {
    headers: idempotencyHeader,
    body: { required: true, content: { "application/json": { schema: LogEventBodySchema } } },
  },
  responses: {
    200: { description: "Logged (points, limit state and balance in data)", content: { "application/json": { schema: EventLoggedSchema } } },
    ...errorResponses(400, 401, 403, 404, 413, 422),
  },
});

const BatchResultSchema = z.union([EventLoggedSchema, ErrorEnvelopeSchema]);

const logBatch = createRoute({
  method: "post",
  path: "/events/batch",
  summary: "Log up to 1000 events in one call (admin or API key)",
  tags: ["Events"],
  security: anyCredential,
  middleware: [requireServerRights] as const,
  request: {
    body: {
      required: true,
      content: {
        "application/json": {
          schema: z.object({
            events: z
              .array(z.unknown())
              .min(1)
              .max(MAX_BATCH_EVENTS)
              .openapi({ description: "LogEventInput items, each with an optional idempotencyKey" }),
          }),
        },
      },
    },
  },
  responses: {
    200: {
      description: "One result per item, in order: the 200 envelope or an error envelope",
      content: { "application/json": { schema: z.object({ results: z.array(BatchResultSchema) }) } },
    },
    ...errorResponses(400, 401, 403, 413),
  },
});

export const eventLogRoutes = createRouter()
  .openapi(logEvent, async (c) => {
    const principal = c.get("principal");
    const idempotencyKey = checkIdempotencyKey(c.req.valid("header")["idempotency-key"], "header", "Idempotency-Key");
    const prepared = await prepareLog(getDb(c.env.DB), principal, c.req.valid("json"), idempotencyKey);
    const [result] = await dispatchLogs(c.env, principal.projectKey, [prepared]);
    if (!result) throw new Error("no result for a dispatched log");
    if (!result.ok) throw new ApiError(result.status, result.body.message, result.body.errors);
    if (result.replayed) c.header("Idempotent-Replayed", "true");
    return c.json(result.body, 200);
  })
  .openapi(logBatch, async (c) => {
    const principal = c.get("principal");
    const db = getDb(c.env.DB);
    const { events } = c.req.valid("json");
    const results: LogResult[] = new Array(events.length);
    const prepared: PreparedLog[] = [];
    const preparedIndexes: number[] = [];
    for (const [index, raw] of events.entries()) {
      try {
        const { body, idempotencyKey } = parseBatchItem(raw, index);
        prepared.push(await prepareLog(db, principal, body, idempotencyKey));
        preparedIndexes.push(index);
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        results[index] = { ok: false, status: error.status, body: error.toEnvelope() };
      }
    }
    const dispatched = await dispatchLogs(c.env, principal.projectKey, prepared);
    dispatched.forEach((result, k) => (results[preparedIndexes[k]!] = result));
    return c.json({ results: results.map((r) => r.body) }, 200);
  });
