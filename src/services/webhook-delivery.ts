import { open } from "../auth/secret-box";
import { getDb, type Db } from "../db/client";
import {
  deleteDeliveriesCreatedBefore,
  endpointsForAttempts,
  endpointsToTrim,
  recordAttemptOutcomes,
  takeOverdueDeliveries,
  trimEndpointDeliveries,
  type AttemptOutcome,
  type ClaimedDelivery,
  type EndpointForAttempt,
} from "../db/webhooks";
import {
  ATTEMPT_TIMEOUT_MS,
  ENDPOINT_FAILING_LIMIT_MS,
  FAILING_DISABLE_REASON,
  GONE_DISABLE_REASON,
  MAX_RESPONSE_TEXT_BYTES,
  nextAttemptAt,
} from "../domain/webhook-delivery";
import { webhookHeaders, webhookSigningKey } from "../domain/webhook-signature";
import { webhookUrlProblem } from "../domain/webhook-urls";
import { TtlCache } from "../lib/ttl-cache";
import { forgetSubscriptions } from "./webhook-subscriptions";

/**
 * Attempts of webhook deliveries: sign, POST, record, schedule the next attempt. The queue consumer
 * (src/queue/webhooks.ts) and the routes that send now (test, retry) share it.
 */

/** The outbound request: `fetch`, or a test's receiver (the one seam for what leaves the Worker). */
export type Send = (url: string, init: RequestInit) => Promise<Response>;
/** Resolves the global `fetch` at call time. */
export const sendWithFetch: Send = (url, init) => fetch(url, init);

/** While an attempt runs its delivery is leased this long: a duplicate message or the sweep finds it not due. */
export const ATTEMPT_LEASE_MS = 60_000;
/** Requests in flight at once per consumer batch (or route call). */
export const MAX_CONCURRENT_ATTEMPTS = 6;
/** The delivery retry message's shape on the webhooks queue. */
export type WebhookDeliveryMessage = { kind: "webhook_delivery"; deliveryId: string };
/** Queues cap a message's delay at 12 hours. */
const MAX_QUEUE_DELAY_SECONDS = 12 * 3_600;

/** The secret-box binding of an endpoint's secrets: a ciphertext copied to another endpoint does not open. */
export const endpointSecretBinding = (projectKey: string, endpointId: string) => `webhook\n${projectKey}\n${endpointId}`;

/** HMAC keys by ciphertext (each ciphertext has its own IV, so one secret's), bounded like every isolate cache. */
const signingKeys = new TtlCache<string, CryptoKey | null>(1_000, 600_000);

async function keyOf(env: Env, endpoint: EndpointForAttempt, ciphertext: string): Promise<CryptoKey | null> {
  const cached = signingKeys.get(ciphertext);
  if (cached !== undefined) return cached;
  const secret = await open(env.JWT_SECRET, ciphertext, endpointSecretBinding(endpoint.projectKey, endpoint.id));
  const key = secret === null ? null : await webhookSigningKey(secret);
  signingKeys.set(ciphertext, key);
  return key;
}

/** The keys that sign now: the current secret's, and the previous one's until its overlap ends. */
async function signingKeysOf(env: Env, endpoint: EndpointForAttempt, now: number): Promise<CryptoKey[] | null> {
  const current = await keyOf(env, endpoint, endpoint.secretCiphertext);
  if (current === null) return null;
  const overlapping = endpoint.previousSecretCiphertext !== null && (endpoint.previousSecretExpiresAt ?? 0) > now;
  const previous = overlapping ? await keyOf(env, endpoint, endpoint.previousSecretCiphertext!) : null;
  return previous === null ? [current] : [current, previous];
}

/** The first `maxBytes` of a body as text (an incomplete last character is left out); the rest is not read. */
async function textPrefix(response: Response, maxBytes: number): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let bytes = 0;
  try {
    while (bytes < maxBytes) {
      const { done, value } = await reader.read();
      if (done) break;
      const part = value.subarray(0, maxBytes - bytes);
      bytes += part.byteLength;
      text += decoder.decode(part, { stream: true });
    }
  } catch {
    // A body cut off (timeout, reset) keeps what arrived.
  } finally {
    reader.cancel().catch(() => {});
  }
  return text;
}

const describeError = (error: unknown): string => {
  if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) return `no answer within ${ATTEMPT_TIMEOUT_MS / 1000} s`;
  const message = error instanceof Error ? error.message : String(error);
  return `request failed: ${message}`.slice(0, 500);
};

type Attempted = Omit<AttemptOutcome, "status" | "nextAttemptAt"> & { succeeded: boolean };

/** One attempt: POST the delivery's body, signed, to the endpoint; never throws. */
async function attempt(env: Env, delivery: ClaimedDelivery, endpoint: EndpointForAttempt | undefined, send: Send, now: number): Promise<Attempted> {
  const base = { deliveryId: delivery.id, endpointId: delivery.endpointId, responseStatus: null, latencyMs: null, responseText: null, disableReason: null };
  if (!endpoint) return { ...base, succeeded: false, lastError: "the endpoint no longer exists" };
  const urlProblem = webhookUrlProblem(endpoint.url, { allowLoopback: env.WEBHOOKS_ALLOW_LOOPBACK === "1" });
  if (urlProblem !== null) return { ...base, succeeded: false, lastError: `not sent: the endpoint's url ${urlProblem}` };
  const keys = await signingKeysOf(env, endpoint, now);
  if (keys === null) {
    console.error(`webhook endpoint ${endpoint.id}: its secret cannot be decrypted (was JWT_SECRET rotated?)`);
    return { ...base, succeeded: false, lastError: "not sent: the endpoint's secret cannot be read; rotate it" };
  }
  const headers = await webhookHeaders(keys, delivery.eventId, Math.floor(now / 1000), delivery.payload);
  const started = Date.now();
  try {
    const response = await send(endpoint.url, {
      method: "POST",
      headers,
      body: delivery.payload,
      redirect: "manual",
      signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS),
    });
    const latencyMs = Math.max(0, Date.now() - started);
    const responseText = await textPrefix(response, MAX_RESPONSE_TEXT_BYTES);
    const status = response.status;
    const outcome = { ...base, responseStatus: status, latencyMs, responseText };
    if (status >= 200 && status < 300) return { ...outcome, succeeded: true, lastError: null };
    if (status === 410) return { ...outcome, succeeded: false, lastError: "410 Gone: the endpoint is disabled", disableReason: GONE_DISABLE_REASON };
    if (status >= 300 && status < 400) return { ...outcome, succeeded: false, lastError: `redirect (${status}) not followed` };
    return { ...outcome, succeeded: false, lastError: `answered ${status}` };
  } catch (error) {
    return { ...base, latencyMs: Math.max(0, Date.now() - started), succeeded: false, lastError: describeError(error) };
  }
}

/** Runs `task` over `items`, at most `limit` at a time. */
async function eachBounded<T, R>(items: readonly T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Sends delivery messages (retries, and deliveries left for another batch); a failure is logged: the sweep re-sends. */
export async function sendDeliveryMessages(env: Env, items: ReadonlyArray<{ deliveryId: string; delaySeconds: number }>): Promise<void> {
  for (let i = 0; i < items.length; i += 100) {
    const chunk = items.slice(i, i + 100).map(({ deliveryId, delaySeconds }) => ({
      body: { kind: "webhook_delivery", deliveryId } satisfies WebhookDeliveryMessage,
      delaySeconds: Math.min(MAX_QUEUE_DELAY_SECONDS, Math.max(0, Math.ceil(delaySeconds))),
    }));
    await env.WEBHOOKS_QUEUE.sendBatch(chunk);
  }
}

/**
 * Attempts claimed deliveries (at most MAX_CONCURRENT_ATTEMPTS requests at once), records what came of them in
 * one D1 transaction, and schedules each next attempt as a delayed queue message. Throws only when D1 fails to
 * record (the deliveries stay leased, then due again: the caller retries).
 */
export async function attemptDeliveries(env: Env, claimed: readonly ClaimedDelivery[], send: Send = sendWithFetch): Promise<AttemptOutcome[]> {
  if (claimed.length === 0) return [];
  const db = getDb(env.DB);
  const endpoints = await endpointsForAttempts(
    db,
    claimed.map((delivery) => delivery.endpointId),
  );
  const attempted = await eachBounded(claimed, MAX_CONCURRENT_ATTEMPTS, (delivery) =>
    attempt(env, delivery, endpoints.get(delivery.endpointId), send, Date.now()),
  );
  const now = Date.now();
  const outcomes: AttemptOutcome[] = attempted.map(({ succeeded, ...outcome }, i) => {
    if (succeeded) return { ...outcome, status: "succeeded", nextAttemptAt: null };
    const next = outcome.disableReason === null && endpoints.has(outcome.endpointId) ? nextAttemptAt(claimed[i]!.createdAt, claimed[i]!.attempts, now) : null;
    return { ...outcome, status: next === null ? "failed" : "pending", nextAttemptAt: next };
  });
  const disabled = await recordAttemptOutcomes(db, outcomes, { now, failingForMs: ENDPOINT_FAILING_LIMIT_MS, failingReason: FAILING_DISABLE_REASON });
  for (const endpointId of disabled) {
    const projectKey = endpoints.get(endpointId)?.projectKey;
    if (projectKey !== undefined) forgetSubscriptions(projectKey);
  }
  const retries = outcomes
    .filter((outcome) => outcome.status === "pending" && !disabled.includes(outcome.endpointId))
    .map((outcome) => ({ deliveryId: outcome.deliveryId, delaySeconds: (outcome.nextAttemptAt! - now) / 1000 }));
  try {
    await sendDeliveryMessages(env, retries);
  } catch (error) {
    console.error("webhook retries could not be queued; the scheduled sweep sends them", error);
  }
  return outcomes;
}

// ---- The scheduled sweep -----------------------------------------------------------------------------------

/** A pending delivery this late (its retry message lost) is sent again by the sweep. */
export const OVERDUE_AFTER_MS = 5 * 60_000;
/** Delivery records are kept this long... */
export const DELIVERY_RETENTION_MS = 14 * 24 * 3_600_000;
/** ...and at most this many per endpoint (the newest). */
export const MAX_DELIVERIES_PER_ENDPOINT = 10_000;
const OVERDUE_PER_RUN = 1_000;
const DELETE_CHUNK = 1_000;
const RETENTION_CHUNKS_PER_RUN = 20;
const ENDPOINTS_TRIMMED_PER_RUN = 20;

/**
 * The cron's webhook work, bounded per run: re-sends pending deliveries whose retry message was lost (overdue by
 * more than OVERDUE_AFTER_MS), deletes delivery records older than DELIVERY_RETENTION_MS (20,000 per run), and
 * holds ENDPOINTS_TRIMMED_PER_RUN endpoints (those checked longest ago) to MAX_DELIVERIES_PER_ENDPOINT.
 */
export async function sweepWebhookDeliveries(env: Env, now = Date.now()): Promise<{ resent: number; expired: number; trimmed: number }> {
  const db: Db = getDb(env.DB);
  const overdue = await takeOverdueDeliveries(db, { overdueBefore: now - OVERDUE_AFTER_MS, now, limit: OVERDUE_PER_RUN });
  try {
    await sendDeliveryMessages(
      env,
      overdue.map((deliveryId) => ({ deliveryId, delaySeconds: 0 })),
    );
  } catch (error) {
    // They were made due: the next sweep finds them again. Retention and the cap below must run regardless.
    console.error("webhook sweep: re-sending overdue deliveries failed", error);
  }
  let expired = 0;
  for (let chunk = 0; chunk < RETENTION_CHUNKS_PER_RUN; chunk++) {
    const deleted = await deleteDeliveriesCreatedBefore(db, now - DELIVERY_RETENTION_MS, DELETE_CHUNK);
    expired += deleted;
    if (deleted < DELETE_CHUNK) break;
  }
  let trimmed = 0;
  for (const endpointId of await endpointsToTrim(db, ENDPOINTS_TRIMMED_PER_RUN)) {
    trimmed += await trimEndpointDeliveries(db, endpointId, { keep: MAX_DELIVERIES_PER_ENDPOINT, limit: DELETE_CHUNK * 5, now });
  }
  return { resent: overdue.length, expired, trimmed };
}
