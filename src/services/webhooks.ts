import { seal } from "../auth/secret-box";
import { getDb } from "../db/client";
import {
  claimDeliveryNow,
  deleteWebhookEndpoint,
  findDelivery,
  findWebhookEndpoint,
  insertClaimedDelivery,
  insertWebhookEndpoint,
  listDeliveries,
  listWebhookEndpoints,
  MAX_WEBHOOK_ENDPOINTS_PER_PROJECT,
  rotateWebhookSecret,
  updateWebhookEndpoint,
  type DeliveriesCursor,
  type DeliveryStatus,
  type WebhookDeliveryRow,
  type WebhookEndpointRow,
} from "../db/webhooks";
import { WEBHOOK_TEST_TYPE, type WebhookEvent, type WebhookEventType } from "../domain/webhook-events";
import { newWebhookSecret } from "../domain/webhook-signature";
import { webhookUrlProblem } from "../domain/webhook-urls";
import { ApiError, invalidFields } from "../http/errors";
import { ATTEMPT_LEASE_MS, attemptDeliveries, endpointSecretBinding, sendWithFetch, type Send } from "./webhook-delivery";
import { forgetSubscriptions } from "./webhook-subscriptions";
import { randomBase64Url, toHex } from "../lib/bytes";

/** After a rotation the previous secret keeps signing beside the new one this long. */
export const SECRET_ROTATION_OVERLAP_MS = 24 * 3_600_000;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** An endpoint as the API shows it (no secret). */
export type WebhookEndpointView = {
  id: string;
  url: string;
  description: string;
  eventTypes: WebhookEventType[];
  enabled: boolean;
  disabledReason: string | null;
  disabledAt: string | null;
  failingSince: string | null;
  previousSecretExpiresAt: string | null;
  createdAt: string;
  updatedAt: string;
};

/** A delivery as the API shows it: the row, with its times as ISO text and its last error as `error`. */
export type WebhookDeliveryView = Omit<WebhookDeliveryRow, "lastError" | "nextAttemptAt" | "createdAt" | "updatedAt"> & {
  error: string | null;
  nextAttemptAt: string | null;
  createdAt: string;
  updatedAt: string;
};

const endpointView = (row: WebhookEndpointRow, now = Date.now()): WebhookEndpointView => ({
  id: row.id,
  url: row.url,
  description: row.description,
  eventTypes: row.eventTypes,
  enabled: row.enabled,
  disabledReason: row.disabledReason,
  disabledAt: iso(row.disabledAt),
  failingSince: iso(row.failingSince),
  previousSecretExpiresAt: row.previousSecretExpiresAt !== null && row.previousSecretExpiresAt > now ? iso(row.previousSecretExpiresAt) : null,
  createdAt: iso(row.createdAt)!,
  updatedAt: iso(row.updatedAt)!,
});

const deliveryView = (row: WebhookDeliveryRow): WebhookDeliveryView => ({
  id: row.id,
  endpointId: row.endpointId,
  eventId: row.eventId,
  eventType: row.eventType,
  status: row.status,
  attempts: row.attempts,
  responseStatus: row.responseStatus,
  latencyMs: row.latencyMs,
  responseText: row.responseText,
  error: row.lastError,
  nextAttemptAt: row.status === "pending" ? iso(row.nextAttemptAt) : null,
  createdAt: iso(row.createdAt)!,
  updatedAt: iso(row.updatedAt)!,
});

const endpointNotFound = (id: string) => new ApiError(404, `Webhook endpoint ${id} does not exist in this project`);

function mustBeAllowedUrl(env: Env, url: string): void {
  const problem = webhookUrlProblem(url, { allowLoopback: env.WEBHOOKS_ALLOW_LOOPBACK === "1" });
  if (problem !== null) throw invalidFields("body", [{ path: "url", message: problem }]);
}

async function endpointOf(env: Env, projectKey: string, id: string): Promise<WebhookEndpointRow> {
  const endpoint = await findWebhookEndpoint(getDb(env.DB), projectKey, id);
  if (!endpoint) throw endpointNotFound(id);
  return endpoint;
}

export type NewWebhookEndpoint = { url: string; eventTypes: WebhookEventType[]; description: string; enabled: boolean };

export async function createWebhookEndpoint(env: Env, projectKey: string, input: NewWebhookEndpoint): Promise<WebhookEndpointView & { secret: string }> {
  mustBeAllowedUrl(env, input.url);
  const id = `we_${randomBase64Url(16)}`;
  const secret = newWebhookSecret();
  const secretCiphertext = await seal(env.JWT_SECRET, secret, endpointSecretBinding(projectKey, id));
  const row = await insertWebhookEndpoint(getDb(env.DB), { id, projectKey, ...input, secretCiphertext, now: Date.now() });
  if (!row) throw new ApiError(409, `The project already has the most webhook endpoints allowed (${MAX_WEBHOOK_ENDPOINTS_PER_PROJECT}); delete one first`);
  forgetSubscriptions(projectKey);
  return { ...endpointView(row), secret };
}

export async function webhookEndpointsOf(env: Env, projectKey: string): Promise<WebhookEndpointView[]> {
  return (await listWebhookEndpoints(getDb(env.DB), projectKey)).map((row) => endpointView(row));
}

export async function webhookEndpoint(env: Env, projectKey: string, id: string): Promise<WebhookEndpointView> {
  return endpointView(await endpointOf(env, projectKey, id));
}

export async function changeWebhookEndpoint(env: Env, projectKey: string, id: string, changes: Partial<NewWebhookEndpoint>): Promise<WebhookEndpointView> {
  if (changes.url !== undefined) mustBeAllowedUrl(env, changes.url);
  const row = await updateWebhookEndpoint(getDb(env.DB), projectKey, id, changes, Date.now());
  if (!row) throw endpointNotFound(id);
  forgetSubscriptions(projectKey);
  return endpointView(row);
}

export async function removeWebhookEndpoint(env: Env, projectKey: string, id: string): Promise<void> {
  if (!(await deleteWebhookEndpoint(getDb(env.DB), projectKey, id))) throw endpointNotFound(id);
  forgetSubscriptions(projectKey);
}

/** A new secret, shown once; the previous one keeps signing beside it for SECRET_ROTATION_OVERLAP_MS. */
export async function rotateWebhookEndpointSecret(env: Env, projectKey: string, id: string): Promise<WebhookEndpointView & { secret: string }> {
  const secret = newWebhookSecret();
  const secretCiphertext = await seal(env.JWT_SECRET, secret, endpointSecretBinding(projectKey, id));
  const now = Date.now();
  const row = await rotateWebhookSecret(getDb(env.DB), projectKey, id, secretCiphertext, now + SECRET_ROTATION_OVERLAP_MS, now);
  if (!row) throw endpointNotFound(id);
  return { ...endpointView(row, now), secret };
}

function mustBeEnabled(endpoint: WebhookEndpointRow): void {
  if (!endpoint.enabled) {
    throw new ApiError(
      409,
      `Webhook endpoint ${endpoint.id} is disabled (${endpoint.disabledReason ?? "disabled"}); enable it first (PUT with "enabled": true)`,
    );
  }
}

/** The delivery as stored after an attempt made on this request. */
async function attemptedNow(
  env: Env,
  endpointId: string,
  deliveryId: string,
  claimed: Parameters<typeof attemptDeliveries>[1],
  send: Send,
): Promise<WebhookDeliveryView> {
  await attemptDeliveries(env, claimed, send);
  const row = await findDelivery(getDb(env.DB), endpointId, deliveryId);
  return deliveryView(row!);
}

/**
 * Sends a `webhook.test` event to the endpoint now, through the delivery path every event takes (signed, recorded,
 * retried when it fails), and answers the delivery after that first attempt.
 */
export async function sendTestEvent(env: Env, projectKey: string, id: string, send: Send = sendWithFetch): Promise<WebhookDeliveryView> {
  const endpoint = await endpointOf(env, projectKey, id);
  mustBeEnabled(endpoint);
  const now = Date.now();
  const event: WebhookEvent = {
    id: `evt_test_${toHex(crypto.getRandomValues(new Uint8Array(12)))}`,
    type: WEBHOOK_TEST_TYPE,
    createdAt: new Date(now).toISOString(),
    projectId: projectKey,
    data: { endpointId: endpoint.id, message: "A test event sent from the API: your endpoint receives and verifies webhooks." },
  };
  const deliveryId = `whd_${toHex(crypto.getRandomValues(new Uint8Array(12)))}`;
  const claimed = await insertClaimedDelivery(
    getDb(env.DB),
    { id: deliveryId, endpointId: endpoint.id, eventId: event.id, eventType: event.type, payload: JSON.stringify(event) },
    { now, leaseUntil: now + ATTEMPT_LEASE_MS },
  );
  return attemptedNow(env, endpoint.id, deliveryId, [claimed], send);
}

/**
 * Attempts one delivery of the endpoint again now, whatever its status (a succeeded one is sent again: receivers
 * deduplicate on `webhook-id`). A failed attempt is retried on the schedule while the delivery is within 3 days of
 * its first attempt, and is failed otherwise.
 */
export async function retryDelivery(env: Env, projectKey: string, id: string, deliveryId: string, send: Send = sendWithFetch): Promise<WebhookDeliveryView> {
  const endpoint = await endpointOf(env, projectKey, id);
  const db = getDb(env.DB);
  if (!(await findDelivery(db, endpoint.id, deliveryId))) throw new ApiError(404, `Delivery ${deliveryId} does not exist for webhook endpoint ${id}`);
  mustBeEnabled(endpoint);
  const now = Date.now();
  const claimed = await claimDeliveryNow(db, endpoint.id, deliveryId, { now, leaseUntil: now + ATTEMPT_LEASE_MS });
  return attemptedNow(env, endpoint.id, deliveryId, claimed === null ? [] : [claimed], send);
}

/** A page of the endpoint's deliveries, newest first, and the position after it (null after the last page). */
export async function deliveriesOf(
  env: Env,
  projectKey: string,
  id: string,
  options: { status?: DeliveryStatus; after?: DeliveriesCursor; limit: number },
): Promise<{ items: WebhookDeliveryView[]; next: DeliveriesCursor | null }> {
  const endpoint = await endpointOf(env, projectKey, id);
  const rows = await listDeliveries(getDb(env.DB), endpoint.id, { ...options, limit: options.limit + 1 });
  const page = rows.slice(0, options.limit);
  const last = page.at(-1);
  return { items: page.map(deliveryView), next: rows.length > options.limit && last ? { createdAt: last.createdAt, id: last.id } : null };
}
