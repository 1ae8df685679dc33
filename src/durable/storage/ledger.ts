import type { CopiedLedgerRow } from "../../db/event-log";
import { LEDGER_TOTAL_CAP } from "../../domain/limits";
import { LEDGER_ID_SPAN, ledgerIdOf, ledgerTypeOf, type AdjustmentMessage, type LedgerRow, type LedgerSort, type LoyaltyEventType } from "../../domain/ledger";
import type { LoggedEvent } from "../../domain/logged-event";

/**
 * The user's ledger: every event logged for the user (challenge bonuses included) with its reward as adjusted
 * since, the loyalty-events listing of one account (GET /v1/loyalty-events?accountid=…, GET …/{id}). Written in
 * the transaction of the log or adjustment that makes the change, beside the outbox row that carries it to the
 * queue: the outbox is the ledger's unsent tail. Kept for as long as the user's object lives (no retention cap).
 *
 * One row per entry, keyed by its loyalty id (src/domain/ledger.ts: accountId × 2^24 + n for entries logged
 * here; D1's id for entries copied from before), times as epoch ms, the event type as a small code, and an index
 * per filter and sort (the id, the last key of every index, breaks ties), so a page is an index range:
 * O(page + log n) at any depth by cursor. Triggers keep the entries per type (`ledger_counts`) and per type and
 * UTC day (`ledger_days`), so a total reads at most 3 rows without a time range, and with one a row per day
 * plus the entries of the two days at its ends.
 *
 * Objects that held users before the ledger existed copy their user's older entries from D1's event_log on
 * first use (`ledger_fill`; see UserState.fillLedger), then never read D1 for the ledger again.
 */

/** The stored codes of the ledger's event types (their position here): never reorder. */
const TYPES: readonly LoyaltyEventType[] = ["CUSTOMER_CARD_DISPLAYED", "TRANSACTION_ASSESSMENT", "CARD_ASSIGNMENT"];
const typeCode = (type: LoyaltyEventType): number => TYPES.indexOf(type);

const COLUMNS = `id, event_uid, event_id, type, occurred_at, recorded_at, metadata, rule_id, reward_type, reward_amount,
  reward_currency, customer_message, adjusted_amount, previous_amount, updated_at`;

type StoredRow = {
  id: number;
  event_uid: string;
  event_id: string;
  type: number;
  occurred_at: number;
  recorded_at: number;
  metadata: string;
  rule_id: number | null;
  reward_type: string;
  reward_amount: number;
  reward_currency: string | null;
  customer_message: string | null;
  adjusted_amount: number | null;
  previous_amount: number | null;
  updated_at: number | null;
};

/** Whose ledger it is: the user's account and program (the object's profile). */
export type LedgerOwner = { accountId: number; programId: number };

const iso = (ms: number) => new Date(ms).toISOString();
const DAY_MS = 86_400_000;

const toLedgerRow = (row: StoredRow, owner: LedgerOwner): LedgerRow & { eventUid: string } => ({
  id: row.id,
  eventUid: row.event_uid,
  accountId: owner.accountId,
  programId: owner.programId,
  eventId: row.event_id,
  ledgerType: TYPES[row.type] ?? "CUSTOMER_CARD_DISPLAYED",
  metadata: JSON.parse(row.metadata) as Record<string, unknown>,
  occurredAt: iso(row.occurred_at),
  recordedAt: iso(row.recorded_at),
  ruleId: row.rule_id,
  rewardType: row.reward_type,
  rewardAmount: row.reward_amount,
  rewardCurrency: row.reward_currency,
  customerMessage: row.customer_message,
  adjustedRewardAmount: row.adjusted_amount,
  previousRewardAmount: row.previous_amount,
  updatedAt: row.updated_at === null ? null : iso(row.updated_at),
});

/**
 * Appends a logged event to the ledger, in the caller's transaction, numbered after the user's newest entry
 * (one statement: the max of the account's id range is an index seek). Returns the event with its loyalty id,
 * or null when the user's ledger can hold no more (2^24 - 1 entries, or an account id past 2^29).
 */
export function appendToLedger(sql: SqlStorage, event: LoggedEvent): LoggedEvent | null {
  const base = event.accountId * LEDGER_ID_SPAN;
  if (ledgerIdOf(event.accountId, LEDGER_ID_SPAN - 1) === null) return null;
  const row = sql
    .exec<{ id: number }>(
      `INSERT INTO ledger (id, event_uid, event_id, type, occurred_at, recorded_at, metadata, rule_id, reward_type,
         reward_amount, reward_currency, customer_message)
       SELECT next, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13
       FROM (SELECT COALESCE(MAX(id), ?1) + 1 AS next FROM ledger WHERE id > ?1 AND id < ?2) WHERE next < ?2
       RETURNING id`,
      base,
      base + LEDGER_ID_SPAN,
      event.eventUid,
      event.eventId,
      typeCode(ledgerTypeOf(event)),
      Date.parse(event.occurredAt),
      Date.parse(event.recordedAt),
      JSON.stringify(event.metadata),
      event.ruleId,
      event.rewardType,
      event.rewardAmount,
      event.rewardCurrency,
      event.customerMessage,
    )
    .toArray()[0];
  return row ? { ...event, ledgerId: row.id } : null;
}

/** The loyalty id of a logged event, by its uid; null when this ledger does not hold it (yet). */
export function ledgerIdOfEvent(sql: SqlStorage, eventUid: string): number | null {
  return sql.exec<{ id: number }>("SELECT id FROM ledger WHERE event_uid = ?", eventUid).toArray()[0]?.id ?? null;
}

/** Applies an adjustment to its entry, in the caller's transaction: the newest (by the user's sequence) wins. */
export function adjustLedgerEntry(sql: SqlStorage, adjustment: AdjustmentMessage): void {
  sql.exec(
    `UPDATE ledger SET adjusted_amount = ?1, previous_amount = ?2, updated_at = ?3, adjustment_seq = ?4
     WHERE event_uid = ?5 AND adjustment_seq < ?4`,
    adjustment.newAmount,
    adjustment.previousAmount,
    Date.parse(adjustment.adjustedAt),
    adjustment.seq,
    adjustment.eventUid,
  );
}

/** One entry by its loyalty id, with its event's uid; null when this ledger has none. */
export function ledgerEntry(sql: SqlStorage, owner: LedgerOwner, id: number): (LedgerRow & { eventUid: string }) | null {
  const row = sql.exec<StoredRow>(`SELECT ${COLUMNS} FROM ledger WHERE id = ?`, id).toArray()[0];
  return row ? toLedgerRow(row, owner) : null;
}

/** A ledger query in the object's terms: times as epoch ms (both bounds inclusive); a cursor's value too (or the id). */
export type LedgerReadQuery = {
  type?: LoyaltyEventType;
  from?: number;
  to?: number;
  sort: LedgerSort;
  limit: number;
  start: { offset: number } | { after: { value: number; id: number } };
};

/** Rows of a page, the filter's total (exact, or a lower bound past LEDGER_TOTAL_CAP), and the SQLite rows read. */
export type LedgerRead = { rows: Array<LedgerRow & { eventUid: string }>; total: number; exact: boolean; rowsRead: number };

/**
 * A time range sorted by createdAt or id reads the time index (sorting the range) when it holds at most this
 * many entries, else the sort's own index, passing over the entries outside the range.
 */
export const NARROW_RANGE = 1_000;

const SORT_COLUMNS: Record<LedgerSort["field"], string> = { timestamp: "occurred_at", createdAt: "recorded_at", id: "id" };

type Filter = Pick<LedgerReadQuery, "type" | "from" | "to">;

function whereOf(filter: Filter): { where: string; params: unknown[] } {
  const clauses: string[] = [];
  const params: unknown[] = [];
  if (filter.type !== undefined) {
    clauses.push("type = ?");
    params.push(typeCode(filter.type));
  }
  if (filter.from !== undefined) {
    clauses.push("occurred_at >= ?");
    params.push(filter.from);
  }
  if (filter.to !== undefined) {
    clauses.push("occurred_at <= ?");
    params.push(filter.to);
  }
  return { where: clauses.length === 0 ? "true" : clauses.join(" AND "), params };
}

/**
 * The index a page reads, named so the planner cannot choose one that sorts the whole ledger: the filter's and
 * sort's own; a time range sorted otherwise than by timestamp takes the time index when the range is narrow.
 * By id without a type, the table itself (its key is the id).
 */
function indexOf(filter: Filter, sort: LedgerSort, narrow: boolean): string {
  const typed = filter.type !== undefined;
  if (sort.field === "timestamp" || narrow) return `INDEXED BY ${typed ? "ledger_type_time" : "ledger_time"}`;
  if (sort.field === "createdAt") return `INDEXED BY ${typed ? "ledger_type_created" : "ledger_created"}`;
  return typed ? "INDEXED BY ledger_type" : "NOT INDEXED";
}

/**
 * A page of the ledger in `sort` order (the id breaking ties the same way) and the total of its filter.
 * Without a time range the total is the kept count per type; with one, the kept counts of the whole UTC days in
 * it and the entries of the partial days at its ends, counted on the time index up to LEDGER_TOTAL_CAP each (past
 * that, a lower bound: `exact` false). After a cursor, two ranges are read (the rest of the position's sort value,
 * then beyond it), `limit` entries in all: the cost of a first page at any depth. By offset the walk costs the
 * offset too (bounded by MAX_LEDGER_OFFSET).
 */
export function readLedgerPage(sql: SqlStorage, owner: LedgerOwner, query: LedgerReadQuery): LedgerRead {
  let rowsRead = 0;
  const run = <T extends Record<string, SqlStorageValue> = StoredRow>(statement: string, ...bindings: unknown[]): T[] => {
    const cursor = sql.exec<T>(statement, ...bindings);
    const rows = cursor.toArray();
    rowsRead += cursor.rowsRead;
    return rows;
  };
  const timed = query.from !== undefined || query.to !== undefined;
  const { where, params } = whereOf(query);
  const typed = query.type === undefined ? { clause: "", bind: [] as unknown[] } : { clause: " AND type = ?", bind: [typeCode(query.type)] };
  /** Entries with from <= occurred_at < to (ms), counted on the time index up to the cap. */
  const counted = (from: number, to: number) =>
    run<{ n: number }>(
      `SELECT COUNT(*) AS n FROM (SELECT 1 FROM ledger INDEXED BY ${query.type === undefined ? "ledger_time" : "ledger_type_time"}
       WHERE occurred_at >= ? AND occurred_at < ?${typed.clause} LIMIT ?)`,
      from,
      to,
      ...typed.bind,
      LEDGER_TOTAL_CAP + 1,
    )[0]!.n;
  let total: number;
  let exact = true;
  if (!timed) {
    total = run<{ n: number }>(`SELECT COALESCE(SUM(entries), 0) AS n FROM ledger_counts WHERE true${typed.clause}`, ...typed.bind)[0]!.n;
  } else {
    // Whole UTC days from the day counts; the parts of days at the ends from the index.
    const low = query.from ?? -Infinity;
    const high = query.to === undefined ? Infinity : query.to + 1;
    const firstDay = Number.isFinite(low) ? Math.ceil(low / DAY_MS) : -Infinity;
    const endDay = Number.isFinite(high) ? Math.floor(high / DAY_MS) : Infinity;
    let n: number;
    let edges: number[];
    if (firstDay >= endDay) {
      edges = [counted(low, high)];
      n = edges[0]!;
    } else {
      const days = run<{ n: number }>(
        `SELECT COALESCE(SUM(entries), 0) AS n FROM ledger_days WHERE day >= ? AND day < ?${typed.clause}`,
        Number.isFinite(firstDay) ? firstDay : -1,
        Number.isFinite(endDay) ? endDay : Number.MAX_SAFE_INTEGER,
        ...typed.bind,
      )[0]!.n;
      edges = [
        Number.isFinite(low) && low < firstDay * DAY_MS ? counted(low, firstDay * DAY_MS) : 0,
        Number.isFinite(high) && endDay * DAY_MS < high ? counted(endDay * DAY_MS, high) : 0,
      ];
      n = days + edges.reduce((sum, e) => sum + Math.min(e, LEDGER_TOTAL_CAP), 0);
    }
    exact = edges.every((e) => e <= LEDGER_TOTAL_CAP);
    total = n;
  }
  const narrow = timed && query.sort.field !== "timestamp" && exact && total <= NARROW_RANGE;
  const hint = indexOf(query, query.sort, narrow);
  const column = SORT_COLUMNS[query.sort.field];
  const dir = query.sort.direction;
  const order = `${column} ${dir}${query.sort.field === "id" ? "" : `, id ${dir}`}`;
  let rows: StoredRow[];
  if ("offset" in query.start) {
    rows = run(`SELECT ${COLUMNS} FROM ledger ${hint} WHERE ${where} ORDER BY ${order} LIMIT ? OFFSET ?`, ...params, query.limit, query.start.offset);
  } else {
    const beyond = dir === "desc" ? "<" : ">";
    const { value, id } = query.start.after;
    if (query.sort.field === "id") {
      rows = run(`SELECT ${COLUMNS} FROM ledger ${hint} WHERE ${where} AND id ${beyond} ? ORDER BY ${order} LIMIT ?`, ...params, id, query.limit);
    } else {
      // The rest of the position's value (by id), then the values beyond it; SQLite runs a UNION ALL's parts in
      // order and stops at the LIMIT. Past the position, the time bound on its side is implied: left out.
      const timestamp = query.sort.field === "timestamp";
      const rest = whereOf({
        ...query,
        ...(timestamp && dir === "asc" && query.from !== undefined && value >= query.from ? { from: undefined } : {}),
        ...(timestamp && dir === "desc" && query.to !== undefined && value <= query.to ? { to: undefined } : {}),
      });
      rows = run(
        `SELECT * FROM (SELECT ${COLUMNS} FROM ledger ${hint} WHERE ${where} AND ${column} = ? AND id ${beyond} ? ORDER BY id ${dir} LIMIT ?)
         UNION ALL
         SELECT * FROM (SELECT ${COLUMNS} FROM ledger ${hint} WHERE ${rest.where} AND ${column} ${beyond} ? ORDER BY ${order} LIMIT ?)
         LIMIT ?`,
        ...params,
        value,
        id,
        query.limit,
        ...rest.params,
        value,
        query.limit,
        query.limit,
      );
    }
  }
  return { rows: rows.map((row) => toLedgerRow(row, owner)), total, exact, rowsRead };
}

/**
 * Copying an account's older entries from D1 (objects that held users before the ledger existed): where the
 * copy stands (the highest D1 id copied) and whether the ledger is complete. A new object starts complete.
 */
export type LedgerFill = { afterId: number; done: boolean };

export function ledgerFill(sql: SqlStorage): LedgerFill {
  const row = sql.exec<{ after_id: number; done: number }>("SELECT after_id, done FROM ledger_fill WHERE id = 1").one();
  return { afterId: row.after_id, done: row.done === 1 };
}

/** Copies a page of D1 rows (INSERT OR IGNORE: a page read twice changes nothing) and moves the copy past them. */
export function copyLedgerRows(sql: SqlStorage, rows: readonly CopiedLedgerRow[]): void {
  if (rows.length === 0) return;
  const stored = rows.map((row) => ({
    id: row.id,
    uid: row.eventUid,
    eventId: row.eventId,
    type: typeCode((TYPES as readonly string[]).includes(row.ledgerType) ? (row.ledgerType as LoyaltyEventType) : "CUSTOMER_CARD_DISPLAYED"),
    occurredAt: Date.parse(row.occurredAt),
    recordedAt: Date.parse(row.recordedAt),
    metadata: JSON.stringify(row.metadata),
    ruleId: row.ruleId,
    rewardType: row.rewardType,
    rewardAmount: row.rewardAmount,
    rewardCurrency: row.rewardCurrency,
    customerMessage: row.customerMessage,
    adjusted: row.adjustedRewardAmount,
    previous: row.previousRewardAmount,
    updatedAt: row.updatedAt === null ? null : Date.parse(row.updatedAt),
    seq: row.adjustmentSeq,
  }));
  sql.exec(
    `INSERT OR IGNORE INTO ledger (id, event_uid, event_id, type, occurred_at, recorded_at, metadata, rule_id, reward_type,
       reward_amount, reward_currency, customer_message, adjusted_amount, previous_amount, updated_at, adjustment_seq)
     SELECT value ->> '$.id', value ->> '$.uid', value ->> '$.eventId', value ->> '$.type', value ->> '$.occurredAt',
       value ->> '$.recordedAt', value ->> '$.metadata', value ->> '$.ruleId', value ->> '$.rewardType',
       value ->> '$.rewardAmount', value ->> '$.rewardCurrency', value ->> '$.customerMessage', value ->> '$.adjusted',
       value ->> '$.previous', value ->> '$.updatedAt', value ->> '$.seq'
     FROM json_each(?)`,
    JSON.stringify(stored),
  );
  sql.exec("UPDATE ledger_fill SET after_id = max(after_id, ?) WHERE id = 1", rows.at(-1)!.id);
}

/**
 * Logged events this object acknowledged before it kept a ledger (their message has no loyalty id) that the
 * ledger lacks: they were still on their way to D1 when the copy read it. While any is left the ledger is not
 * complete; they count for as long as the object keeps what it acknowledged (ACKNOWLEDGED_RETENTION_MS).
 */
export function legacyEventsInFlight(sql: SqlStorage): number {
  return sql
    .exec<{ n: number }>(
      `SELECT COUNT(*) AS n FROM acknowledged a
       WHERE CASE WHEN json_valid(a.body) THEN a.body ->> '$.kind' IS NULL AND a.body ->> '$.ledgerId' IS NULL
                                               AND a.body ->> '$.eventUid' IS NOT NULL ELSE 0 END
         AND NOT EXISTS (SELECT 1 FROM ledger WHERE event_uid = a.event_uid)`,
    )
    .one().n;
}

/**
 * Completes the copy: the adjustments this object acknowledged (kept a week) apply over what D1 had, newest by
 * the user's sequence winning, in case D1 had not applied them yet; then the ledger is complete.
 */
export function completeLedgerFill(sql: SqlStorage): void {
  const adjustments = sql
    .exec<{ body: string }>("SELECT body FROM acknowledged WHERE CASE WHEN json_valid(body) THEN body ->> '$.kind' = 'adjustment' ELSE 0 END")
    .toArray()
    .map((row) => JSON.parse(row.body) as AdjustmentMessage)
    .sort((a, b) => a.seq - b.seq);
  for (const adjustment of adjustments) adjustLedgerEntry(sql, adjustment);
  sql.exec("UPDATE ledger_fill SET done = 1 WHERE id = 1");
}
