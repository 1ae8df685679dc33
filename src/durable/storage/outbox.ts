import { chunkBySize, utf8Bytes } from "../../domain/json";
import type { LoggedEvent } from "../../domain/logged-event";

/** Queue limits: 128 KB per message, 100 messages and 256 KB per sendBatch. */
const SEND_BATCH_MESSAGES = 100;
const SEND_BATCH_BYTES = 200_000;

/**
 * Logged events waiting to reach the stats queue. A row is written in the same transaction as the log it
 * carries and deleted once sent, so every committed log is delivered at least once (consumers dedupe on
 * eventUid).
 */
export class Outbox {
  private flushing: Promise<void> | null = null;
  private flushAgain = false;

  constructor(
    private readonly sql: SqlStorage,
    /** Read on every send, so a test can swap the binding. */
    private readonly queue: () => Queue,
  ) {}

  add(event: LoggedEvent, now: number): void {
    this.sql.exec("INSERT INTO outbox (event_uid, body, created_at) VALUES (?, ?, ?)", event.eventUid, JSON.stringify(event), now);
  }

  size(): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM outbox").one().n;
  }

  /** Sends the outbox to the queue. Concurrent callers share one run; a failed send leaves rows for the alarm. */
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
        console.warn("outbox send failed; the alarm will retry", error);
      } finally {
        this.flushing = null;
      }
    })();
    return this.flushing;
  }

  private async sendAll(): Promise<void> {
    for (;;) {
      const rows = this.sql
        .exec<{ event_uid: string; body: string }>("SELECT event_uid, body FROM outbox ORDER BY created_at LIMIT 500")
        .toArray();
      if (rows.length === 0) return;
      for (const chunk of chunkBySize(rows, (row) => utf8Bytes(row.body), SEND_BATCH_BYTES, SEND_BATCH_MESSAGES)) {
        await this.queue().sendBatch(chunk.map((row) => ({ body: JSON.parse(row.body) as LoggedEvent, contentType: "json" })));
        for (const row of chunk) this.sql.exec("DELETE FROM outbox WHERE event_uid = ?", row.event_uid);
      }
    }
  }
}
