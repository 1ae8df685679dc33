import { chunkBySize, utf8Bytes } from "../../domain/json";
import { MAX_QUEUE_MESSAGE_BYTES } from "../../domain/limits";
import { projectKeyOf } from "../../domain/logged-event";
import { messageKey, type QueueMessage } from "../../domain/queue-message";

/**
 * Queue limits: 128 KB per message. Rows go out bundled, several per message up to this size (one row alone
 * as itself), so a batch of logs costs a few messages and the consumer gets big chunks.
 */
const BUNDLE_BYTES = MAX_QUEUE_MESSAGE_BYTES;
/** A row that failed this many sends on its own, each in a flush that delivered other rows, is set aside. */
export const MAX_SEND_ATTEMPTS = 5;
/** A row's first retry waits this long after its failed send; each further failure doubles the wait... */
export const OUTBOX_BACKOFF_MS = 30_000;
/** ...up to this. */
export const OUTBOX_MAX_BACKOFF_MS = 300_000;
/**
 * A flush that has delivered nothing stops sending after this many failed sends: the queue looks down, and the
 * rows are not to blame. The rows it did not get to stay due for the next flush (or the alarm).
 */
export const MAX_BLIND_FAILED_SENDS = 3;
/** Rows read from the table per page; while the queue looks down (a send failed, none went through), fewer. */
const PAGE_ROWS = 500;
export const OUTAGE_PAGE_ROWS = 8;
/** Keys bound as one JSON parameter at most (a bound value may hold 2 MB). */
const KEYS_PER_STATEMENT = 10_000;

/** A row to send: its key (`event_uid`) and the message's JSON. */
type Row = { key: string; body: string };

/** One flush: what it delivered, how many sends failed, the rows that failed alone; `now` as of its current pass. */
type Round = { now: number; delivered: number; failedSends: number; blamed: Set<string> };

/** A row set aside: kept (as a dead letter in D1, visible to admins and replayable), no longer blocking. */
export type SetAsideRow = { eventUid: string; projectKey: string | null; body: string; attempts: number; error: string };

/**
 * The JSON text of a queue message holding `bodies` (each a message's JSON): one alone, several as a bundle.
 * Sent as text, so nothing is parsed or serialised again on the way out.
 */
const bundleText = (bodies: readonly string[]): string => (bodies.length === 1 ? bodies[0]! : `{"kind":"bundle","items":[${bodies.join(",")}]}`);

/** What `send` takes: the message's JSON text (the consumer parses it). */
const TEXT = { contentType: "text" } as const;

const bodyBytes = (row: Row) => utf8Bytes(row.body);

/**
 * Messages (logged events, reward adjustments) waiting to reach the stats queue. A row is written in the same
 * transaction as the change it carries and deleted once sent, so every committed change is delivered at least
 * once (consumers dedupe on the message's key, kept in `event_uid`). Rows this instance wrote are sent from
 * memory; rows it did not write (from before a restart, or left by a failed send) are read back.
 *
 * Failures, and what they cost:
 * - A failed bundle is retried row by row, so one bad row never holds back the rows behind it.
 * - Each row that failed backs off on its own: its next attempt waits 30 s, then 1, 2, 4, at most 5 minutes
 *   (`next_attempt_at`), so a backlog is not re-sent on every flush.
 * - A row is blamed (`attempts`) only for a send that failed with the row alone, in a flush that delivered
 *   something else: a flush where every send failed is an outage, not the rows' fault. A row blamed
 *   MAX_SEND_ATTEMPTS times (or larger than a queue message may be) is handed to `setAside` and removed once
 *   that succeeded.
 * - A flush that has delivered nothing gives up after MAX_BLIND_FAILED_SENDS failed sends, so a log during an
 *   outage sends its own rows and at most a few due ones, never the whole backlog.
 * - Rows that backed off only because the queue was down are due again as soon as a flush goes through
 *   without a failure, so a backlog drains right after an outage instead of at each row's backoff.
 */
export class Outbox {
  private flushing: Promise<void> | null = null;
  private flushAgain = false;
  private pending: Row[] = [];
  /**
   * Rows sent from memory but not deleted yet: their delete rides along with the next write transaction (the
   * next log) or the alarm's, rather than costing a commit of its own after every send. If the object restarts
   * first, they are sent again; consumers deduplicate.
   */
  private sent: string[] = [];
  /**
   * An instance's first flush deletes what it sent at once rather than with the next write: an object started
   * for one log (a member who logs a few times a day) is often evicted before another, and the next instance
   * (its alarm's) would take a sent row it finds for one never tried and send it again.
   */
  private firstFlush = true;
  /** Whether the table may hold rows never tried that this instance has not got in memory (from before a restart). */
  private untried = true;
  /** Whether the table may hold rows backing off after a failed send (read from the table, not cached, when true). */
  private backingOff = true;

  constructor(
    private readonly sql: SqlStorage,
    /** Read on every send, so a test can swap the binding. */
    private readonly queue: () => Queue,
    private readonly setAside: (rows: SetAsideRow[]) => Promise<void>,
  ) {}

  /**
   * What the object's start read found in the table (storage/start-state.ts): rows never tried, rows backing
   * off. Without either, a flush reads nothing from the table until a send fails.
   */
  started(found: { untried: boolean; backingOff: boolean }): void {
    this.untried = found.untried;
    this.backingOff = found.backingOff;
  }

  /** Writes a message (in the caller's transaction, which also deletes what was sent); `body` is its JSON when the caller has it. */
  add(message: QueueMessage, now: number, body = JSON.stringify(message)): void {
    this.compact();
    const key = messageKey(message);
    this.sql.exec("INSERT INTO outbox (event_uid, body, created_at) VALUES (?, ?, ?)", key, body, now);
    this.pending.push({ key, body });
  }

  /**
   * Puts messages the object acknowledged in [from, to] (storage/acknowledged.ts) back into the outbox, in the
   * caller's transaction, to be sent again. Rows still in the outbox are left as they are (they are on their
   * way). Returns how many were queued again and how many were still waiting in the outbox.
   */
  requeue(uids: readonly string[], from: number, to: number): { queued: number; waiting: number } {
    this.compact();
    const list = JSON.stringify(uids);
    // The rows keep their original time, so the trigger's acknowledged row is the one that exists (ignored).
    const rows = this.sql
      .exec<{ event_uid: string; body: string }>(
        `INSERT INTO outbox (event_uid, body, created_at)
         SELECT event_uid, body, acked_at FROM acknowledged
         WHERE acked_at >= ? AND acked_at <= ? AND event_uid IN (SELECT value FROM json_each(?))
         ON CONFLICT (event_uid) DO NOTHING
         RETURNING event_uid, body`,
        from,
        to,
        list,
      )
      .toArray();
    for (const row of rows) this.pending.push({ key: row.event_uid, body: row.body });
    const inOutbox = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM outbox WHERE event_uid IN (SELECT value FROM json_each(?))", list).one().n;
    return { queued: rows.length, waiting: inOutbox - rows.length };
  }

  /** The in-memory state before a transaction, to restore if it rolls back. */
  mark(): { pending: number; sent: string[] } {
    return { pending: this.pending.length, sent: [...this.sent] };
  }

  /** After a rollback: its rows never reached the table, and the deletes it made did not happen. */
  rollback(mark: { pending: number; sent: string[] }): void {
    this.pending.length = mark.pending;
    this.sent = [...new Set([...mark.sent, ...this.sent])];
  }

  /** Whether this instance wrote rows it has not sent yet. */
  hasUnsent(): boolean {
    return this.pending.length > 0;
  }

  /** Rows not sent yet. */
  size(): number {
    this.compact();
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM outbox").one().n;
  }

  /** When the outbox has something to send next (epoch ms; `now` when a row is due); null when it is empty. */
  nextAttemptAt(now: number): number | null {
    this.compact();
    if (this.pending.length > 0) return now;
    const { m } = this.sql.exec<{ m: number | null }>("SELECT MIN(next_attempt_at) AS m FROM outbox").one();
    return m === null ? null : Math.max(now, m);
  }

  /** Deletes the rows sent so far. */
  compact(): void {
    if (this.sent.length === 0) return;
    this.remove(this.sent);
    this.sent = [];
  }

  /** Sends the outbox to the queue. Concurrent callers share one run; what could not be sent stays for the alarm. */
  flush(): Promise<void> {
    if (this.flushing) {
      this.flushAgain = true;
      return this.flushing;
    }
    this.flushing = (async () => {
      try {
        const round: Round = { now: 0, delivered: 0, failedSends: 0, blamed: new Set() };
        let woke = false;
        do {
          this.flushAgain = false;
          round.now = Date.now();
          await this.sendPass(round);
          // Everything went through so far: rows waiting only because the queue was down (never blamed) need
          // not wait any longer; one more pass sends them.
          if (!woke && round.failedSends === 0 && round.delivered > 0 && this.backingOff) {
            woke = true;
            if (this.wake(round.now) > 0) this.flushAgain = true;
          }
        } while (this.flushAgain);
        await this.settle(round);
        if (this.firstFlush) {
          this.firstFlush = false;
          this.compact();
        }
      } catch (error) {
        console.warn("outbox flush failed; the alarm will retry", error);
      } finally {
        this.flushing = null;
      }
    })();
    return this.flushing;
  }

  /**
   * One pass: the rows this instance wrote, then (after a failure, or when rows may be due) rows from the
   * table. A healthy log's pass is its send alone: no statement reads the table.
   */
  private async sendPass(round: Round): Promise<void> {
    while (this.pending.length > 0) {
      const rows = this.pending;
      this.pending = [];
      for (const chunk of chunkBySize(rows, bodyBytes, BUNDLE_BYTES)) await this.sendChunk(chunk, round, false);
    }
    if (round.failedSends > 0 || this.untried || (this.backingOff && this.earliestBackoff() <= round.now)) {
      await this.sendStored(round);
      this.backingOff = true;
    }
  }

  /** Makes rows that backed off without ever being blamed due now; returns how many. */
  private wake(now: number): number {
    return this.sql.exec("UPDATE outbox SET next_attempt_at = ?1 WHERE next_attempt_at > 0 AND next_attempt_at > ?1 AND attempts = 0", now).rowsWritten;
  }

  /** After a flush: blame and set aside (only when it delivered something: else the queue is down), then note whether rows back off. */
  private async settle(round: Round): Promise<void> {
    if (round.failedSends > 0) {
      if (round.delivered > 0) this.blame([...round.blamed]);
      await this.setAsideStuckRows([...round.blamed], round.delivered > 0);
    }
    if (this.backingOff) this.backingOff = this.earliestBackoff() !== Infinity;
  }

  /**
   * Sends one bundle; if it fails, each of its rows alone (as long as the queue does not look down), so only
   * the rows that fail alone are to blame. Failed rows back off at once.
   */
  private async sendChunk(chunk: Row[], round: Round, fromTable: boolean): Promise<void> {
    const failures: Array<{ key: string; error: string }> = [];
    try {
      await this.queue().send(bundleText(chunk.map((row) => row.body)), TEXT);
      this.delivered(chunk, round, fromTable);
    } catch (error) {
      round.failedSends += 1;
      if (chunk.length === 1) {
        round.blamed.add(chunk[0]!.key);
        failures.push({ key: chunk[0]!.key, error: String(error) });
      } else {
        for (const row of chunk) {
          if (!this.mayRetry(round)) {
            failures.push({ key: row.key, error: String(error) });
            continue;
          }
          try {
            await this.queue().send(row.body, TEXT);
            this.delivered([row], round, fromTable);
          } catch (alone) {
            round.failedSends += 1;
            round.blamed.add(row.key);
            failures.push({ key: row.key, error: String(alone) });
          }
        }
      }
    }
    if (failures.length > 0) this.backOff(failures, round.now);
  }

  private delivered(rows: Row[], round: Round, fromTable: boolean): void {
    round.delivered += rows.length;
    // Rows read from the table are deleted at once: the next page must not read them again.
    if (fromTable) this.remove(rows.map((row) => row.key));
    else for (const row of rows) this.sent.push(row.key);
  }

  /** Whether this flush may spend another send: anything went through, or fewer than MAX_BLIND_FAILED_SENDS failed. */
  private mayRetry(round: Round): boolean {
    return round.delivered > 0 || round.failedSends < MAX_BLIND_FAILED_SENDS;
  }

  /**
   * Sends due rows from the table: never tried ones (written before a restart) and those whose backoff has
   * passed, in pages, bundled. Failed rows leave the due range as they back off, so pages move on.
   */
  private async sendStored(round: Round): Promise<void> {
    this.compact();
    let untriedLeft = this.untried;
    let stopped = false;
    while (!stopped && this.mayRetry(round)) {
      const limit = round.delivered === 0 && round.failedSends > 0 ? OUTAGE_PAGE_ROWS : PAGE_ROWS;
      // Rows written during this flush are sent from memory by its next pass.
      const inMemory = JSON.stringify(this.pending.map((row) => row.key));
      let rows: Row[] = [];
      if (untriedLeft) {
        rows = this.readRows("next_attempt_at = 0 AND event_uid NOT IN (SELECT value FROM json_each(?)) ORDER BY created_at LIMIT ?", inMemory, limit);
        if (rows.length < limit) untriedLeft = false;
      }
      if (rows.length < limit) {
        rows.push(
          ...this.readRows(
            "next_attempt_at > 0 AND next_attempt_at <= ? AND event_uid NOT IN (SELECT value FROM json_each(?)) ORDER BY next_attempt_at, created_at LIMIT ?",
            round.now,
            inMemory,
            limit - rows.length,
          ),
        );
      }
      if (rows.length === 0) break;
      for (const chunk of chunkBySize(rows, bodyBytes, BUNDLE_BYTES)) {
        if (!this.mayRetry(round)) {
          stopped = true;
          break;
        }
        await this.sendChunk(chunk, round, true);
      }
    }
    // Stopped early: rows never tried may be left (they stay due, and the table is read again next time).
    if (!stopped) this.untried = untriedLeft;
  }

  private readRows(where: string, ...bindings: unknown[]): Row[] {
    return this.sql
      .exec<{ event_uid: string; body: string }>(`SELECT event_uid, body FROM outbox WHERE ${where}`, ...bindings)
      .toArray()
      .map((row) => ({ key: row.event_uid, body: row.body }));
  }

  /** Failed rows wait before their next attempt, longer after each failure (30 s doubling, at most 5 minutes). */
  private backOff(failures: ReadonlyArray<{ key: string; error: string }>, now: number): void {
    this.sql.exec(
      `UPDATE outbox SET failed_sends = failed_sends + 1, last_error = substr(f.value ->> '$.error', 1, 500),
         next_attempt_at = ?1 + min(?2, ?3 << min(failed_sends, 10))
       FROM json_each(?4) AS f WHERE outbox.event_uid = f.value ->> '$.key'`,
      now,
      OUTBOX_MAX_BACKOFF_MS,
      OUTBOX_BACKOFF_MS,
      JSON.stringify(failures),
    );
  }

  private blame(keys: readonly string[]): void {
    for (let i = 0; i < keys.length; i += KEYS_PER_STATEMENT) {
      this.sql.exec(
        "UPDATE outbox SET attempts = attempts + 1 WHERE event_uid IN (SELECT value FROM json_each(?))",
        JSON.stringify(keys.slice(i, i + KEYS_PER_STATEMENT)),
      );
    }
  }

  /** The earliest retry of a row backing off (Infinity: none); reads the partial index's first entry. */
  private earliestBackoff(): number {
    return this.sql.exec<{ m: number | null }>("SELECT MIN(next_attempt_at) AS m FROM outbox WHERE next_attempt_at > 0").one().m ?? Infinity;
  }

  /**
   * Of the rows that failed alone in this round: those blamed MAX_SEND_ATTEMPTS times are set aside when the
   * round delivered other rows (so the queue works and the row is to blame); a row larger than a queue message
   * is set aside at once. When every send failed (the queue is down), nothing else is set aside.
   */
  private async setAsideStuckRows(keys: readonly string[], queueWorks: boolean): Promise<void> {
    if (keys.length === 0) return;
    const rows = this.sql
      .exec<{ event_uid: string; body: string; attempts: number; last_error: string | null }>(
        "SELECT event_uid, body, attempts, last_error FROM outbox WHERE event_uid IN (SELECT value FROM json_each(?)) ORDER BY created_at LIMIT 100",
        JSON.stringify(keys.slice(0, KEYS_PER_STATEMENT)),
      )
      .toArray()
      .filter((row) => utf8Bytes(row.body) > MAX_QUEUE_MESSAGE_BYTES || (queueWorks && row.attempts >= MAX_SEND_ATTEMPTS));
    if (rows.length === 0) return;
    await this.setAside(
      rows.map((row) => ({
        eventUid: row.event_uid,
        projectKey: projectKeyOf(JSON.parse(row.body)),
        body: row.body,
        attempts: row.attempts,
        error: row.last_error ?? "send failed",
      })),
    );
    this.remove(rows.map((row) => row.event_uid));
  }

  private remove(keys: readonly string[]): void {
    this.sql.exec("DELETE FROM outbox WHERE event_uid IN (SELECT value FROM json_each(?))", JSON.stringify(keys));
  }
}
