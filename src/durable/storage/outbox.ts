import { chunkBySize, utf8Bytes } from "../../domain/json";
import { MAX_QUEUE_MESSAGE_BYTES } from "../../domain/limits";
import { projectKeyOf } from "../../domain/logged-event";
import { messageKey, type Bundle, type QueueMessage } from "../../domain/queue-message";

/**
 * Queue limits: 128 KB per message. Rows go out bundled, several per message up to this size (one row alone
 * as itself), so a batch of logs costs a few messages and the consumer gets big chunks.
 */
const BUNDLE_BYTES = MAX_QUEUE_MESSAGE_BYTES;
/** A row that failed this many sends while other rows were delivered is set aside. */
export const MAX_SEND_ATTEMPTS = 5;

type OutboxRow = { event_uid: string; body: string; attempts: number; last_error: string | null };

/** A row set aside: kept (as a dead letter in D1, visible to admins and replayable), no longer blocking. */
export type SetAsideRow = { eventUid: string; projectKey: string | null; body: string; attempts: number; error: string };

/**
 * Messages (logged events, reward adjustments) waiting to reach the stats queue. A row is written in the same
 * transaction as the change it carries and deleted once sent, so every committed change is delivered at least
 * once (consumers dedupe on the message's key, kept in `event_uid`). A send that fails is retried row by row, so one bad row never holds back the rows behind it;
 * a row that keeps failing while others go through (or that is larger than a queue message may be) is
 * handed to `setAside` and removed once that succeeded.
 */
export class Outbox {
  private flushing: Promise<void> | null = null;
  private flushAgain = false;

  constructor(
    private readonly sql: SqlStorage,
    /** Read on every send, so a test can swap the binding. */
    private readonly queue: () => Queue,
    private readonly setAside: (rows: SetAsideRow[]) => Promise<void>,
  ) {}

  add(message: QueueMessage, now: number): void {
    this.sql.exec("INSERT INTO outbox (event_uid, body, created_at) VALUES (?, ?, ?)", messageKey(message), JSON.stringify(message), now);
  }

  size(): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM outbox").one().n;
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
          await this.sendAll();
        } while (this.flushAgain);
      } catch (error) {
        console.warn("outbox flush failed; the alarm will retry", error);
      } finally {
        this.flushing = null;
      }
    })();
    return this.flushing;
  }

  private async sendAll(): Promise<void> {
    let delivered = 0;
    const failed = new Set<string>();
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
          const items = chunk.map((row) => JSON.parse(row.body) as QueueMessage);
          const bundle: Bundle | QueueMessage = items.length === 1 ? items[0]! : { kind: "bundle", items };
          await this.queue().send(bundle, { contentType: "json" });
          this.remove(chunk);
          delivered += chunk.length;
        } catch {
          // Find the row(s) to blame: each alone.
          for (const row of chunk) {
            try {
              await this.queue().send(JSON.parse(row.body) as QueueMessage, { contentType: "json" });
              this.remove([row]);
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
    this.remove(rows);
  }

  private remove(rows: readonly Pick<OutboxRow, "event_uid">[]): void {
    for (const row of rows) this.sql.exec("DELETE FROM outbox WHERE event_uid = ?", row.event_uid);
  }
}

