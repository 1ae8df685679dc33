import type { WebhookEventType } from "../domain/webhook-events";
import { ADMIN_DISABLE_REASON, endpointStreaks } from "../domain/webhook-delivery";
import type { Db } from "./client";
import { ensureProject } from "./projects";

/**
 * Webhook endpoints and deliveries (tables `webhook_endpoints`, `webhook_deliveries`; schema.ts says what each
 * column holds). All times are epoch ms. Every endpoint query is keyed by its project, so another project's id
 * finds nothing.
 */

/** At most this many endpoints per project (any state), checked in the statement that inserts. */
export const MAX_WEBHOOK_ENDPOINTS_PER_PROJECT = 20;

export type WebhookEndpointRow = {
  id: string;
  projectKey: string;
  url: string;
  description: string;
  eventTypes: WebhookEventType[];
  enabled: boolean;
  disabledReason: string | null;
  disabledAt: number | null;
  previousSecretExpiresAt: number | null;
  failingSince: number | null;
  createdAt: number;
  updatedAt: number;
};

/** What an attempt needs of its endpoint: where, and the secrets that sign (encrypted). */
export type EndpointForAttempt = {
  id: string;
  projectKey: string;
  url: string;
  enabled: boolean;
  secretCiphertext: string;
  previousSecretCiphertext: string | null;
  previousSecretExpiresAt: number | null;
};

export type DeliveryStatus = "pending" | "succeeded" | "failed";

export type WebhookDeliveryRow = {
  id: string;
  endpointId: string;
  eventId: string;
  eventType: string;
  status: DeliveryStatus;
  attempts: number;
  responseStatus: number | null;
  latencyMs: number | null;
  responseText: string | null;
  lastError: string | null;
  nextAttemptAt: number | null;
  createdAt: number;
  updatedAt: number;
};

/** A delivery claimed for an attempt (its `attempts` counts this one), with the body to send. */
export type ClaimedDelivery = Pick<WebhookDeliveryRow, "id" | "endpointId" | "eventId" | "eventType" | "attempts" | "createdAt"> & { payload: string };

type RawEndpoint = {
  id: string;
  project_key: string;
  url: string;
  description: string;
  event_types: string;
  enabled: number;
  disabled_reason: string | null;
  disabled_at: number | null;
  previous_secret_expires_at: number | null;
  failing_since: number | null;
  created_at: number;
  updated_at: number;
};

const ENDPOINT_COLUMNS = `id, project_key, url, description, event_types, enabled, disabled_reason, disabled_at,
  previous_secret_expires_at, failing_since, created_at, updated_at`;

const endpointOf = (row: RawEndpoint): WebhookEndpointRow => ({
  id: row.id,
  projectKey: row.project_key,
  url: row.url,
  description: row.description,
  eventTypes: JSON.parse(row.event_types) as WebhookEventType[],
  enabled: row.enabled === 1,
  disabledReason: row.disabled_reason,
  disabledAt: row.disabled_at,
  previousSecretExpiresAt: row.previous_secret_expires_at,
  failingSince: row.failing_since,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

const DELIVERY_COLUMNS = `id, endpoint_id AS endpointId, event_id AS eventId, event_type AS eventType, status, attempts,
  response_status AS responseStatus, latency_ms AS latencyMs, response_text AS responseText, last_error AS lastError,
  next_attempt_at AS nextAttemptAt, created_at AS createdAt, updated_at AS updatedAt`;

const CLAIMED_COLUMNS = `id, endpoint_id AS endpointId, event_id AS eventId, event_type AS eventType, attempts, created_at AS createdAt, payload`;

// ---- Endpoints ---------------------------------------------------------------------------------------------

/**
 * Inserts the endpoint unless its project already has MAX_WEBHOOK_ENDPOINTS_PER_PROJECT, in one statement so
 * that concurrent creates cannot pass the bound together; null when the project is full.
 */
export async function insertWebhookEndpoint(
  db: Db,
  row: { id: string; projectKey: string; url: string; description: string; eventTypes: string[]; enabled: boolean; secretCiphertext: string; now: number },
): Promise<WebhookEndpointRow | null> {
  await ensureProject(db, row.projectKey);
  const disabled = row.enabled ? null : ADMIN_DISABLE_REASON;
  const inserted = await db.$client
    .prepare(
      `INSERT INTO webhook_endpoints (id, project_key, url, description, event_types, enabled, disabled_reason, disabled_at,
         secret_ciphertext, created_at, updated_at)
       SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, CASE WHEN ?7 IS NULL THEN NULL ELSE ?9 END, ?8, ?9, ?9
       WHERE (SELECT count(*) FROM webhook_endpoints WHERE project_key = ?2) < ?10
       RETURNING ${ENDPOINT_COLUMNS}`,
    )
    .bind(
      row.id,
      row.projectKey,
      row.url,
      row.description,
      JSON.stringify(row.eventTypes),
      row.enabled ? 1 : 0,
      disabled,
      row.secretCiphertext,
      row.now,
      MAX_WEBHOOK_ENDPOINTS_PER_PROJECT,
    )
    .first<RawEndpoint>();
  return inserted ? endpointOf(inserted) : null;
}

/** The project's endpoints, oldest first (at most MAX_WEBHOOK_ENDPOINTS_PER_PROJECT). */
export async function listWebhookEndpoints(db: Db, projectKey: string): Promise<WebhookEndpointRow[]> {
  const { results } = await db.$client
    .prepare(`SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE project_key = ? ORDER BY created_at, id LIMIT ?`)
    .bind(projectKey, MAX_WEBHOOK_ENDPOINTS_PER_PROJECT * 2)
    .all<RawEndpoint>();
  return results.map(endpointOf);
}

export async function findWebhookEndpoint(db: Db, projectKey: string, id: string): Promise<WebhookEndpointRow | null> {
  const row = await db.$client
    .prepare(`SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE project_key = ? AND id = ?`)
    .bind(projectKey, id)
    .first<RawEndpoint>();
  return row ? endpointOf(row) : null;
}

/** Pending deliveries of a disabled endpoint stop: failed, with why. */
const stopPendingOfDisabled = (d1: D1Database, endpointId: string, now: number) =>
  d1
    .prepare(
      `UPDATE webhook_deliveries SET status = 'failed', next_attempt_at = NULL, updated_at = ?2,
         last_error = 'stopped: the endpoint was disabled (' || (SELECT disabled_reason FROM webhook_endpoints WHERE id = ?1) || ')'
       WHERE endpoint_id = ?1 AND status = 'pending' AND EXISTS (SELECT 1 FROM webhook_endpoints WHERE id = ?1 AND enabled = 0)`,
    )
    .bind(endpointId, now);

/**
 * Changes the fields given. Disabling stops the endpoint's pending deliveries (in the same transaction); enabling
 * clears the disabled reason and the failing streak. Null when the project has no such endpoint.
 */
export async function updateWebhookEndpoint(
  db: Db,
  projectKey: string,
  id: string,
  changes: { url?: string; description?: string; eventTypes?: string[]; enabled?: boolean },
  now: number,
): Promise<WebhookEndpointRow | null> {
  const enabled = changes.enabled === undefined ? null : changes.enabled ? 1 : 0;
  const [updated] = await db.$client.batch([
    db.$client
      .prepare(
        `UPDATE webhook_endpoints SET
           url = coalesce(?3, url),
           description = coalesce(?4, description),
           event_types = coalesce(?5, event_types),
           disabled_reason = CASE WHEN ?6 = 1 THEN NULL WHEN ?6 = 0 AND enabled = 1 THEN ?8 ELSE disabled_reason END,
           disabled_at = CASE WHEN ?6 = 1 THEN NULL WHEN ?6 = 0 AND enabled = 1 THEN ?7 ELSE disabled_at END,
           failing_since = CASE WHEN ?6 = 1 AND enabled = 0 THEN NULL ELSE failing_since END,
           enabled = coalesce(?6, enabled),
           updated_at = ?7
         WHERE project_key = ?1 AND id = ?2
         RETURNING ${ENDPOINT_COLUMNS}`,
      )
      .bind(
        projectKey,
        id,
        changes.url ?? null,
        changes.description ?? null,
        changes.eventTypes ? JSON.stringify(changes.eventTypes) : null,
        enabled,
        now,
        ADMIN_DISABLE_REASON,
      ),
    // Only a disable stops pending deliveries (a description or URL change leaves them be).
    ...(changes.enabled === false ? [stopPendingOfDisabled(db.$client, id, now)] : []),
  ]);
  const row = (updated!.results as RawEndpoint[])[0];
  return row ? endpointOf(row) : null;
}

/** Deletes the endpoint and its deliveries (at most the per-endpoint cap and a day's growth); false when absent. */
export async function deleteWebhookEndpoint(db: Db, projectKey: string, id: string): Promise<boolean> {
  const [deleted] = await db.$client.batch([
    db.$client.prepare("DELETE FROM webhook_endpoints WHERE project_key = ? AND id = ? RETURNING id").bind(projectKey, id),
    // Only once the endpoint is gone: an id of another project's endpoint deletes nothing.
    db.$client.prepare("DELETE FROM webhook_deliveries WHERE endpoint_id = ?1 AND NOT EXISTS (SELECT 1 FROM webhook_endpoints WHERE id = ?1)").bind(id),
  ]);
  return deleted!.results.length > 0;
}

/** The new secret signs from now on; the current one keeps signing beside it until `previousExpiresAt`. */
export async function rotateWebhookSecret(
  db: Db,
  projectKey: string,
  id: string,
  secretCiphertext: string,
  previousExpiresAt: number,
  now: number,
): Promise<WebhookEndpointRow | null> {
  const row = await db.$client
    .prepare(
      `UPDATE webhook_endpoints SET previous_secret_ciphertext = secret_ciphertext, previous_secret_expires_at = ?4,
         secret_ciphertext = ?3, updated_at = ?5
       WHERE project_key = ?1 AND id = ?2
       RETURNING ${ENDPOINT_COLUMNS}`,
    )
    .bind(projectKey, id, secretCiphertext, previousExpiresAt, now)
    .first<RawEndpoint>();
  return row ? endpointOf(row) : null;
}

/** The event types of each enabled endpoint of the project. */
export async function enabledEndpointEventTypes(db: Db, projectKey: string): Promise<string[][]> {
  const { results } = await db.$client
    .prepare("SELECT event_types FROM webhook_endpoints WHERE project_key = ? AND enabled = 1 LIMIT ?")
    .bind(projectKey, MAX_WEBHOOK_ENDPOINTS_PER_PROJECT * 2)
    .all<{ event_types: string }>();
  return results.map((row) => JSON.parse(row.event_types) as string[]);
}

/** Endpoints by id, with their encrypted secrets, for attempts. */
export async function endpointsForAttempts(db: Db, ids: readonly string[]): Promise<Map<string, EndpointForAttempt>> {
  if (ids.length === 0) return new Map();
  const { results } = await db.$client
    .prepare(
      `SELECT id, project_key AS projectKey, url, enabled, secret_ciphertext AS secretCiphertext,
         previous_secret_ciphertext AS previousSecretCiphertext, previous_secret_expires_at AS previousSecretExpiresAt
       FROM webhook_endpoints WHERE id IN (SELECT value FROM json_each(?))`,
    )
    .bind(JSON.stringify([...new Set(ids)]))
    .all<Omit<EndpointForAttempt, "enabled"> & { enabled: number }>();
  return new Map(results.map((row) => [row.id, { ...row, enabled: row.enabled === 1 }]));
}

// ---- Deliveries --------------------------------------------------------------------------------------------

/** One webhook event as the fan-out inserts it: the body is the event's JSON, sent as it is on every attempt. */
export type FanoutEvent = { id: string; type: string; projectKey: string; payload: string };

/**
 * Inserts one delivery per (event, enabled endpoint of its project subscribed to its type), ignoring pairs that
 * already have one (a redelivered fan-out); then claims up to `limit` of the due pending deliveries of these
 * events (the new ones and any a crashed run left) and lists the due ones beyond `limit`. One transaction.
 */
export async function insertAndClaimDeliveries(
  db: Db,
  events: readonly FanoutEvent[],
  options: { now: number; leaseUntil: number; limit: number },
): Promise<{ claimed: ClaimedDelivery[]; overflow: string[] }> {
  const json = JSON.stringify(events);
  // The deliveries of these events at enabled endpoints (events x endpoints of their project: an index lookup each).
  const dueOfEvents = `SELECT d.id FROM json_each(?1) j
    JOIN webhook_endpoints e ON e.project_key = j.value ->> '$.projectKey' AND e.enabled = 1
    JOIN webhook_deliveries d ON d.endpoint_id = e.id AND d.event_id = j.value ->> '$.id'
    WHERE d.status = 'pending' AND d.next_attempt_at <= ?2`;
  const [, claimed, overflow] = await db.$client.batch([
    db.$client
      .prepare(
        `INSERT INTO webhook_deliveries (id, endpoint_id, event_id, event_type, payload, status, attempts, next_attempt_at, created_at, updated_at)
         SELECT 'whd_' || lower(hex(randomblob(12))), e.id, j.value ->> '$.id', j.value ->> '$.type', j.value ->> '$.payload', 'pending', 0, ?2, ?2, ?2
         FROM json_each(?1) j
         JOIN webhook_endpoints e ON e.project_key = j.value ->> '$.projectKey' AND e.enabled = 1
         WHERE EXISTS (SELECT 1 FROM json_each(e.event_types) t WHERE t.value = j.value ->> '$.type')
         ON CONFLICT (endpoint_id, event_id) DO NOTHING`,
      )
      .bind(json, options.now),
    db.$client
      .prepare(
        `UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = ?3, updated_at = ?2
         WHERE id IN (${dueOfEvents} LIMIT ?4)
         RETURNING ${CLAIMED_COLUMNS}`,
      )
      .bind(json, options.now, options.leaseUntil, options.limit),
    db.$client.prepare(dueOfEvents).bind(json, options.now),
  ]);
  return {
    claimed: claimed!.results as ClaimedDelivery[],
    overflow: (overflow!.results as Array<{ id: string }>).map((row) => row.id),
  };
}

/**
 * Claims the given deliveries that are pending, due by `dueBy` and of an enabled endpoint: counts the attempt and
 * leases them until `leaseUntil` (so a duplicate message, or the sweep, finds nothing due meanwhile).
 */
export async function claimDeliveries(db: Db, ids: readonly string[], options: { now: number; dueBy: number; leaseUntil: number }): Promise<ClaimedDelivery[]> {
  if (ids.length === 0) return [];
  const { results } = await db.$client
    .prepare(
      `UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = ?4, updated_at = ?2
       WHERE id IN (SELECT value FROM json_each(?1)) AND status = 'pending' AND next_attempt_at <= ?3
         AND EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.id = endpoint_id AND e.enabled = 1)
       RETURNING ${CLAIMED_COLUMNS}`,
    )
    .bind(JSON.stringify([...new Set(ids)]), options.now, options.dueBy, options.leaseUntil)
    .all<ClaimedDelivery>();
  return results;
}

/** Inserts a delivery of one event to one endpoint, claimed for an attempt now (the test event). */
export async function insertClaimedDelivery(
  db: Db,
  delivery: { id: string; endpointId: string; eventId: string; eventType: string; payload: string },
  options: { now: number; leaseUntil: number },
): Promise<ClaimedDelivery> {
  const row = await db.$client
    .prepare(
      `INSERT INTO webhook_deliveries (id, endpoint_id, event_id, event_type, payload, status, attempts, next_attempt_at, created_at, updated_at)
       VALUES (?1, ?2, ?3, ?4, ?5, 'pending', 1, ?6, ?7, ?7)
       RETURNING ${CLAIMED_COLUMNS}`,
    )
    .bind(delivery.id, delivery.endpointId, delivery.eventId, delivery.eventType, delivery.payload, options.leaseUntil, options.now)
    .first<ClaimedDelivery>();
  return row!;
}

/**
 * Claims one delivery of the endpoint for an attempt now, whatever its status or schedule (a manual retry), in one
 * statement: a queue consumer claiming it at the same moment can no longer leave the retry with nothing to send.
 * If the consumer's attempt is already under way, both send (receivers deduplicate on `webhook-id`). Null when the
 * endpoint has no such delivery or is disabled.
 */
export async function claimDeliveryNow(
  db: Db,
  endpointId: string,
  deliveryId: string,
  options: { now: number; leaseUntil: number },
): Promise<ClaimedDelivery | null> {
  return db.$client
    .prepare(
      `UPDATE webhook_deliveries SET status = 'pending', attempts = attempts + 1, next_attempt_at = ?4, updated_at = ?3
       WHERE endpoint_id = ?1 AND id = ?2
         AND EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.id = endpoint_id AND e.enabled = 1)
       RETURNING ${CLAIMED_COLUMNS}`,
    )
    .bind(endpointId, deliveryId, options.now, options.leaseUntil)
    .first<ClaimedDelivery>();
}

/** What one attempt came to. `nextAttemptAt` is set when another attempt follows (status pending). */
export type AttemptOutcome = {
  deliveryId: string;
  endpointId: string;
  status: DeliveryStatus;
  responseStatus: number | null;
  latencyMs: number | null;
  responseText: string | null;
  lastError: string | null;
  nextAttemptAt: number | null;
  /** Disable the endpoint with this reason (a 410). */
  disableReason: string | null;
};

/**
 * Records the outcomes of attempts in one transaction of five statements, however many there are, and what they
 * mean for their endpoints (`endpointStreaks`): a recovered endpoint's failing streak ends; a failing one's starts
 * (if none runs) and it is disabled when the streak is `failingForMs` old, or at once with its reason; a disabled
 * endpoint's pending deliveries stop. Returns the endpoints this disabled.
 */
export async function recordAttemptOutcomes(
  db: Db,
  outcomes: readonly AttemptOutcome[],
  options: { now: number; failingForMs: number; failingReason: string },
): Promise<string[]> {
  if (outcomes.length === 0) return [];
  const d1 = db.$client;
  const { recovered, failing } = endpointStreaks(outcomes);
  const failingJson = JSON.stringify(failing);
  const results = await d1.batch([
    d1
      .prepare(
        `UPDATE webhook_deliveries SET status = o.value ->> '$.status', response_status = o.value ->> '$.responseStatus',
           latency_ms = o.value ->> '$.latencyMs', response_text = o.value ->> '$.responseText', last_error = o.value ->> '$.lastError',
           next_attempt_at = o.value ->> '$.nextAttemptAt', updated_at = ?2
         FROM json_each(?1) o WHERE webhook_deliveries.id = o.value ->> '$.deliveryId'`,
      )
      .bind(JSON.stringify(outcomes), options.now),
    d1
      .prepare("UPDATE webhook_endpoints SET failing_since = NULL WHERE id IN (SELECT value FROM json_each(?1)) AND failing_since IS NOT NULL")
      .bind(JSON.stringify(recovered)),
    d1
      .prepare("UPDATE webhook_endpoints SET failing_since = ?2 WHERE id IN (SELECT value ->> '$.id' FROM json_each(?1)) AND failing_since IS NULL")
      .bind(failingJson, options.now),
    d1
      .prepare(
        `UPDATE webhook_endpoints SET enabled = 0, disabled_at = ?2, updated_at = ?2, disabled_reason = coalesce(f.value ->> '$.reason', ?4)
         FROM json_each(?1) f
         WHERE webhook_endpoints.id = f.value ->> '$.id' AND enabled = 1 AND (f.value ->> '$.reason' IS NOT NULL OR failing_since <= ?2 - ?3)
         RETURNING webhook_endpoints.id`,
      )
      .bind(failingJson, options.now, options.failingForMs, options.failingReason),
    d1
      .prepare(
        `UPDATE webhook_deliveries SET status = 'failed', next_attempt_at = NULL, updated_at = ?2,
           last_error = 'stopped: the endpoint was disabled (' || (SELECT e.disabled_reason FROM webhook_endpoints e WHERE e.id = endpoint_id) || ')'
         WHERE status = 'pending' AND endpoint_id IN (SELECT id FROM webhook_endpoints WHERE enabled = 0 AND id IN (SELECT value ->> '$.id' FROM json_each(?1)))`,
      )
      .bind(failingJson, options.now),
  ]);
  return (results[3]!.results as Array<{ id: string }>).map((row) => row.id);
}

/** Decoded position of a deliveries page: after (createdAt, id), newest first. */
export type DeliveriesCursor = { createdAt: number; id: string };

/** An endpoint's deliveries newest first, of one status or all; `after` continues a previous page. */
export async function listDeliveries(
  db: Db,
  endpointId: string,
  options: { status?: DeliveryStatus; after?: DeliveriesCursor; limit: number },
): Promise<WebhookDeliveryRow[]> {
  const { results } = await db.$client
    .prepare(
      `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries
       WHERE endpoint_id = ?1 AND (?2 IS NULL OR status = ?2)
         AND (?3 IS NULL OR created_at < ?3 OR (created_at = ?3 AND id < ?4))
       ORDER BY created_at DESC, id DESC LIMIT ?5`,
    )
    .bind(endpointId, options.status ?? null, options.after?.createdAt ?? null, options.after?.id ?? "", options.limit)
    .all<WebhookDeliveryRow>();
  return results;
}

export async function findDelivery(db: Db, endpointId: string, deliveryId: string): Promise<WebhookDeliveryRow | null> {
  return db.$client
    .prepare(`SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE endpoint_id = ? AND id = ?`)
    .bind(endpointId, deliveryId)
    .first<WebhookDeliveryRow>();
}

// ---- The scheduled sweep -----------------------------------------------------------------------------------

/**
 * Pending deliveries of enabled endpoints whose next attempt was due before `overdueBefore` (their retry message
 * was lost), made due `now` again so that the next sweep does not send them twice; at most `limit`.
 */
export async function takeOverdueDeliveries(db: Db, options: { overdueBefore: number; now: number; limit: number }): Promise<string[]> {
  const { results } = await db.$client
    .prepare(
      `UPDATE webhook_deliveries SET next_attempt_at = ?2, updated_at = ?2
       WHERE id IN (SELECT d.id FROM webhook_deliveries d WHERE d.status = 'pending' AND d.next_attempt_at < ?1
                    AND EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.id = d.endpoint_id AND e.enabled = 1)
                    ORDER BY d.next_attempt_at LIMIT ?3)
       RETURNING id`,
    )
    .bind(options.overdueBefore, options.now, options.limit)
    .all<{ id: string }>();
  return results.map((row) => row.id);
}

/** Deletes up to `limit` of the oldest deliveries created before `before`; how many it deleted. */
export async function deleteDeliveriesCreatedBefore(db: Db, before: number, limit: number): Promise<number> {
  const result = await db.$client
    .prepare(
      `DELETE FROM webhook_deliveries WHERE id IN (
         SELECT id FROM webhook_deliveries WHERE created_at < ? ORDER BY created_at LIMIT ?)`,
    )
    .bind(before, limit)
    .run();
  return result.meta.changes ?? 0;
}

/** The endpoints whose deliveries were held to the cap longest ago (what the sweep checks next). */
export async function endpointsToTrim(db: Db, limit: number): Promise<string[]> {
  const { results } = await db.$client.prepare("SELECT id FROM webhook_endpoints ORDER BY deliveries_trimmed_at, id LIMIT ?").bind(limit).all<{ id: string }>();
  return results.map((row) => row.id);
}

/**
 * Deletes up to `limit` of an endpoint's finished deliveries beyond its newest `keep` (a pending one is never deleted:
 * it is still to be delivered, and pending ones end within 3 days); when none are left beyond them,
 * marks the endpoint trimmed at `now`. How many it deleted.
 */
export async function trimEndpointDeliveries(db: Db, endpointId: string, options: { keep: number; limit: number; now: number }): Promise<number> {
  const boundary = await db.$client
    .prepare(
      `SELECT created_at AS createdAt, id FROM webhook_deliveries WHERE endpoint_id = ?
       ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET ?`,
    )
    .bind(endpointId, options.keep - 1)
    .first<{ createdAt: number; id: string }>();
  let deleted = 0;
  if (boundary) {
    const result = await db.$client
      .prepare(
        `DELETE FROM webhook_deliveries WHERE id IN (
           SELECT id FROM webhook_deliveries WHERE endpoint_id = ?1 AND (created_at < ?2 OR (created_at = ?2 AND id < ?3))
             AND status <> 'pending'
           ORDER BY created_at, id LIMIT ?4)`,
      )
      .bind(endpointId, boundary.createdAt, boundary.id, options.limit)
      .run();
    deleted = result.meta.changes ?? 0;
  }
  if (deleted < options.limit) {
    await db.$client.prepare("UPDATE webhook_endpoints SET deliveries_trimmed_at = ? WHERE id = ?").bind(options.now, endpointId).run();
  }
  return deleted;
}
