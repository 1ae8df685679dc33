import { chunkBySize } from "../domain/json";
import { LOYALTY_EVENT_TYPES, REWARD_TYPES } from "../domain/definition-vocabulary";
import { LEDGER_ID_SPAN, ledgerTypeOf, type AdjustmentMessage, type LedgerPosition, type LedgerRow, type LedgerSort } from "../domain/ledger";
import { LEDGER_TOTAL_CAP } from "../domain/limits";
import type { LoggedEvent } from "../domain/logged-event";

/**
 * The event log: one row per logged event, written by the queue consumer, read by the ledger across accounts, the
 * archive and the window (schema.ts `eventLog`, README "The raw log's rows and indexes"). A row keeps the ledger's
 * fields only, compactly: the project's numeric id, times as epoch ms, types as codes, a UUID uid as its 16 bytes.
 * The rest of a logged event (balances, the reward's details, the user group…) waits in `event_log_details` for
 * the aggregates of the batch that inserted it and for the archive, which deletes it once archived.
 */

/** Where each field of a logged event is kept in D1 (a new field must be placed here: the record does not compile otherwise). */
const KEPT: Record<keyof LoggedEvent, "log" | "details" | "both" | "not kept"> = {
  ledgerId: "log",
  eventUid: "both",
  // As the project's numeric id (projects.id by the key) in the log, as the key in the details.
  projectKey: "both",
  // projects.id of the projectKey: the message's copy is not needed.
  programId: "not kept",
  // The archive keeps members pseudonymous and the ledger shows accounts: users maps accounts to userIds.
  userId: "not kept",
  accountId: "both",
  eventId: "both",
  definitionVersion: "details",
  eventType: "details",
  // As the ledger's type (a code) in the log, by name in the details.
  loyaltyEventType: "both",
  metadata: "log",
  occurredAt: "both",
  recordedAt: "log",
  points: "details",
  balanceBefore: "details",
  balanceAfter: "details",
  userGroupId: "details",
  conditionReached: "details",
  limitReached: "details",
  reward: "details",
  // Kept by the user's object for its replays (48 hours), never read from D1.
  idempotencyKey: "not kept",
  ruleId: "log",
  rewardType: "log",
  rewardAmount: "log",
  rewardCurrency: "log",
  customerMessage: "log",
};
void KEPT;

/** The stored codes of the ledger's event types and reward types: their position in these lists (never reorder). */
const ledgerTypeCode = (type: string): number => (LOYALTY_EVENT_TYPES as readonly string[]).indexOf(type);
const rewardTypeCode = (type: string): number => (REWARD_TYPES as readonly string[]).indexOf(type);

/**
 * SQL: a uid (text) as event_log.event_uid stores it: a canonical UUID (lowercase 8-4-4-4-12 hex digits, what the
 * users' objects assign) as its 16 bytes, any other uid as its text. A blob never equals a text and only canonical
 * UUIDs become blobs, so the mapping stays one to one. (D1 refuses long GLOB patterns: the shape is checked by parts.)
 */
export const storedUid = (text: string): string =>
  `COALESCE(CASE WHEN length(${text}) = 36 AND substr(${text}, 9, 1) = '-' AND substr(${text}, 14, 1) = '-' AND substr(${text}, 19, 1) = '-'
     AND substr(${text}, 24, 1) = '-' AND length(replace(${text}, '-', '')) = 32 AND ${text} = lower(${text})
     THEN unhex(replace(${text}, '-', '')) END, ${text})`;
/** SQL: event_log.event_uid as the uid's text again. */
export const uidText = (column: string): string => {
  const hex = `lower(hex(${column}))`;
  const part = (from: number, length: number) => `substr(${hex}, ${from}, ${length})`;
  return `(CASE WHEN typeof(${column}) = 'blob' THEN ${part(1, 8)} || '-' || ${part(9, 4)} || '-' || ${part(13, 4)} || '-' || ${part(17, 4)} || '-' || ${part(21, 12)} ELSE ${column} END)`;
};
/** SQL: an ISO instant (text) as epoch milliseconds, exactly (julianday is precise to well below a millisecond). */
export const isoToMs = (text: string): string => `CAST(round((julianday(${text}) - 2440587.5) * 86400000) AS INTEGER)`;
/** SQL: epoch milliseconds as the ISO instant `toISOString` writes. */
export const msToIso = (ms: string): string => `strftime('%Y-%m-%dT%H:%M:%fZ', ${ms} / 1000.0, 'unixepoch')`;

/** A logged event as the consumer's statements read it (one JSON list bound to each). */
function storedEvent(e: LoggedEvent) {
  const ledgerType = ledgerTypeOf(e);
  return {
    eventUid: e.eventUid,
    projectKey: e.projectKey,
    accountId: e.accountId,
    ledgerId: e.ledgerId ?? null,
    eventId: e.eventId,
    ledgerTypeName: ledgerType,
    ledgerType: ledgerTypeCode(ledgerType),
    occurredIso: e.occurredAt,
    occurredAt: Date.parse(e.occurredAt),
    recordedAt: Date.parse(e.recordedAt),
    metadata: Object.keys(e.metadata).length === 0 ? null : JSON.stringify(e.metadata),
    ruleId: e.ruleId,
    rewardType: rewardTypeCode(e.rewardType),
    rewardAmount: e.rewardAmount,
    rewardCurrency: e.rewardCurrency,
    customerMessage: e.customerMessage,
    definitionVersion: e.definitionVersion,
    eventType: e.eventType,
    points: e.points,
    balanceBefore: e.balanceBefore,
    balanceAfter: e.balanceAfter,
    userGroupId: e.userGroupId,
    conditionReached: e.conditionReached,
    limitReached: e.limitReached,
    reward: e.reward,
  };
}

/** Every project the events name has its row (projects are implicit; a message's project has one already, as a rule). */
const ENSURE_PROJECTS = `
INSERT INTO projects (key) SELECT DISTINCT value ->> '$.projectKey' FROM json_each(?1) WHERE true
ON CONFLICT (key) DO NOTHING`;

/**
 * The details of the events not in the log yet, tagged with the batch token (?2): run before the log's insert, in
 * its transaction, so these are exactly the events that insert adds.
 */
const INSERT_DETAILS = `
INSERT INTO event_log_details (event_uid, ingest_batch, project_key, account_id, event_id, ledger_type, occurred_at, definition_version,
  event_type, points, balance_before, balance_after, user_group_id, condition_reached, limit_reached, reward)
SELECT value ->> '$.eventUid', ?2, value ->> '$.projectKey', value ->> '$.accountId', value ->> '$.eventId', value ->> '$.ledgerTypeName',
  value ->> '$.occurredIso', value ->> '$.definitionVersion', value ->> '$.eventType', value ->> '$.points', value ->> '$.balanceBefore',
  value ->> '$.balanceAfter', value ->> '$.userGroupId', value ->> '$.conditionReached', value ->> '$.limitReached', value -> '$.reward'
FROM json_each(?1)
WHERE NOT EXISTS (SELECT 1 FROM event_log WHERE event_uid = ${storedUid("value ->> '$.eventUid'")})
ON CONFLICT (event_uid) DO UPDATE SET ingest_batch = excluded.ingest_batch`;

/**
 * The log's rows. A message from before the users' objects assigned loyalty ids (it has no `ledgerId`) is
 * numbered after every id from before (`ledger_legacy_ids`, which the migration 0012 trigger extends with it),
 * below 2^24, as D1 numbered them.
 */
const INSERT_EVENTS = `
INSERT INTO event_log (event_uid, program_id, account_id, ledger_id, event_id, ledger_type, occurred_at, recorded_at, metadata,
  rule_id, reward_type, reward_amount, reward_currency, customer_message)
SELECT ${storedUid("value ->> '$.eventUid'")}, (SELECT id FROM projects WHERE key = value ->> '$.projectKey'), value ->> '$.accountId',
  COALESCE(value ->> '$.ledgerId', (SELECT COALESCE(MAX(id), 0) FROM ledger_legacy_ids) + ROW_NUMBER() OVER ()),
  value ->> '$.eventId', value ->> '$.ledgerType', value ->> '$.occurredAt', value ->> '$.recordedAt', value ->> '$.metadata',
  value ->> '$.ruleId', value ->> '$.rewardType', value ->> '$.rewardAmount', value ->> '$.rewardCurrency', value ->> '$.customerMessage'
FROM json_each(?1) WHERE true
ON CONFLICT (event_uid) DO NOTHING`;

/**
 * Inserts events (one JSON parameter carries them all; 3 statements, run them in the ingest's batch), keeping the
 * details of the new ones tagged with `batchToken`. Events already in the log (a redelivery) are skipped and get
 * no new tag, so whatever aggregates the details by the token counts exactly the rows this ingest added.
 */
export function insertEvents(d1: D1Database, events: readonly LoggedEvent[], batchToken: string): D1PreparedStatement[] {
  const json = JSON.stringify(events.map(storedEvent));
  return [d1.prepare(ENSURE_PROJECTS).bind(json), d1.prepare(INSERT_DETAILS).bind(json, batchToken), d1.prepare(INSERT_EVENTS).bind(json)];
}

/**
 * Adds the rows an ingest inserted (tagged `batchToken`) to the ledger's per-account, per-type totals, for the
 * accounts with entries from before the ledger moved into the users' objects (ids below 2^24: their ledger may
 * still be read from D1 while their object copies it): those with totals already, and those of a row numbered here
 * (a message queued before). Other accounts' ledgers are their objects': D1 keeps no row per account for them.
 */
export function countLedgerEntries(d1: D1Database, batchToken: string): D1PreparedStatement {
  return d1
    .prepare(
      `INSERT INTO ledger_counts (project_key, account_id, ledger_type, events)
       SELECT d.project_key, d.account_id, d.ledger_type, COUNT(*)
         FROM event_log_details d JOIN event_log e ON e.event_uid = ${storedUid("d.event_uid")}
        WHERE d.ingest_batch = ?1
          AND (e.ledger_id < ${LEDGER_ID_SPAN} OR EXISTS (SELECT 1 FROM ledger_counts c WHERE c.project_key = d.project_key AND c.account_id = d.account_id))
       GROUP BY d.project_key, d.account_id, d.ledger_type
       ON CONFLICT (project_key, account_id, ledger_type) DO UPDATE SET events = events + excluded.events`,
    )
    .bind(batchToken);
}

export type LedgerFilter = {
  /** The project's numeric id (projects.id), the log's key for it; and its key, the aggregates' and totals' key. */
  programId: number;
  projectKey: string;
  accountId?: number;
  ledgerType?: string;
  /** Inclusive bounds on the event time, as ISO strings in the API's format (`...T10:00:00.000Z`). */
  from?: string;
  to?: string;
};

/** The sort's column in the log. */
const SORT_COLUMNS: Record<LedgerSort["field"], { column: string }> = {
  timestamp: { column: "occurred_at" },
  id: { column: "ledger_id" },
  createdAt: { column: "recorded_at" },
};

/**
 * A part of the log a filter reads: a table with its index and the WHERE clause (with its bindings) of its range,
 * in two halves: the index's leading equalities (`head`), then the rest (`tail`). A page's own bounds go between
 * them: of two upper (or lower) bounds on a column SQLite bounds an index range by the first it meets, and the
 * page's is the tighter one (the partial indexes' literal bound, which must stay in the clause for them to apply,
 * comes after it).
 */
type Arm = {
  from: string;
  head: string;
  headParams: unknown[];
  tail: string;
  tailParams: unknown[];
  /** The arm's range of loyalty ids (exclusive bounds), merged with a page's bound on the id into one bound each way. */
  ids?: { above: number; below: number };
};
/** A page's bound on the loyalty id (after a cursor, or its position's value). */
type IdBound = { op: "<" | ">"; id: number };

/** An arm's WHERE clause with a page's condition (`extra`, its bindings) and bound on the id; and its bindings. */
function rangeOf(arm: Arm, extra = "", extraParams: unknown[] = [], id?: IdBound): { where: string; params: unknown[] } {
  let ids = "";
  let idParams: unknown[] = [];
  if (arm.ids) {
    const above = id?.op === ">" ? Math.max(arm.ids.above, id.id) : arm.ids.above;
    const below = id?.op === "<" ? Math.min(arm.ids.below, id.id) : arm.ids.below;
    [ids, idParams] = [" AND ledger_id > ? AND ledger_id < ?", [above, below]];
  } else if (id) [ids, idParams] = [` AND ledger_id ${id.op} ?`, [id.id]];
  return { where: `${arm.head}${extra}${ids}${arm.tail}`, params: [...arm.headParams, ...extraParams, ...idParams, ...arm.tailParams] };
}

/**
 * Where a filter's rows are, each part read from an index in the sort's order (see the indexes in schema.ts). The
 * project's: one range of the index of the sort (a type filter sorted by time has its own index; sorted by
 * createdAt or id it walks the project's index in that order and skips the other types). An account's (read from
 * D1 only while its object copies its entries from before, or when no user of the project has it): its entries
 * from before (ids below 2^24, the partial account indexes), then those its object numbered since (ids
 * accountId × 2^24 + n: a range of the project's id index, which the sort by time or createdAt sorts: at most the
 * account's entries logged since migration 0012 within the window).
 */
function ledgerArms(filter: LedgerFilter, sort: LedgerSort): Arm[] {
  const clauses: string[] = [];
  const params: unknown[] = [];
  const add = (clause: string, value: unknown) => {
    clauses.push(clause);
    params.push(value);
  };
  if (filter.ledgerType !== undefined) add("ledger_type = ?", ledgerTypeCode(filter.ledgerType));
  if (filter.from !== undefined) add("occurred_at >= ?", Date.parse(filter.from));
  if (filter.to !== undefined) add("occurred_at <= ?", Date.parse(filter.to));
  const rest = clauses.map((c) => ` AND ${c}`).join("");
  if (filter.accountId === undefined) {
    const index =
      filter.ledgerType !== undefined && sort.field === "timestamp"
        ? "event_log_program_type_time"
        : { timestamp: "event_log_program_time", createdAt: "event_log_program_created", id: "event_log_program_id" }[sort.field];
    return [{ from: `event_log INDEXED BY ${index}`, head: "program_id = ?", headParams: [filter.programId], tail: rest, tailParams: params }];
  }
  const legacy = { timestamp: "event_log_legacy_account_time", createdAt: "event_log_legacy_account_created", id: "event_log_legacy_account" }[sort.field];
  const first = filter.accountId * LEDGER_ID_SPAN;
  return [
    // The literal bound is what lets the partial indexes answer (a bound parameter would not).
    {
      from: `event_log INDEXED BY ${legacy}`,
      head: "program_id = ? AND account_id = ?",
      headParams: [filter.programId, filter.accountId],
      tail: ` AND ledger_id < ${LEDGER_ID_SPAN}${rest}`,
      tailParams: params,
    },
    {
      from: "event_log INDEXED BY event_log_program_id",
      head: "program_id = ?",
      headParams: [filter.programId],
      tail: ` AND account_id = ?${rest}`,
      tailParams: [filter.accountId, ...params],
      ids: { above: first, below: first + LEDGER_ID_SPAN },
    },
  ];
}

/** `id` is the loyalty id (`ledger_id`), not the log's own sequence; times are epoch ms (toLedgerRow makes them ISO). */
const LEDGER_COLUMNS = `ledger_id AS id, account_id AS accountId, program_id AS programId, event_id AS eventId, ledger_type AS ledgerType,
  metadata, occurred_at AS occurredAt, recorded_at AS recordedAt, rule_id AS ruleId, reward_type AS rewardType,
  reward_amount AS rewardAmount, reward_currency AS rewardCurrency, customer_message AS customerMessage,
  adjusted_reward_amount AS adjustedRewardAmount, previous_reward_amount AS previousRewardAmount, updated_at AS updatedAt`;

type StoredLedgerRow = Omit<LedgerRow, "metadata" | "occurredAt" | "recordedAt" | "updatedAt" | "ledgerType" | "rewardType"> & {
  metadata: string | null;
  occurredAt: number;
  recordedAt: number;
  updatedAt: number | null;
  ledgerType: number;
  rewardType: number;
};
const iso = (ms: number) => new Date(ms).toISOString();
const toLedgerRow = (row: StoredLedgerRow): LedgerRow => ({
  ...row,
  ledgerType: LOYALTY_EVENT_TYPES[row.ledgerType] ?? "CUSTOMER_CARD_DISPLAYED",
  rewardType: REWARD_TYPES[row.rewardType] ?? "LOYALTY_POINTS",
  metadata: row.metadata === null ? {} : (JSON.parse(row.metadata) as Record<string, unknown>),
  occurredAt: iso(row.occurredAt),
  recordedAt: iso(row.recordedAt),
  updatedAt: row.updatedAt === null ? null : iso(row.updatedAt),
});

/** Where a page starts: `offset` items in (bounded by MAX_LEDGER_OFFSET), or right after a position (a cursor). */
export type LedgerPageStart = { offset: number } | { after: LedgerPosition };

/**
 * A page of the ledger, in `sort` order with the loyalty id breaking ties in the same direction: index ranges in that
 * order (ledgerArms). After a position (keyset paging) two ranges are read, the rest of the position's sort value
 * (by id) and what lies beyond it, `limit` entries in all: the page costs what a first page costs, O(limit + log
 * n), however deep it is. By offset, the walk costs the offset too (it is bounded). An account's two parts are
 * read each as far as the page needs and merged.
 */
export async function readLedgerPage(d1: D1Database, filter: LedgerFilter, sort: LedgerSort, limit: number, start: LedgerPageStart): Promise<LedgerRow[]> {
  const { column } = SORT_COLUMNS[sort.field];
  const dir = sort.direction;
  const order = `${column} ${dir}${sort.field === "id" ? "" : `, ledger_id ${dir}`}`;
  const arms = ledgerArms(filter, sort);
  // Each arm's page: its rows in the sort's order from the page's start, `limit` of them past `skip`.
  const skip = "offset" in start ? start.offset : 0;
  const select = (range: { where: string }) => `SELECT ${LEDGER_COLUMNS} FROM ${range.where} ORDER BY ${order}`;
  const on = (arm: Arm, extra?: string, extraParams?: unknown[], id?: IdBound) => {
    const range = rangeOf(arm, extra, extraParams, id);
    return { where: `${arm.from} WHERE ${range.where}`, params: range.params };
  };
  const armPage = (arm: Arm, i: number, take: number, offset: number): { sql: string; params: unknown[] } => {
    if ("offset" in start) {
      const range = on(arm);
      return { sql: `${select(range)} LIMIT ? OFFSET ?`, params: [...range.params, take, offset] };
    }
    if (sort.field === "id") {
      const range = on(arm, "", [], { op: dir === "desc" ? "<" : ">", id: start.after.id });
      return { sql: `${select(range)} LIMIT ?`, params: [...range.params, take] };
    }
    // Row values over (column, id) would read every entry sharing the position's value: two ranges instead, the
    // rest of that value (by id), then the values beyond it. SQLite runs a UNION ALL's parts in order and stops
    // at the LIMIT, so the second range reads only what the first left room for.
    const beyond = dir === "desc" ? "<" : ">";
    // Past the position, the time bound on the same side is implied: left out, so the range starts at the position.
    const value = start.after.value as string;
    const timed = sort.field === "timestamp";
    const rest = ledgerArms(
      {
        ...filter,
        ...(timed && dir === "asc" && filter.from !== undefined && value >= filter.from ? { from: undefined } : {}),
        ...(timed && dir === "desc" && filter.to !== undefined && value <= filter.to ? { to: undefined } : {}),
      },
      sort,
    )[i]!;
    const ms = Date.parse(value);
    const same = on(arm, ` AND ${column} = ?`, [ms], { op: beyond, id: start.after.id });
    const past = on(rest, ` AND ${column} ${beyond} ?`, [ms]);
    return {
      sql: `SELECT * FROM (${select(same)} LIMIT ?)
            UNION ALL
            SELECT * FROM (${select(past)} LIMIT ?)
            LIMIT ?`,
      params: [...same.params, take, ...past.params, take, take],
    };
  };
  if (arms.length === 1) {
    const page = armPage(arms[0]!, 0, limit, skip);
    const { results } = await d1
      .prepare(page.sql)
      .bind(...page.params)
      .all<StoredLedgerRow>();
    return results.map(toLedgerRow);
  }
  // An account's two parts: each read up to skip + limit rows in order (one D1 batch), merged here, so D1 reads
  // no more than the parts' ranges (a merge in SQL would also read its sorter's rows).
  const pages = arms.map((arm, i) => armPage(arm, i, skip + limit, 0));
  const read = await d1.batch<StoredLedgerRow>(pages.map((page) => d1.prepare(page.sql).bind(...page.params)));
  const key = (row: StoredLedgerRow) => (sort.field === "id" ? row.id : sort.field === "timestamp" ? row.occurredAt : row.recordedAt);
  const sign = dir === "desc" ? -1 : 1;
  return read
    .flatMap((result) => result.results)
    .sort((a, b) => sign * (key(a) - key(b) || a.id - b.id))
    .slice(skip, skip + limit)
    .map(toLedgerRow);
}

/** The position of a row in `sort` order, for the cursor continuing after it. */
export const ledgerPosition = (row: LedgerRow, sort: LedgerSort): LedgerPosition => ({
  value: sort.field === "id" ? row.id : sort.field === "timestamp" ? row.occurredAt : row.recordedAt,
  id: row.id,
});

/** A total and whether it is exact; when not, it is a lower bound (the entries counted before the cap stopped the count). */
export type LedgerTotal = { total: number; exact: boolean };

/**
 * How many entries match, at a bounded cost whatever the filter:
 * - an account (and type) without a time range: the consumer-kept totals per account and type (at most 3 rows),
 *   for the accounts that have them (see countLedgerEntries); else as below;
 * - the whole project (no account, no type): the stats aggregates, whole months, days and hours (a row each),
 *   and the log only for the partial hours at the ends of a time range;
 * - anything else: the log's index ranges, counted up to LEDGER_TOTAL_CAP entries.
 * Counts from the log stop past the cap: the total is then a lower bound, not exact.
 */
export async function countLedger(d1: D1Database, filter: LedgerFilter): Promise<LedgerTotal> {
  const timeRange = filter.from !== undefined || filter.to !== undefined;
  if (!timeRange && filter.accountId !== undefined) {
    const row = await d1
      .prepare(
        `SELECT COUNT(*) AS kept, COALESCE(SUM(CASE WHEN ?3 IS NULL OR ledger_type = ?3 THEN events END), 0) AS n
         FROM ledger_counts WHERE project_key = ?1 AND account_id = ?2`,
      )
      .bind(filter.projectKey, filter.accountId, filter.ledgerType ?? null)
      .first<{ kept: number; n: number }>();
    if (row && row.kept > 0) return { total: row.n, exact: true };
  }
  if (filter.accountId === undefined && filter.ledgerType === undefined) return countProjectRange(d1, filter);
  // By time: the type's own index across accounts.
  const arms = ledgerArms(filter, { field: "timestamp", direction: "asc" });
  const ranges = arms.map((arm) => ({ from: arm.from, ...rangeOf(arm) }));
  return cappedCount(
    d1,
    ranges.map((range) => `SELECT 1 FROM ${range.from} WHERE ${range.where}`).join(" UNION ALL "),
    ranges.flatMap((range) => range.params),
  );
}

/** COUNT(*) of a query's rows, reading at most LEDGER_TOTAL_CAP + 1 of them. */
async function cappedCount(d1: D1Database, rows: string, params: unknown[]): Promise<LedgerTotal> {
  const row = await d1
    .prepare(`SELECT COUNT(*) AS n FROM (${rows} LIMIT ?)`)
    .bind(...params, LEDGER_TOTAL_CAP + 1)
    .first<{ n: number }>();
  const n = row?.n ?? 0;
  return n > LEDGER_TOTAL_CAP ? { total: LEDGER_TOTAL_CAP, exact: false } : { total: n, exact: true };
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** Bucket names bounding a range of buckets; an open end is below ("") or above ("~") every bucket. */
const bucketOf = (ms: number, length: number) => (ms === -Infinity ? "" : ms === Infinity ? "~" : iso(ms).slice(0, length));
const floorTo = (ms: number, unit: number) => (Number.isFinite(ms) ? Math.floor(ms / unit) * unit : ms);
const ceilTo = (ms: number, unit: number) => (Number.isFinite(ms) ? Math.ceil(ms / unit) * unit : ms);
const monthStart = (ms: number, next: boolean) => {
  if (!Number.isFinite(ms)) return ms;
  const d = new Date(ms);
  const start = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  return next && start < ms ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) : start;
};

/** The log's entries of a project with `low <= occurred_at < high` (epoch ms), counted up to the cap. */
const LOG_RANGE = "SELECT 1 FROM event_log INDEXED BY event_log_program_time WHERE program_id = ? AND occurred_at >= ? AND occurred_at < ?";

/**
 * Entries of a project with `from <= occurred_at <= to` (either end open): whole months, days and hours from the
 * stats aggregates (the consumer writes them with the log rows, project-wide under event '*'), the partial
 * hours at both ends from the log (counted up to the cap). At most a row per month plus 2 x 30 days and
 * 2 x 23 hours of aggregates, whatever the number of events.
 */
async function countProjectRange(d1: D1Database, filter: LedgerFilter): Promise<LedgerTotal> {
  const { projectKey, programId, from, to } = filter;
  const low = from === undefined ? -Infinity : Date.parse(from);
  const high = to === undefined ? Infinity : Date.parse(to) + 1; // exclusive
  const hourLow = ceilTo(low, HOUR_MS);
  const hourHigh = floorTo(high, HOUR_MS);
  if (hourLow >= hourHigh) return cappedCount(d1, LOG_RANGE, [programId, low, high]);
  // [low, hourLow) and [hourHigh, high) from the log; the whole hours between from the aggregates.
  const ranges: Array<{ table: string; length: number; from: number; to: number }> = [];
  const hours = (from: number, to: number) => ranges.push({ table: "stats_hourly", length: 13, from, to });
  const days = (from: number, to: number) => ranges.push({ table: "stats_daily", length: 10, from, to });
  const dayLow = ceilTo(hourLow, DAY_MS);
  const dayHigh = floorTo(hourHigh, DAY_MS);
  if (dayLow >= dayHigh) hours(hourLow, hourHigh);
  else {
    hours(hourLow, dayLow);
    hours(dayHigh, hourHigh);
    const monthLow = monthStart(dayLow, true);
    const monthHigh = monthStart(dayHigh, false);
    if (monthLow >= monthHigh) days(dayLow, dayHigh);
    else {
      days(dayLow, monthLow);
      days(monthHigh, dayHigh);
      ranges.push({ table: "stats_monthly", length: 7, from: monthLow, to: monthHigh });
    }
  }
  const aggregated: Array<{ sql: string; params: unknown[] }> = ranges
    .filter((r) => r.from < r.to)
    .map((r) => ({
      sql: `SELECT COALESCE(SUM(count), 0) FROM ${r.table} WHERE project_key = ? AND event_id = '*' AND bucket >= ? AND bucket < ?`,
      params: [projectKey, bucketOf(r.from, r.length), bucketOf(r.to, r.length)],
    }));
  const edges = [
    [low, hourLow],
    [hourHigh, high],
  ].filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b) && a! < b!);
  const edgeCounts: Array<{ sql: string; params: unknown[] }> = edges.map(([a, b]) => ({
    sql: `SELECT COUNT(*) FROM (${LOG_RANGE} LIMIT ${LEDGER_TOTAL_CAP + 1})`,
    params: [programId, a!, b!],
  }));
  const parts = [...aggregated, ...edgeCounts];
  const row = await d1
    .prepare(`SELECT ${parts.map((p, i) => `(${p.sql}) AS n${i}`).join(", ")}`)
    .bind(...parts.flatMap((p) => p.params))
    .first<Record<string, number>>();
  const values = parts.map((_, i) => row?.[`n${i}`] ?? 0);
  const counted = values.slice(aggregated.length);
  // An edge past the cap counts as the cap: the total is then a lower bound.
  const total = values.slice(0, aggregated.length).reduce((sum, n) => sum + n, 0) + counted.reduce((sum, n) => sum + Math.min(n, LEDGER_TOTAL_CAP), 0);
  return { total, exact: counted.every((n) => n <= LEDGER_TOTAL_CAP) };
}

/** The project's numeric id by its key, in SQL (a primary-key lookup, evaluated once per statement). */
const PROGRAM_OF = "(SELECT id FROM projects WHERE key = ?)";

/** One entry of the project's ledger by its loyalty id; null when another project's or not in the log (yet, or any more). */
export async function findLedgerEntry(d1: D1Database, projectKey: string, id: number): Promise<(LedgerRow & { eventUid: string; userId: string }) | null> {
  const row = await d1
    .prepare(
      `SELECT ${LEDGER_COLUMNS}, ${uidText("event_uid")} AS eventUid, (SELECT user_id FROM users u WHERE u.account_id = e.account_id) AS userId
       FROM event_log e INDEXED BY event_log_program_id WHERE program_id = ${PROGRAM_OF} AND ledger_id = ?`,
    )
    .bind(projectKey, id)
    .first<StoredLedgerRow & { eventUid: string; userId: string | null }>();
  return row ? { ...toLedgerRow(row), eventUid: row.eventUid, userId: row.userId ?? "" } : null;
}

/** An entry as a user's object copies it from here: the ledger's fields, the event's uid and its newest adjustment's sequence. */
export type CopiedLedgerRow = LedgerRow & { eventUid: string; adjustmentSeq: number };

/**
 * An account's entries from before the users' objects kept the ledger (loyalty ids below LEDGER_ID_SPAN), after
 * `afterId` in id order, at most `limit`: what the account's object copies into its own ledger. One range of
 * the event_log_legacy_account index (partial: those entries only).
 */
export async function legacyLedgerRows(d1: D1Database, projectKey: string, accountId: number, afterId: number, limit: number): Promise<CopiedLedgerRow[]> {
  const { results } = await d1
    .prepare(
      `SELECT ${LEDGER_COLUMNS}, ${uidText("event_uid")} AS eventUid, adjustment_seq AS adjustmentSeq FROM event_log INDEXED BY event_log_legacy_account
       WHERE program_id = ${PROGRAM_OF} AND account_id = ? AND ledger_id > ? AND ledger_id < ${LEDGER_ID_SPAN} ORDER BY ledger_id LIMIT ?`,
    )
    .bind(projectKey, accountId, afterId, limit)
    .all<StoredLedgerRow & { eventUid: string; adjustmentSeq: number }>();
  return results.map((row) => ({ ...toLedgerRow(row), eventUid: row.eventUid, adjustmentSeq: row.adjustmentSeq }));
}

/** The account of a loyalty id from before the objects kept the ledger (below LEDGER_ID_SPAN); null when none has it. */
export async function legacyLedgerAccount(d1: D1Database, id: number): Promise<number | null> {
  const row = await d1.prepare("SELECT account_id AS accountId FROM ledger_legacy_ids WHERE id = ?").bind(id).first<{ accountId: number }>();
  return row?.accountId ?? null;
}

/**
 * Applies adjustments (idempotent on their uid): records them tagged `batchToken`, then sets each event's
 * current amount from its newest adjustment (by the user's sequence number, so a late or redelivered older
 * one changes nothing). The stats move by the recorded deltas (src/db/stats.ts, `moveAdjustedPoints`).
 */
export function recordAdjustments(d1: D1Database, adjustments: readonly AdjustmentMessage[], batchToken: string): D1PreparedStatement[] {
  if (adjustments.length === 0) return [];
  return [
    d1
      .prepare(
        `INSERT INTO ledger_adjustments (adjustment_uid, project_key, event_uid, seq, previous_amount, new_amount, points_delta, reason, adjusted_at, ingest_batch)
         SELECT value ->> '$.adjustmentUid', value ->> '$.projectKey', value ->> '$.eventUid', value ->> '$.seq',
                value ->> '$.previousAmount', value ->> '$.newAmount', value ->> '$.pointsDelta', value ->> '$.reason',
                value ->> '$.adjustedAt', ?2
         FROM json_each(?1) WHERE true
         ON CONFLICT (adjustment_uid) DO NOTHING`,
      )
      .bind(JSON.stringify(adjustments), batchToken),
    d1
      .prepare(
        `UPDATE event_log SET adjusted_reward_amount = a.new_amount, previous_reward_amount = a.previous_amount,
           updated_at = ${isoToMs("a.adjusted_at")}, adjustment_seq = a.seq
         FROM (
           SELECT ${storedUid("event_uid")} AS uid, new_amount, previous_amount, adjusted_at, seq,
                  ROW_NUMBER() OVER (PARTITION BY event_uid ORDER BY seq DESC) AS newest
           FROM ledger_adjustments WHERE ingest_batch = ?1
         ) AS a
         WHERE a.newest = 1 AND event_log.event_uid = a.uid AND event_log.adjustment_seq < a.seq`,
      )
      .bind(batchToken),
  ];
}

/** D1 caps a bound value at 2 MB: each statement's JSON list of uids stays well below it. */
const MAX_UID_LIST_BYTES = 900_000;

/** The uids of a JSON list that D1 has neither as a logged event, an adjustment nor a points change (one index lookup each). */
const MISSING_UIDS = `
SELECT j.value AS uid FROM json_each(?1) AS j
WHERE NOT EXISTS (SELECT 1 FROM event_log WHERE event_uid = ${storedUid("j.value")})
  AND NOT EXISTS (SELECT 1 FROM ledger_adjustments WHERE adjustment_uid = j.value)
  AND NOT EXISTS (SELECT 1 FROM points_changes WHERE change_uid = j.value)`;

/**
 * Reconciliation: of `uids` (messages users' objects acknowledged: logged events and adjustments), those that
 * never reached D1. One statement per ~900 KB of uids, all in one batch (one round trip); each uid costs one
 * index lookup in event_log (an adjustment's a second in ledger_adjustments), whatever the log's size.
 * Returns the missing uids and the rows D1 read.
 */
export async function missingMessageUids(d1: D1Database, uids: readonly string[]): Promise<{ missing: string[]; rowsRead: number }> {
  if (uids.length === 0) return { missing: [], rowsRead: 0 };
  // Uids are ASCII (UUIDs): a character is a byte; 3 more for the quotes and the comma.
  const chunks = chunkBySize(uids, (uid) => uid.length + 3, MAX_UID_LIST_BYTES);
  const results = await d1.batch<{ uid: string }>(chunks.map((chunk) => d1.prepare(MISSING_UIDS).bind(JSON.stringify(chunk))));
  return {
    missing: results.flatMap((result) => result.results.map((row) => row.uid)),
    rowsRead: results.reduce((sum, result) => sum + (result.meta.rows_read ?? 0), 0),
  };
}
