import { chunkBySize, utf8Bytes } from "../../domain/json";
import { MAX_QUEUE_MESSAGE_BYTES } from "../../domain/limits";
import { projectKeyOf } from "../../domain/logged-event";
import { messageKey, type QueueMessage } from "../../domain/queue-message";

/**
 * Queue limits: 128 KB per message. Rows go out bundled, several per message up to this size (one row alone
 * as itself), so a batch of logs costs a few messages and the consumer gets big chunks.
 */
const BUNDLE_BYTES = MAX_QUEUE_MESSAGE_BYTES;
/** A row that failed this many sends while other rows were delivered is set aside. */
export const MAX_SEND_ATTEMPTS = 5;

type OutboxRow = { event_uid: string; body: string; attempts: number; last_error: string | null };
/** A row this instance wrote: sent from memory, without reading it back. */
type PendingRow = { key: string; body: string };

/** A row set aside: kept (as a dead letter in D1, visible to admins and replayable), no longer blocking. */
export type SetAsideRow = { eventUid: string; projectKey: string | null; body: string; attempts: number; error: string };

/**
 * The JSON text of a queue message holding `bodies` (each a message's JSON): one alone, several as a bundle.
 * Sent as text, so nothing is parsed or serialised again on the way out.
 */
const bundleText = (bodies: readonly string[]): string => (bodies.length === 1 ? bodies[0]! : `{"kind":"bundle","items":[${bodies.join(",")}]}`);

/** What `send` takes: the message's JSON text (the consumer parses it). */
const TEXT = { contentType: "text" } as const;

/**
 * Messages (logged events, reward adjustments) waiting to reach the stats queue. A row is written in the same
 * transaction as the change it carries and deleted once sent, so every committed change is delivered at least
 * once (consumers dedupe on the message's key, kept in `event_uid`). Rows this instance wrote are sent from
 * memory; rows it did not write (from before a restart, or left by a failed send) are read back. A send that
 * fails is retried row by row, so one bad row never holds back the rows behind it; a row that keeps failing
 * while others go through (or that is larger than a queue message may be) is handed to `setAside` and removed
 * once that succeeded.
 */
export class Outbox {
  private flushing: Promise<void> | null = null;
  private flushAgain = false;
  private pending: PendingRow[] = [];
  /**
   * Rows sent but not deleted yet: their delete rides along with the next write transaction (the next log) or
   * the alarm's, rather than costing a commit of its own after every send. If the object restarts first,
   * they are sent again; consumers deduplicate.
   */
  private sent: string[] = [];
  /** Whether the table may hold rows this instance has not got in memory. */
  private unknownRows = true;

  constructor(
    private readonly sql: SqlStorage,
    /** Read on every send, so a test can swap the binding. */
    private readonly queue: () => Queue,
    private readonly setAside: (rows: SetAsideRow[]) => Promise<void>,
  ) {}

  /** Writes a message (in the caller's transaction, which also deletes what was sent); `body` is its JSON when the caller has it. */
  add(message: QueueMessage, now: number, body = JSON.stringify(message)): void {
    this.compact();
    const key = messageKey(message);
    this.sql.exec("INSERT INTO outbox (event_uid, body, created_at) VALUES (?, ?, ?)", key, body, now);
    this.pending.push({ key, body });
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

  /** Rows not sent yet. */
  size(): number {
    this.compact();
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM outbox").one().n;
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
        do {
          this.flushAgain = false;
          const delivered = await this.sendPending();
          if (this.unknownRows) await this.sendStored(delivered);
        } while (this.flushAgain);
      } catch (error) {
        console.warn("outbox flush failed; the alarm will retry", error);
      } finally {
        this.flushing = null;
      }
    })();
    return this.flushing;
  }

  /** Sends the rows this instance wrote, in bundles; on a failure they stay in the table for sendStored. Returns how many went. */
  private async sendPending(): Promise<number> {
    let delivered = 0;
    while (this.pending.length > 0) {
      const rows = this.pending;
      this.pending = [];
      for (const chunk of chunkBySize(rows, (row) => utf8Bytes(row.body), BUNDLE_BYTES)) {
        try {
          await this.queue().send(bundleText(chunk.map((row) => row.body)), TEXT);
          for (const row of chunk) this.sent.push(row.key);
          delivered += chunk.length;
        } catch {
          this.unknownRows = true;
        }
      }
    }
    return delivered;
  }

  /**
   * Sends rows from the table (written before a restart, or left by a failed send), bundled, then row by row.
   * `delivered`: rows this flush sent already (evidence that the queue works).
   */
  private async sendStored(deliveredBefore: number): Promise<void> {
    let delivered = deliveredBefore;
    const failed = new Set<string>();
    this.compact();
    for (;;) {
      // Rows that failed in this run are not tried again until the next one (the alarm).
      const rows = this.sql
        .exec<OutboxRow>(
          `SELECT event_uid, body, attempts, last_error FROM outbox
           WHERE event_uid NOT IN (SELECT value FROM json_each(?)) ORDER BY created_at LIMIT 500`,
          JSON.stringify([...failed]),
        )
        .toArray();
      if (rows.length === 0) break;
      for (const chunk of chunkBySize(rows, (row) => utf8Bytes(row.body), BUNDLE_BYTES)) {
        try {
          await this.queue().send(bundleText(chunk.map((row) => row.body)), TEXT);
          this.remove(chunk.map((row) => row.event_uid));
          delivered += chunk.length;
        } catch {
          // Find the row(s) to blame: each alone.
          for (const row of chunk) {
            try {
              await this.queue().send(row.body, TEXT);
              this.remove([row.event_uid]);
              delivered += 1;
            } catch (error) {
              failed.add(row.event_uid);
              this.sql.exec(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE event_uid = ?",
                String(error).slice(0, 500),
                row.event_uid,
              );
            }
          }
        }
      }
    }
    if (failed.size > 0) await this.setAsideStuckRows(delivered > 0);
    // Everything readable was sent or is known to fail: only new rows (in memory) remain to be sent.
    this.unknownRows = failed.size > 0 && this.size() > 0;
  }

  /**
   * Rows that failed MAX_SEND_ATTEMPTS times are set aside when other rows were delivered in the same run
   * (so the queue works and the row is to blame); a row larger than a queue message is set aside at once.
   * When every send fails (the queue is down), nothing is set aside: the alarm keeps retrying.
   */
  private async setAsideStuckRows(queueWorks: boolean): Promise<void> {
    const rows = this.sql
      .exec<OutboxRow>("SELECT event_uid, body, attempts, last_error FROM outbox WHERE attempts > 0 ORDER BY created_at LIMIT 100")
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
