import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { DispatchOutcome, Refusal } from "../domain/log-command";
import { MAX_QUEUE_MESSAGE_BYTES } from "../domain/limits";
import type { EventLoggedEnvelope } from "../domain/logged-event";
import { ApiError, eventNotFound, userNotFound, userObjectUnavailable, type ErrorEnvelope } from "./errors";

export type LogResult =
  | { ok: true; replayed: boolean; body: EventLoggedEnvelope }
  | { ok: false; status: ContentfulStatusCode; body: ErrorEnvelope; headers: Record<string, string> };

/** The HTTP answer to a refusal, whether the Worker or (for a request with an idempotency key) the object made it. */
export function refusalError(refusal: Refusal): ApiError {
  switch (refusal.code) {
    case "unknown_event":
      return eventNotFound(refusal.eventId);
    case "inactive_event":
      return new ApiError(400, `Event ${refusal.eventId} is not active`, [{ path: "eventId", message: "event is not active" }]);
    case "invalid_metadata": {
      const first = refusal.errors[0];
      return new ApiError(400, first ? `Invalid metadata: ${first.path}: ${first.message}` : "Invalid metadata", refusal.errors);
    }
  }
}

/** The one mapping from what a user's object answered to an HTTP status and body. */
export function logResult(outcome: DispatchOutcome, userId: string): LogResult {
  const failure = (error: ApiError): LogResult => ({ ok: false, status: error.status, body: error.toEnvelope(), headers: error.headers });
  switch (outcome.kind) {
    case "logged":
      return { ok: true, replayed: outcome.replayed, body: outcome.response };
    case "refused":
      return failure(refusalError(outcome.refusal));
    case "not_registered":
      return failure(userNotFound(userId));
    case "idempotency_conflict":
      return failure(new ApiError(422, "Idempotency-Key was already used with a different request body"));
    case "usergroup_not_held":
      return failure(
        new ApiError(403, "A user token may only choose its own usergroups or default", [
          { path: "metadata.usergroup", message: `must name only the user's own usergroups or default (not in: ${outcome.groups.join(", ")})` },
        ]),
      );
    case "balance_overflow":
      return failure(new ApiError(422, "The points balance would leave the safe integer range"));
    case "event_too_large":
      return failure(
        new ApiError(413, "The logged event would be too large; send less metadata", [
          { path: "metadata", message: `the logged event must stay under ${MAX_QUEUE_MESSAGE_BYTES} bytes` },
        ]),
      );
    case "ledger_full":
      return failure(new ApiError(422, "This user's ledger holds no more entries (16,777,215)"));
    case "unavailable":
      return failure(userObjectUnavailable("retry with an Idempotency-Key"));
  }
}
