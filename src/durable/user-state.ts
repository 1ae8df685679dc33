import { DurableObject } from "cloudflare:workers";
import { getDb } from "../db/client";
import { count, countingQueue, countingSql, isTracing, span } from "../lib/bench-trace";
import { insertDeadLetters, OUTBOX_QUEUE_NAME } from "../db/dead-letters";
import { findUser } from "../db/users";
import { unregisteredOutcome, type AdjustCommand, type AdjustOutcome, type LogCommand, type LogOutcome } from "../domain/log-command";
import type { ChallengeDefinition, StreakDefinition } from "../domain/game-definitions";
import type { StreakSummary } from "../domain/streaks";
import type { Registration, UserProfile } from "../domain/user";
import { applyAdjustment } from "./apply-adjustment";
import { applyLog, LogRefused } from "./apply-log";
import { currentChallenge } from "./challenge-progress";
import { isPristine, migrateUserState } from "./migrations";
import { expireIdempotencyRecords } from "./storage/idempotency";
import { allCounters } from "./storage/limit-counters";
import { Outbox } from "./storage/outbox";
import { readProfile, writeRegistration } from "./storage/profile";
import { streakSummary } from "./streak-progress";

/** How long the outbox waits before the alarm re-sends what an immediate send did not deliver. */
const OUTBOX_RETRY_MS = 30_000;
/** How long an object remembers that D1 does not know its user, so unknown-user traffic does not hit D1 each time. */
const UNKNOWN_USER_RECHECK_MS = 10_000;

export type UserStanding = {
  balance: number;
  streaks: Array<{ streakId: string; summary: StreakSummary | null }>;
  challenges: Array<ReturnType<typeof currentChallenge>>;
};

export type UserSnapshot = { registered: boolean; balance: number; counters: Record<string, number>; outbox: number };

/**
 * The single authority for one user of one project: limit counters, points balance and idempotency keys.
 * Each log is decided and committed in one SQLite transaction together with an outbox row; the outbox is
 * then sent to the stats queue, and an alarm re-sends whatever is left (at-least-once; consumers dedupe
 * on eventUid). Storage lives in ./storage, the per-log work in ./apply-log, decisions in src/domain.
 */
export class UserState extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private readonly outbox: Outbox;
  /** False until this object stores something: an object for an unregistered user writes nothing at all. */
  private hasSchema = false;
  /** After D1 said this user is not registered, skip asking again for a short while (register() clears it). */
  private unknownUntil = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = isTracing(env) ? countingSql(ctx.storage.sql) : ctx.storage.sql;
    this.outbox = new Outbox(
      this.sql,
      () => (isTracing(this.env) ? countingQueue(this.env.EVENTS_QUEUE) : this.env.EVENTS_QUEUE),
      (rows) =>
        insertDeadLetters(
          this.env.DB,
          OUTBOX_QUEUE_NAME,
          rows.map((row) => ({ messageId: row.eventUid, projectKey: row.projectKey, body: row.body, attempts: row.attempts, error: row.error })),
        ),
    );
    void ctx.blockConcurrencyWhile(async () => {
      if (!isPristine(this.sql)) this.migrate();
    });
  }

  /** Registers the user (or updates its usergroups); the balance and counters are kept. Returns the balance. */
  async register(registration: Registration): Promise<number> {
    this.unknownUntil = 0;
    this.migrate();
    writeRegistration(this.sql, registration);
    return this.storedProfile()?.balance ?? 0;
  }

  /** Logs events for this user in order, each in its own transaction, then sends them to the stats queue. */
  async logEvents(projectKey: string, userId: string, commands: LogCommand[]): Promise<LogOutcome[]> {
    if (!this.storedProfile() && !(await this.registerFromDatabase(projectKey, userId))) {
      return commands.map(unregisteredOutcome);
    }
    const now = Date.now();
    const outcomes = commands.map((command) => {
      try {
        count("logsApplied");
        return this.ctx.storage.transactionSync(() => applyLog(this.sql, this.outbox, command, now));
      } catch (error) {
        if (error instanceof LogRefused) return error.outcome;
        throw error;
      }
    });
    expireIdempotencyRecords(this.sql, now);
    if (outcomes.some((o) => o.kind === "logged" && !o.replayed)) await this.sendSoon(now);
    return outcomes;
  }

  /**
   * Sends the outbox now, with an alarm as the backstop. The alarm is written in the same turn as the outbox
   * rows, so they commit together: a crash before the send still leaves an alarm that delivers the outbox.
   * (Answering before the send measured no faster locally; see BENCHMARKS.md.)
   */
  private async sendSoon(now: number): Promise<void> {
    void this.ctx.storage.setAlarm(now + OUTBOX_RETRY_MS);
    count("doAlarmsSet");
    await span(this.env, "object: queue send", () => this.outbox.flush());
  }

  /** Adjusts the reward of one of the user's logged events (see applyAdjustment), then sends the change to the queue. */
  async adjust(command: AdjustCommand): Promise<AdjustOutcome> {
    if (!this.storedProfile()) return { kind: "not_registered" };
    const now = Date.now();
    const outcome = this.ctx.storage.transactionSync(() => applyAdjustment(this.sql, this.outbox, command, now));
    if (outcome.kind === "adjusted" && !outcome.replayed) await this.sendSoon(now);
    return outcome;
  }

  /** Re-sends anything left in the outbox; reschedules itself while sends keep failing. */
  override async alarm(): Promise<void> {
    if (!this.hasSchema) return;
    await this.outbox.flush();
    if (this.outbox.size() > 0) await this.ctx.storage.setAlarm(Date.now() + OUTBOX_RETRY_MS);
  }

  /**
   * The user's points profile: balance, each given streak's summary under its current rules, each given
   * challenge's progress in its current period; null when unregistered.
   */
  async standing(streaks: StreakDefinition[], challenges: ChallengeDefinition[]): Promise<UserStanding | null> {
    const profile = this.storedProfile();
    if (!profile) return null;
    const now = Date.now();
    return {
      balance: profile.balance,
      streaks: streaks.map((streak) => ({ streakId: streak.streakId, summary: streakSummary(this.sql, streak) })),
      challenges: challenges.map((challenge) => currentChallenge(this.sql, challenge, now)),
    };
  }

  /** Current state, for admin reads and tests. */
  async snapshot(): Promise<UserSnapshot> {
    const profile = this.storedProfile();
    if (!profile) return { registered: false, balance: 0, counters: {}, outbox: 0 };
    return { registered: true, balance: profile.balance, counters: allCounters(this.sql), outbox: this.outbox.size() };
  }

  private migrate(): void {
    if (this.hasSchema) return;
    migrateUserState(this.ctx.storage);
    this.hasSchema = true;
  }

  private storedProfile(): UserProfile | null {
    return this.hasSchema ? readProfile(this.sql) : null;
  }

  /** Heals a registration whose Durable Object write was lost after the D1 write; unknown users stay unknown. */
  private async registerFromDatabase(projectKey: string, userId: string): Promise<boolean> {
    if (Date.now() < this.unknownUntil) return false;
    const user = await findUser(getDb(this.env.DB), projectKey, userId);
    if (!user) {
      this.unknownUntil = Date.now() + UNKNOWN_USER_RECHECK_MS;
      return false;
    }
    if (!this.storedProfile()) await this.register(user);
    return true;
  }
}
