/**
 * When webhook deliveries are retried and given up, after Standard Webhooks' (and Svix's) schedule: the README's
 * "Webhooks" section states these numbers.
 */

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** The wait after the n-th failed attempt (n = 1, 2, ...); every later one waits the last. Queues cap a delay at 12 h. */
export const RETRY_DELAYS_MS: readonly number[] = [5 * SECOND, 5 * MINUTE, 30 * MINUTE, 2 * HOUR, 5 * HOUR, 10 * HOUR, 10 * HOUR, 12 * HOUR];

/** A delivery is retried for this long from its first attempt, then failed. */
export const DELIVERY_RETRY_WINDOW_MS = 3 * 24 * HOUR;

/** An endpoint whose attempts have all failed for this long (no success since the first failure) is disabled. */
export const ENDPOINT_FAILING_LIMIT_MS = 3 * 24 * HOUR;
export const FAILING_DISABLE_REASON = "failing for 3 days";
/** A receiver answering 410 Gone asks not to be called again. */
export const GONE_DISABLE_REASON = "410 Gone";
/** Why an endpoint an admin disabled (at creation or by an update) is disabled. */
export const ADMIN_DISABLE_REASON = "disabled by an admin";

/**
 * What a round of attempts means for their endpoints' failing streaks: an endpoint with a success among them ends
 * its streak (`recovered`); one with only failures, or with an outcome naming a reason to disable it at once (a
 * 410), is `failing` (its streak starts if none runs; `reason` disables it now).
 */
export function endpointStreaks(outcomes: ReadonlyArray<{ endpointId: string; status: string; disableReason: string | null }>): {
  recovered: string[];
  failing: Array<{ id: string; reason: string | null }>;
} {
  const succeeded = new Set(outcomes.filter((o) => o.status === "succeeded").map((o) => o.endpointId));
  const gone = new Map(outcomes.filter((o) => o.disableReason !== null).map((o) => [o.endpointId, o.disableReason]));
  return {
    recovered: [...succeeded].filter((id) => !gone.has(id)),
    failing: [...new Set(outcomes.map((o) => o.endpointId))]
      .filter((id) => gone.has(id) || !succeeded.has(id))
      .map((id) => ({ id, reason: gone.get(id) ?? null })),
  };
}

/** One attempt's request may take this long, answer included. */
export const ATTEMPT_TIMEOUT_MS = 10 * SECOND;
/** At most this much of a receiver's answer is kept (bytes of UTF-8). */
export const MAX_RESPONSE_TEXT_BYTES = 4_096;

/**
 * When the attempt after `attemptsMade` failed attempts is due (epoch ms), or null when it would come more than
 * DELIVERY_RETRY_WINDOW_MS after the first attempt (`firstAttemptAt`): the delivery has then failed.
 */
export function nextAttemptAt(firstAttemptAt: number, attemptsMade: number, now: number): number | null {
  const delay = RETRY_DELAYS_MS[Math.min(Math.max(attemptsMade, 1), RETRY_DELAYS_MS.length) - 1]!;
  const at = now + delay;
  return at <= firstAttemptAt + DELIVERY_RETRY_WINDOW_MS ? at : null;
}
