import { z } from "@hono/zod-openapi";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { hasServerRights, type Principal } from "../auth/principal";
import type { Db } from "../db/client";
import { findDefinition } from "../db/definitions";
import { EventIdSchema } from "../domain/definition";
import { canonicalJson, sha256Hex } from "../domain/hashing";
import { boundedJsonObject } from "../domain/json";
import { eventTimeProblem } from "../domain/periods";
import type { EventLoggedEnvelope } from "../domain/logged-event";
import { validateMetadata } from "../domain/rewards";
import { userStateStub } from "../durable/stub";
import type { LogEventCommand, LogEventOutcome } from "../durable/user-state";
import { ApiError, envelope, invalidFields, validationError, type ErrorEnvelope, type FieldError } from "../http/errors";

export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

export const LogEventBodySchema = z
  .object({
    eventId: EventIdSchema,
    userId: z.string().min(1).max(255),
    metadata: boundedJsonObject().optional(),
    timestamp: z.iso
      .datetime({ offset: true })
      .optional()
      .openapi({ description: "When the event happened (ISO 8601); admin tokens and API keys only, for backfill" }),
  })
  .openapi("LogEventInput");
export type LogEventBody = z.infer<typeof LogEventBodySchema>;

/** A request item that passed every check the Worker can make; the user's object decides the rest. */
export type PreparedLog = { userId: string; command: LogEventCommand };

/** `what` and `path` name where the key came from: ("header", "Idempotency-Key") or ("event", "events.3.idempotencyKey"). */
export function checkIdempotencyKey(key: string | null | undefined, what: string, path: string): string | null {
  if (key === undefined || key === null) return null;
  if (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    throw invalidFields(what, [{ path, message: `must be 1-${MAX_IDEMPOTENCY_KEY_LENGTH} characters` }]);
  }
  return key;
}

/**
 * Checks one log request against the caller's rights and the event's definition, in this order: acting for
 * another user or backfilling without server rights (403), event time (400), unknown event (404), inactive
 * event (400), API key required (403), metadata against the definition (400). Throws ApiError, except that
 * definition-dependent refusals of a request with an idempotency key go to the user's object (see `refuse`).
 * Reads D1 only on a definitions cache miss.
 */
export async function prepareLog(
  db: Db,
  principal: Principal,
  body: LogEventBody,
  idempotencyKey: string | null,
): Promise<PreparedLog> {
  if (principal.kind === "user" && body.userId !== principal.userId) {
    throw new ApiError(403, "A user token may only log events for its own userId");
  }
  if (body.timestamp !== undefined && !hasServerRights(principal)) {
    throw new ApiError(403, "Only admin tokens and API keys may set timestamp");
  }
  const occurredAtMs = body.timestamp === undefined ? Date.now() : Date.parse(body.timestamp);
  const timeProblem = eventTimeProblem(occurredAtMs, Date.now());
  if (timeProblem !== null) throw invalidFields("body", [{ path: "timestamp", message: timeProblem }]);
  const metadata = body.metadata ?? {};
  const requestHash =
    idempotencyKey === null
      ? null
      : await sha256Hex(canonicalJson({ eventId: body.eventId, userId: body.userId, metadata, timestamp: body.timestamp ?? null }));
  // Refusals that depend on the definition go to the user's object when the request carries an idempotency
  // key, so that a retry of an event logged before the definition changed still gets its first answer.
  const refuse = (status: 400 | 404, message: string, errors?: FieldError[]): PreparedLog => {
    if (idempotencyKey === null) throw new ApiError(status, message, errors);
    return { userId: body.userId, command: { kind: "rejected", rejection: { status, message, errors }, idempotencyKey, requestHash } };
  };
  const definition = await findDefinition(db, principal.projectKey, body.eventId);
  if (!definition) return refuse(404, `Event ${body.eventId} does not exist in this project`);
  if (definition.status !== "ACTIVE") {
    return refuse(400, `Event ${body.eventId} is not active`, [{ path: "eventId", message: "event is not active" }]);
  }
  if (definition.requiresApiKey && principal.kind !== "apiKey") {
    throw new ApiError(403, `Event ${body.eventId} can only be logged with an API key`);
  }
  const metadataErrors = validateMetadata(definition, metadata);
  if (metadataErrors.length > 0) {
    return refuse(400, `Invalid metadata: ${metadataErrors[0]!.path}: ${metadataErrors[0]!.message}`, metadataErrors);
  }
  const occurredAt = new Date(occurredAtMs).toISOString();
  return { userId: body.userId, command: { kind: "log", definition, metadata, occurredAt, idempotencyKey, requestHash } };
}

export type LogResult =
  | { ok: true; replayed: boolean; body: EventLoggedEnvelope }
  | { ok: false; status: ContentfulStatusCode; body: ErrorEnvelope };

const toResult = (outcome: LogEventOutcome): LogResult =>
  outcome.status === 200
    ? { ok: true, replayed: outcome.replayed, body: outcome.body }
    : { ok: false, status: outcome.status, body: envelope(outcome.status, outcome.message, outcome.errors) };

/**
 * Sends prepared logs to their users' objects: one call per user carrying that user's items in request order,
 * users in parallel. Results come back in the order of `items`. A user whose object fails (overloaded, reset)
 * gets 503 for its items while the other users' results stand; a retry with idempotency keys is safe.
 */
export async function dispatchLogs(env: Env, projectKey: string, items: PreparedLog[]): Promise<LogResult[]> {
  const byUser = new Map<string, number[]>();
  items.forEach((item, index) => {
    const indexes = byUser.get(item.userId) ?? [];
    indexes.push(index);
    byUser.set(item.userId, indexes);
  });
  const results = new Array<LogResult>(items.length);
  await Promise.all(
    [...byUser].map(async ([userId, indexes]) => {
      try {
        const outcomes = await userStateStub(env, projectKey, userId).logEvents(
          projectKey,
          userId,
          indexes.map((i) => items[i]!.command),
        );
        outcomes.forEach((outcome, k) => (results[indexes[k]!] = toResult(outcome)));
      } catch (error) {
        console.error("user state call failed", error);
        const body = envelope(503, "User state is temporarily unavailable; retry with an Idempotency-Key");
        for (const i of indexes) results[i] = { ok: false, status: 503, body };
      }
    }),
  );
  return results;
}

/** Validates one raw batch item; returns the parsed body or the error envelope naming `events.<i>.<field>`. */
const BatchItemSchema = LogEventBodySchema.extend({ idempotencyKey: z.string().optional() });

export function parseBatchItem(raw: unknown, index: number): { body: LogEventBody; idempotencyKey: string | null } {
  const parsed = BatchItemSchema.safeParse(raw);
  if (!parsed.success) throw validationError(parsed.error, "event", `events.${index}`);
  const { idempotencyKey, ...body } = parsed.data;
  return { body, idempotencyKey: checkIdempotencyKey(idempotencyKey, "event", `events.${index}.idempotencyKey`) };
}
