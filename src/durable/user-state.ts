import { DurableObject } from "cloudflare:workers";
import { getDb } from "../db/client";
import { findUser } from "../db/users";
import type { VersionedDefinition } from "../domain/definition";
import { eventLoggedEnvelope, type EventLoggedEnvelope, type LoggedEvent } from "../domain/logged-event";
import { chunkBySize, utf8Bytes } from "../domain/json";
import { decideReward, type FieldError } from "../domain/rewards";

/** Idempotency keys are kept for 48 hours (the contract promises at least 24). */
const IDEMPOTENCY_TTL_MS = 48 * 3_600_000;
/** How long the outbox waits before the alarm re-sends what an immediate send did not deliver. */
const OUTBOX_RETRY_MS = 30_000;
/** How long an object remembers that D1 does not know its user, so unknown-user traffic does not hit D1 each time. */
const UNKNOWN_USER_RECHECK_MS = 10_000;
/**
 * Queue limits: 128 KB per message, 100 messages and 256 KB per sendBatch. A message stays far below 128 KB:
 * metadata fits in the 64 KiB body limit and reasons summarise large values.
 */
const SEND_BATCH_MESSAGES = 100;
const SEND_BATCH_BYTES = 200_000;

export type Registration = {
  projectKey: string;
  programId: number;
  userId: string;
  accountId: number;
  usergroups: string[];
};

type IdempotencyFields = {
  idempotencyKey: string | null;
  /** Hash of the request body, compared when an idempotency key is reused. */
  requestHash: string | null;
};

export type LogEventCommand =
  | ({ kind: "log"; definition: VersionedDefinition; metadata: Record<string, unknown>; occurredAt: string } & IdempotencyFields)
  /**
   * A request the Worker refused because of the event's definition (unknown, inactive, metadata). With an
   * idempotency key it still comes here: a retry of a request logged before the definition changed gets
   * its first answer; otherwise the refusal stands.
   */
  | ({ kind: "rejected"; rejection: { status: 400 | 404; message: string; errors?: FieldError[] } } & IdempotencyFields);

export type LogEventOutcome =
  | { status: 200; replayed: boolean; body: EventLoggedEnvelope }
  | { status: 400 | 404 | 422; message: string; errors?: FieldError[] };

type ProfileRow = Registration & { balance: number };

/**
 * The single authority for one user of one project: limit counters, points balance and idempotency keys.
 * Each log is decided and committed in one SQLite transaction together with an outbox row; the outbox is
 * then sent to the stats queue, and an alarm re-sends whatever is left (at-least-once; consumers dedupe
 * on eventUid).
 */
export class UserState extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private flushing: Promise<void> | null = null;
  private flushAgain = false;
  /** After D1 said this user is not registered, skip asking again for a short while (register() clears it). */
  private unknownUntil = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS profile (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        project_key TEXT NOT NULL, program_id INTEGER NOT NULL, user_id TEXT NOT NULL,
        account_id INTEGER NOT NULL, usergroups TEXT NOT NULL, balance INTEGER NOT NULL DEFAULT 0
      );
      CREATE TABLE IF NOT EXISTS limit_counters (
        event_id TEXT NOT NULL, period_key TEXT NOT NULL, used INTEGER NOT NULL,
        PRIMARY KEY (event_id, period_key)
      );
      CREATE TABLE IF NOT EXISTS outbox (event_uid TEXT PRIMARY KEY, body TEXT NOT NULL, created_at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS idempotency (
        key TEXT PRIMARY KEY, request_hash TEXT NOT NULL, response TEXT NOT NULL, created_at INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS idempotency_created ON idempotency (created_at);
    `);
  }

  /** Registers the user (or updates its usergroups); the balance and counters are kept. Returns the balance. */
  async register(registration: Registration): Promise<number> {
    this.unknownUntil = 0;
    this.sql.exec(
      `INSERT INTO profile (id, project_key, program_id, user_id, account_id, usergroups) VALUES (1, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET project_key = excluded.project_key, program_id = excluded.program_id,
         user_id = excluded.user_id, account_id = excluded.account_id, usergroups = excluded.usergroups`,
      registration.projectKey,
      registration.programId,
      registration.userId,
      registration.accountId,
      JSON.stringify(registration.usergroups),
    );
    return this.profile()?.balance ?? 0;
  }

  /** Logs events for this user in order, each in its own transaction, then sends them to the stats queue. */
  async logEvents(projectKey: string, userId: string, commands: LogEventCommand[]): Promise<LogEventOutcome[]> {
    if (!this.profile() && !(await this.registerFromDatabase(projectKey, userId))) {
      // Nothing was ever logged for this user, so there is nothing to replay either.
      return commands.map((command) =>
        command.kind === "rejected" ? command.rejection : { status: 404, message: `User ${userId} is not registered in this project` },
      );
    }
    const now = Date.now();
    const outcomes = commands.map((command) => this.ctx.storage.transactionSync(() => this.logOne(command, now)));
    this.sql.exec("DELETE FROM idempotency WHERE created_at < ?", now - IDEMPOTENCY_TTL_MS);
    if (outcomes.some((o) => o.status === 200 && !o.replayed)) {
      // Written in the same turn as the outbox rows, so they commit together: a crash before the send below
      // still leaves an alarm that delivers the outbox. (Answering before the send measured no faster locally;
      // see BENCHMARKS.md.)
      void this.ctx.storage.setAlarm(now + OUTBOX_RETRY_MS);
      await this.flushOutbox();
    }
    return outcomes;
  }

  /** Re-sends anything left in the outbox; reschedules itself while sends keep failing. */
  override async alarm(): Promise<void> {
    await this.flushOutbox();
    if (this.outboxSize() > 0) await this.ctx.storage.setAlarm(Date.now() + OUTBOX_RETRY_MS);
  }

  /** Current state, for admin reads and tests. */
  async snapshot(): Promise<{ registered: boolean; balance: number; counters: Record<string, number>; outbox: number }> {
    const profile = this.profile();
    const counters: Record<string, number> = {};
    for (const row of this.sql.exec<{ event_id: string; period_key: string; used: number }>(
      "SELECT event_id, period_key, used FROM limit_counters",
    )) {
      counters[`${row.event_id}/${row.period_key}`] = row.used;
    }
    return { registered: profile !== null, balance: profile?.balance ?? 0, counters, outbox: this.outboxSize() };
  }

  private profile(): ProfileRow | null {
    const row = this.sql
      .exec<{ project_key: string; program_id: number; user_id: string; account_id: number; usergroups: string; balance: number }>(
        "SELECT project_key, program_id, user_id, account_id, usergroups, balance FROM profile WHERE id = 1",
      )
      .toArray()[0];
    if (!row) return null;
    return {
      projectKey: row.project_key,
      programId: row.program_id,
      userId: row.user_id,
      accountId: row.account_id,
      usergroups: JSON.parse(row.usergroups) as string[],
      balance: row.balance,
    };
  }

  /** Heals a registration whose Durable Object write was lost after the D1 write; unknown users stay unknown. */
  private async registerFromDatabase(projectKey: string, userId: string): Promise<boolean> {
    if (Date.now() < this.unknownUntil) return false;
    const user = await findUser(getDb(this.env.DB), projectKey, userId);
    if (!user) {
      this.unknownUntil = Date.now() + UNKNOWN_USER_RECHECK_MS;
      return false;
    }
    if (!this.profile()) await this.register(user);
    return true;
  }

  private logOne(command: LogEventCommand, now: number): LogEventOutcome {
    const { idempotencyKey } = command;
    if (idempotencyKey !== null) {
      const prior = this.sql
        .exec<{ request_hash: string; response: string }>(
          "SELECT request_hash, response FROM idempotency WHERE key = ? AND created_at >= ?",
          idempotencyKey,
          now - IDEMPOTENCY_TTL_MS,
        )
        .toArray()[0];
      if (prior) {
        if (prior.request_hash !== command.requestHash) {
          return { status: 422, message: "Idempotency-Key was already used with a different request body" };
        }
        return { status: 200, replayed: true, body: JSON.parse(prior.response) as EventLoggedEnvelope };
      }
    }
    if (command.kind === "rejected") return command.rejection;
    const { definition, metadata } = command;

    const profile = this.profile();
    if (!profile) return { status: 404, message: "User is not registered in this project" };
    const decision = decideReward({
      definition,
      metadata,
      registeredGroups: profile.usergroups,
      occurredAt: command.occurredAt,
      usedInPeriod: (periodKey) =>
        this.sql
          .exec<{ used: number }>(
            "SELECT used FROM limit_counters WHERE event_id = ? AND period_key = ?",
            definition.eventId,
            periodKey,
          )
          .toArray()[0]?.used ?? 0,
    });
    const balanceAfter = profile.balance + decision.points;
    if (!Number.isSafeInteger(balanceAfter)) {
      return { status: 422, message: "The points balance would leave the safe integer range" };
    }
    if (decision.limitKey !== null) {
      this.sql.exec(
        `INSERT INTO limit_counters (event_id, period_key, used) VALUES (?, ?, 1)
         ON CONFLICT (event_id, period_key) DO UPDATE SET used = used + 1`,
        definition.eventId,
        decision.limitKey,
      );
    }
    if (decision.points !== 0) this.sql.exec("UPDATE profile SET balance = ? WHERE id = 1", balanceAfter);

    const event: LoggedEvent = {
      eventUid: crypto.randomUUID(),
      projectKey: profile.projectKey,
      programId: profile.programId,
      userId: profile.userId,
      accountId: profile.accountId,
      eventId: definition.eventId,
      definitionVersion: definition.version,
      eventType: definition.type,
      loyaltyEventType: definition.loyaltyEventType ?? null,
      metadata,
      occurredAt: command.occurredAt,
      recordedAt: new Date(now).toISOString(),
      points: decision.points,
      balanceBefore: profile.balance,
      balanceAfter,
      userGroupId: decision.userGroupId,
      conditionReached: decision.conditionReached,
      limitReached: decision.limitReached,
      reward: { ...decision.reward, reasons: decision.reasons },
      idempotencyKey,
    };
    this.sql.exec("INSERT INTO outbox (event_uid, body, created_at) VALUES (?, ?, ?)", event.eventUid, JSON.stringify(event), now);

    const body = eventLoggedEnvelope(definition, profile.userId, metadata, decision, balanceAfter);
    if (idempotencyKey !== null) {
      this.sql.exec(
        "INSERT OR REPLACE INTO idempotency (key, request_hash, response, created_at) VALUES (?, ?, ?, ?)",
        idempotencyKey,
        command.requestHash ?? "",
        JSON.stringify(body),
        now,
      );
    }
    return { status: 200, replayed: false, body };
  }

  private outboxSize(): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM outbox").one().n;
  }

  /** Sends the outbox to the stats queue. Concurrent callers share one run; a failed send leaves rows for the alarm. */
  private flushOutbox(): Promise<void> {
    if (this.flushing) {
      this.flushAgain = true;
      return this.flushing;
    }
    this.flushing = (async () => {
      try {
        do {
          this.flushAgain = false;
          await this.sendOutbox();
        } while (this.flushAgain);
      } catch (error) {
        console.warn("outbox send failed; the alarm will retry", error);
      } finally {
        this.flushing = null;
      }
    })();
    return this.flushing;
  }

  private async sendOutbox(): Promise<void> {
    for (;;) {
      const rows = this.sql
        .exec<{ event_uid: string; body: string }>("SELECT event_uid, body FROM outbox ORDER BY created_at LIMIT 500")
        .toArray();
      if (rows.length === 0) return;
      for (const chunk of chunkBySize(rows, (row) => utf8Bytes(row.body), SEND_BATCH_BYTES, SEND_BATCH_MESSAGES)) {
        await this.env.EVENTS_QUEUE.sendBatch(chunk.map((row) => ({ body: JSON.parse(row.body) as LoggedEvent, contentType: "json" })));
        for (const row of chunk) this.sql.exec("DELETE FROM outbox WHERE event_uid = ?", row.event_uid);
      }
    }
  }
}
