import { z } from "@hono/zod-openapi";
import type { ContentfulStatusCode } from "hono/utils/http-status";

import type { FieldError } from "../domain/rewards";

export type { FieldError };

/** Every non-2xx answer has this shape, mirroring the spec's success envelope. */
export const ErrorEnvelopeSchema = z
  .object({
    statusCode: z.number().int(),
    message: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .openapi("Error");
export type ErrorEnvelope = z.infer<typeof ErrorEnvelopeSchema>;

/** A failure the client can act on; thrown anywhere, rendered as the envelope by the app's error handler. */
export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    message: string,
    readonly errors?: FieldError[],
    /** Headers the answer carries (Retry-After, WWW-Authenticate, Allow). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  toEnvelope(): ErrorEnvelope {
    return envelope(this.status, this.message, this.errors);
  }
}

export function envelope(statusCode: number, message: string, errors?: FieldError[]): ErrorEnvelope {
  return errors && errors.length > 0 ? { statusCode, message, errors } : { statusCode, message };
}

/** zod issues as `{path, message}` with dotted paths (`metadata.amount`, `events.3.userId`). */
export function fieldErrors(error: z.ZodError, prefix = ""): FieldError[] {
  return error.issues.map((issue) => {
    const path = [prefix, ...issue.path.map(String)].filter(Boolean).join(".");
    return { path: path || "(root)", message: issue.message };
  });
}

/** 400 naming the fields; the message repeats the first one (`Invalid body: userId: Required`). */
export function invalidFields(what: string, errors: FieldError[]): ApiError {
  const first = errors[0];
  return new ApiError(400, first ? `Invalid ${what}: ${first.path}: ${first.message}` : `Invalid ${what}`, errors);
}

/** The one "event does not exist" answer (logging, reading a definition, stats, deactivating). */
export const eventNotFound = (eventId: string): ApiError => new ApiError(404, `Event ${eventId} does not exist in this project`);

/** The one "user is not registered" answer. */
export const userNotFound = (userId: string): ApiError => new ApiError(404, `User ${userId} is not registered in this project`);

export const validationError = (error: z.ZodError, what: string, prefix = ""): ApiError => invalidFields(what, fieldErrors(error, prefix));

/** Reusable OpenAPI response entries for the error statuses. */
export const errorResponses = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((status) => [
      status,
      { description: ERROR_DESCRIPTIONS[status] ?? "Error", content: { "application/json": { schema: ErrorEnvelopeSchema } } },
    ]),
  );

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: "Invalid input; `errors` names the fields",
  401: "Missing, invalid or expired credential (with WWW-Authenticate: Bearer)",
  403: "Authenticated but not allowed",
  404: "Not found",
  405: "Method not allowed on this path (with Allow)",
  406: "The Accept header excludes application/json",
  413: "Body larger than the route allows (64 KiB; 2 MiB for the batch route, 4 MiB for the member import), metadata over 32 KiB, or a project's definitions over 1 MiB",
  415: "Content-Type is missing or not application/json",
  422: "Idempotency-Key reused with a different body, or a balance that would leave the exact integer range",
  429: "Rate limit exceeded (with Retry-After)",
  503: "Temporarily unavailable; retry (with Retry-After)",
};

/** Seconds a client should wait after a 503 caused by D1 being unavailable. */
export const STORAGE_RETRY_AFTER_SECONDS = 5;

/**
 * Whether an error (or one it wraps, as drizzle does) is D1 failing to answer: unavailable, overloaded, reset,
 * timed out. SQL errors (a bad statement, a broken constraint) are bugs, not outages, and stay 500s.
 */
export function isStorageOutage(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    if (/SQLITE_(ERROR|CONSTRAINT|MISMATCH|RANGE|TOOBIG|AUTH)|D1_TYPE_ERROR|D1_COLUMN_NOTFOUND/.test(current.message)) return false;
    if (/\bD1\b|D1_/.test(current.message)) return true;
  }
  return false;
}
