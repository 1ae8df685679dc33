import type { LoggedEvent } from "../domain/logged-event";

/** The aggregate tables and how many characters of the ISO timestamp name their bucket. */
const STATS_GRANULARITIES = [
  { table: "stats_hourly", bucketLength: 13 },
  { table: "stats_daily", bucketLength: 10 },
  { table: "stats_monthly", bucketLength: 7 },
] as const;

const INSERT_EVENTS = `
INSERT INTO event_log (
  event_uid, project_key, program_id, user_id, account_id, event_id, definition_version, event_type,
  loyalty_event_type, metadata, occurred_at, recorded_at, points, balance_before, balance_after,
  user_group_id, condition_reached, limit_reached, reward, idempotency_key, ingest_batch
)
SELECT
  value ->> '$.eventUid', value ->> '$.projectKey', value ->> '$.programId', value ->> '$.userId',
  value ->> '$.accountId', value ->> '$.eventId', value ->> '$.definitionVersion', value ->> '$.eventType',
  value ->> '$.loyaltyEventType', value -> '$.metadata', value ->> '$.occurredAt', value ->> '$.recordedAt',
  value ->> '$.points', value ->> '$.balanceBefore', value ->> '$.balanceAfter', value ->> '$.userGroupId',
  value ->> '$.conditionReached', value ->> '$.limitReached', value -> '$.reward', value ->> '$.idempotencyKey', ?2
FROM json_each(?1) WHERE true
ON CONFLICT (event_uid) DO NOTHING`;

/** Adds the rows this batch inserted (and only those) to one aggregate table, per event and project-wide ('*'). */
const aggregateInto = (table: string, bucketLength: number) => `
INSERT INTO ${table} (project_key, event_id, bucket, count, points, condition_met, condition_failed, limit_reached)
SELECT project_key, event_id, bucket, COUNT(*), SUM(points), SUM(condition_reached), SUM(1 - condition_reached), SUM(limit_reached)
FROM (
  SELECT project_key, event_id, substr(occurred_at, 1, ${bucketLength}) AS bucket, points, condition_reached, limit_reached
    FROM event_log WHERE ingest_batch = ?1
  UNION ALL
  SELECT project_key, '*', substr(occurred_at, 1, ${bucketLength}), points, condition_reached, limit_reached
    FROM event_log WHERE ingest_batch = ?1
)
WHERE true
GROUP BY project_key, event_id, bucket
ON CONFLICT (project_key, event_id, bucket) DO UPDATE SET
  count = count + excluded.count,
  points = points + excluded.points,
  condition_met = condition_met + excluded.condition_met,
  condition_failed = condition_failed + excluded.condition_failed,
  limit_reached = limit_reached + excluded.limit_reached`;

const RECORD_ACTIVE_USERS = `
INSERT OR IGNORE INTO stats_daily_users (project_key, event_id, day, user_id)
SELECT project_key, event_id, substr(occurred_at, 1, 10), user_id FROM event_log WHERE ingest_batch = ?1
UNION
SELECT project_key, '*', substr(occurred_at, 1, 10), user_id FROM event_log WHERE ingest_batch = ?1`;

/**
 * Writes events to the D1 log and the stats rows in one D1 batch, which D1 runs as a single transaction.
 * Rows are tagged with a fresh batch token; events already in the log (a redelivery) keep their old token,
 * so the aggregates add exactly the events this call inserted. A failure rolls back all of it.
 * Cost: 5 statements per call, whatever the number of events (one JSON parameter carries them all).
 */
export async function ingestEvents(d1: D1Database, events: LoggedEvent[]): Promise<void> {
  if (events.length === 0) return;
  const batchToken = crypto.randomUUID();
  const bind = (sql: string, ...params: unknown[]) => d1.prepare(sql).bind(...params);
  await d1.batch([
    bind(INSERT_EVENTS, JSON.stringify(events), batchToken),
    ...STATS_GRANULARITIES.map(({ table, bucketLength }) => bind(aggregateInto(table, bucketLength), batchToken)),
    bind(RECORD_ACTIVE_USERS, batchToken),
  ]);
}
