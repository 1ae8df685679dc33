import { REWARD_TYPES } from "../domain/definition-vocabulary";
import { msToIso, uidText } from "./event-log";

/**
 * The D1 side of the R2 archive (src/services/archive.ts): batches of the raw log chosen before anything is
 * written, the rows of a batch as archive lines, and the mark that a batch is in R2.
 *
 * Events are archived in id order. `event_log.id` is AUTOINCREMENT and D1 commits one transaction at a time,
 * so a row committed later always has a higher id than every row a batch saw: the rows up to the newest done
 * batch's `last_id` are exactly the archived ones, and no per-row marker (no write, no byte, no index entry per
 * event) is needed. Adjustments have no such id (their rowid may be reused), so a batch claims them by setting
 * their `archive_batch`.
 */

export type ArchiveKind = "events" | "adjustments";

/** A batch: its id, kind, and the range of ids (events) or claimed rowids (adjustments) it covers. */
export type ArchiveBatch = { id: number; kind: ArchiveKind; firstId: number; lastId: number; leasedUntil: number };

/** A row the archive may take next: its id, and the (project, UTC day) its object is partitioned by. */
export type ArchiveCandidate = { id: number; programId: number; day: string };

/** One archived row: its partition and its line (a JSON object; see README "The archive"). */
export type ArchiveLine = ArchiveCandidate & { line: string };

const BATCH_COLUMNS = "id, kind, first_id AS firstId, last_id AS lastId, leased_until AS leasedUntil";

/** The batch of `kind` not done yet, if any (at most one: archive_batches_pending). */
export async function pendingBatch(d1: D1Database, kind: ArchiveKind): Promise<ArchiveBatch | null> {
  return d1
    .prepare(`SELECT ${BATCH_COLUMNS} FROM archive_batches INDEXED BY archive_batches_pending WHERE kind = ? AND done_at IS NULL`)
    .bind(kind)
    .first<ArchiveBatch>();
}

/** The newest done batch of `kind`: for events, every id up to its `lastId` is archived. */
export async function newestDoneBatch(d1: D1Database, kind: ArchiveKind): Promise<ArchiveBatch | null> {
  return d1
    .prepare(`SELECT ${BATCH_COLUMNS} FROM archive_batches INDEXED BY archive_batches_done WHERE kind = ? AND done_at IS NOT NULL ORDER BY id DESC LIMIT 1`)
    .bind(kind)
    .first<ArchiveBatch>();
}

/** Takes a pending batch for a run until `until` (epoch ms), if no other run holds it; true when taken. */
export async function leaseBatch(d1: D1Database, batch: ArchiveBatch, until: number): Promise<boolean> {
  const result = await d1
    .prepare("UPDATE archive_batches SET leased_until = ?1 WHERE id = ?2 AND done_at IS NULL AND leased_until = ?3")
    .bind(until, batch.id, batch.leasedUntil)
    .run();
  return result.meta.changes === 1;
}

/** Gives a batch back at once (after a failed run), so the next run takes it without waiting for the lease. */
export async function releaseBatch(d1: D1Database, batch: ArchiveBatch): Promise<void> {
  await d1.prepare("UPDATE archive_batches SET leased_until = 0 WHERE id = ? AND done_at IS NULL").bind(batch.id).run();
}

/**
 * The oldest rows of `kind` no batch covers yet, in id order, at most `limit`: events past the last batch's
 * range (a primary-key range), adjustments no batch claimed (the partial index ledger_adjustments_unarchived).
 */
export async function nextCandidates(d1: D1Database, kind: ArchiveKind, limit: number): Promise<ArchiveCandidate[]> {
  if (kind === "events") {
    const after = (await newestDoneBatch(d1, "events"))?.lastId ?? 0;
    const { results } = await d1
      .prepare(`SELECT id, program_id AS programId, ${DAY_OF_MS("occurred_at")} AS day FROM event_log WHERE id > ? ORDER BY id LIMIT ?`)
      .bind(after, limit)
      .all<ArchiveCandidate>();
    return results;
  }
  const { results } = await d1
    .prepare(
      `SELECT a.rowid AS id, p.id AS programId, substr(a.adjusted_at, 1, 10) AS day
       FROM ledger_adjustments a INDEXED BY ledger_adjustments_unarchived JOIN projects p ON p.key = a.project_key
       WHERE a.archive_batch IS NULL ORDER BY a.rowid LIMIT ?`,
    )
    .bind(limit)
    .all<ArchiveCandidate>();
  return results;
}

const isConflict = (error: unknown) => /UNIQUE constraint failed/i.test(String((error as Error)?.message ?? error));

/**
 * Records a new pending batch over `rows` (leased to this run until `leasedUntil`), claiming them for
 * adjustments, in one transaction. Null when another run recorded one meanwhile (one pending batch per kind).
 */
export async function claimBatch(
  d1: D1Database,
  kind: ArchiveKind,
  rows: readonly ArchiveCandidate[],
  leasedUntil: number,
  now: string,
): Promise<ArchiveBatch | null> {
  const firstId = rows[0]!.id;
  const lastId = rows.at(-1)!.id;
  const insert = d1
    .prepare("INSERT INTO archive_batches (kind, first_id, last_id, leased_until, created_at) VALUES (?, ?, ?, ?, ?)")
    .bind(kind, firstId, lastId, leasedUntil, now);
  const statements = [insert];
  if (kind === "adjustments") {
    statements.push(
      d1
        .prepare(
          `UPDATE ledger_adjustments SET archive_batch = (SELECT id FROM archive_batches WHERE kind = 'adjustments' AND done_at IS NULL)
           WHERE rowid IN (SELECT value FROM json_each(?)) AND archive_batch IS NULL`,
        )
        .bind(JSON.stringify(rows.map((row) => row.id))),
    );
  }
  try {
    await d1.batch(statements);
  } catch (error) {
    if (isConflict(error)) return null;
    throw error;
  }
  return pendingBatch(d1, kind);
}

/** SQL: the UTC day (YYYY-MM-DD) of epoch milliseconds, as the log stores times. */
const DAY_OF_MS = (ms: string) => `strftime('%Y-%m-%d', ${ms} / 1000, 'unixepoch')`;

/** SQL: the join of an event-log row (`e`) to its member's registration: its account, in its project. */
const MEMBER_OF = (e: string) => `u.account_id = ${e}.account_id AND u.project_key = (SELECT key FROM projects WHERE id = ${e}.program_id)`;

/** SQL: a reward type's name from the log's code (its position in REWARD_TYPES). */
const REWARD_TYPE_NAME = (code: string) => `CASE ${code} ${REWARD_TYPES.map((type, i) => `WHEN ${i} THEN '${type}'`).join(" ")} END`;

/** Booleans stored as 0/1, as JSON true/false. */
const jsonBool = (column: string) => `json(CASE WHEN ${column} THEN 'true' ELSE 'false' END)`;

/**
 * An archived event: what was logged (the log's row and its details, event_log_details), with the member's
 * pseudonymous key instead of the userId and the accountId (both identify the member). `id` is the loyalty event id the ledger shows; `logId` the log's own
 * sequence (the order rows reached D1, which names the files). The current amount after adjustments is not in it: adjustments are
 * archived as their own rows (ADJUSTMENT_LINE), so an archived line never changes.
 */
const EVENT_LINE = `json_object(
  'id', e.ledger_id, 'logId', e.id, 'eventUid', ${uidText("e.event_uid")}, 'programId', e.program_id, 'member', u.member_key,
  'eventId', e.event_id, 'definitionVersion', d.definition_version, 'eventType', d.event_type, 'ledgerType', d.ledger_type,
  'ruleId', e.rule_id, 'occurredAt', ${msToIso("e.occurred_at")}, 'recordedAt', ${msToIso("e.recorded_at")},
  'points', d.points, 'balanceBefore', d.balance_before, 'balanceAfter', d.balance_after, 'userGroupId', d.user_group_id,
  'conditionReached', ${jsonBool("d.condition_reached")}, 'limitReached', ${jsonBool("d.limit_reached")},
  'rewardType', ${REWARD_TYPE_NAME("e.reward_type")}, 'rewardAmount', e.reward_amount, 'rewardCurrency', e.reward_currency,
  'customerMessage', e.customer_message, 'reward', json(d.reward), 'metadata', json(COALESCE(e.metadata, '{}')))`;

const ADJUSTMENT_LINE = `json_object(
  'adjustmentUid', a.adjustment_uid, 'eventUid', a.event_uid, 'programId', p.id, 'seq', a.seq,
  'previousAmount', a.previous_amount, 'newAmount', a.new_amount, 'pointsDelta', a.points_delta,
  'reason', a.reason, 'adjustedAt', a.adjusted_at)`;

/**
 * The rows of a batch as archive lines, in id order. For events, members first get their pseudonymous key
 * (set once, in the same transaction: a repeated run reads the same keys). An event whose member is no longer
 * registered has `member` null.
 */
export async function batchLines(d1: D1Database, batch: ArchiveBatch): Promise<ArchiveLine[]> {
  if (batch.kind === "events") {
    const [, read] = await d1.batch<ArchiveLine>([
      d1
        .prepare(
          `UPDATE users SET member_key = lower(hex(randomblob(16))) WHERE account_id IN (
             SELECT u.account_id FROM event_log e JOIN users u ON ${MEMBER_OF("e")}
             WHERE e.id BETWEEN ?1 AND ?2 AND u.member_key IS NULL)`,
        )
        .bind(batch.firstId, batch.lastId),
      d1
        .prepare(
          `SELECT e.id, e.program_id AS programId, ${DAY_OF_MS("e.occurred_at")} AS day, ${EVENT_LINE} AS line
           FROM event_log e LEFT JOIN event_log_details d ON d.event_uid = ${uidText("e.event_uid")}
             LEFT JOIN users u ON ${MEMBER_OF("e")}
           WHERE e.id BETWEEN ?1 AND ?2 ORDER BY e.id`,
        )
        .bind(batch.firstId, batch.lastId),
    ]);
    return read!.results;
  }
  const { results } = await d1
    .prepare(
      `SELECT a.rowid AS id, p.id AS programId, substr(a.adjusted_at, 1, 10) AS day, ${ADJUSTMENT_LINE} AS line
       FROM ledger_adjustments a JOIN projects p ON p.key = a.project_key
       WHERE a.rowid BETWEEN ?2 AND ?3 AND a.archive_batch = ?1 ORDER BY a.rowid`,
    )
    .bind(batch.id, batch.firstId, batch.lastId)
    .all<ArchiveLine>();
  return results;
}

/** What a done batch wrote. */
export type BatchSummary = { rows: number; files: number; bytes: number };

/**
 * Marks a batch done (its rows are archived from now on); false when it already was. For events, their details
 * (event_log_details), which only the archive still needed, are deleted in the same transaction.
 */
export async function markBatchDone(d1: D1Database, batch: ArchiveBatch, summary: BatchSummary, now: string): Promise<boolean> {
  const [result] = await d1.batch([
    d1
      .prepare("UPDATE archive_batches SET done_at = ?1, row_count = ?2, files = ?3, bytes = ?4, leased_until = 0 WHERE id = ?5 AND done_at IS NULL")
      .bind(now, summary.rows, summary.files, summary.bytes, batch.id),
    ...(batch.kind === "events"
      ? [
          d1
            .prepare(`DELETE FROM event_log_details WHERE event_uid IN (SELECT ${uidText("event_uid")} FROM event_log WHERE id BETWEEN ?1 AND ?2)`)
            .bind(batch.firstId, batch.lastId),
        ]
      : []),
  ]);
  return result!.meta.changes === 1;
}
