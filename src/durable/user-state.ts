import { DurableObject } from "cloudflare:workers";
import { getDb } from "../db/client";
import { count, tracedObjectQueue, tracedObjectSql } from "../lib/bench-trace";
import { OUTBOX_QUEUE_NAME } from "../db/dead-letters";
import { setAsideDeadLetters } from "../services/dead-letters";
import { projectCatalogue } from "../services/definitions";
import { findUser } from "../db/users";
import { legacyLedgerRows } from "../db/event-log";
import type { LedgerRow } from "../domain/ledger";
import { deleteSeeds, readSeed } from "../db/stats-seeds";
import { unregisteredOutcome, type AdjustCommand, type AdjustOutcome, type LogCommand, type LogOutcome } from "../domain/log-command";
import type { ChallengeDefinition, StreakDefinition } from "../domain/game-definitions";
import {
  NO_POINTS_POLICY,
  type PointsPolicy,
  type RedeemCommand,
  type RedeemOutcome,
  type ReverseCommand,
  type ReverseOutcome,
} from "../domain/points-lifecycle";
import type { StreakSummary } from "../domain/streaks";
import { openingBalanceOf, type ImportedMember, type OpeningBalanceGrant } from "../domain/opening-balance";
import type { Registration, UserProfile } from "../domain/user";
import { applyAdjustment } from "./apply-adjustment";
import { applyLog, LogRefused } from "./apply-log";
import { applyOpeningBalance } from "./apply-opening-balance";
import { applyRedemption, applyReversal } from "./apply-redemption";
import { currentChallenge } from "./challenge-progress";
import { isPristine, migrateUserState, USER_STATE_VERSION } from "./migrations";
import { lotExpiresAt } from "../domain/point-lots";
import { adoptPolicy, earliest, nextPointsDuty, pointsStanding, settleDuePoints, type PointsStanding } from "./points-changes";
import { acknowledgedBetween, MAX_ACKNOWLEDGED_PER_CALL, pruneAcknowledged, type AcknowledgedPage } from "./storage/acknowledged";
import { expireIdempotencyRecords } from "./storage/idempotency";
import {
  completeLedgerFill,
  copyLedgerRows,
  ledgerEntry,
  ledgerFill,
  legacyEventsInFlight,
  readLedgerPage,
  type LedgerRead,
  type LedgerReadQuery,
} from "./storage/ledger";
import { readScore } from "./storage/leaderboard-scores";
import { allCounters } from "./storage/limit-counters";
import { Outbox } from "./storage/outbox";
import { nextExpiry } from "./storage/point-lots";
import { readHistoryPage, type PointsHistoryPage } from "./storage/points-history";
import { readPolicy } from "./storage/points-policy";
import { readProfile, writeRegistration } from "./storage/profile";
import { readStartState, type StartState } from "./storage/start-state";
import { forgetHeld } from "./storage/held";
import { holdTierState } from "./storage/tiers";
import { streakSummary } from "./streak-progress";
import { answerStatsQuestion, pruneActiveDays, type StatsQuestion } from "./stats-activity";
import { importSeed, seedPending, type StatsAnswer, type StatsSeed } from "./storage/stats-activity";

/** How long the outbox waits before the alarm re-sends what an immediate send did not deliver. */
const OUTBOX_RETRY_MS = 30_000;
const IDEMPOTENCY_SWEEP_MS = 60_000;
/** How long an object remembers that D1 does not know its user, so unknown-user traffic does not hit D1 each time. */
const UNKNOWN_USER_RECHECK_MS = 10_000;
/** Points history entries per page at most. */
export const MAX_POINTS_HISTORY_PAGE = 200;

/** The profile's part from the object; `expiring` and `tier` are the points lifecycle's (points-changes.ts). */
export type UserStanding = {
  balance: number;
  streaks: Array<{ streakId: string; summary: StreakSummary | null }>;
  challenges: Array<ReturnType<typeof currentChallenge>>;
} & PointsStanding;

/** D1 rows a ledger copy reads per statement, and statements per call by default (a ledger query's call). */
const FILL_PAGE_ROWS = 500;
export const FILL_PAGES_PER_CALL = 20;

/**
 * A ledger page (see storage/ledger.ts), or why there is none: the user is not registered; the caller asked for
 * another account than this user's; the object is still copying its user's older entries from D1 (the caller
 * reads D1 meanwhile).
 */
export type LedgerPageAnswer =
  | ({ kind: "page"; accountId: number } & LedgerRead)
  | { kind: "not_registered" }
  | { kind: "other_account"; accountId: number }
  | { kind: "filling"; accountId: number };

/** One entry of the ledger, with the uid of its event and the user's id. */
export type LedgerEntryAnswer =
  | { kind: "entry"; row: LedgerRow & { eventUid: string; userId: string } }
  | { kind: "none" }
  | { kind: "not_registered" }
  | { kind: "filling" };

/** Where copying the user's older entries from D1 stands: `copied` D1 has no more; `done` the ledger is complete. */
export type LedgerFillAnswer = { done: boolean; copied: boolean; rows: number };

export type UserSnapshot = { registered: boolean; balance: number; counters: Record<string, number>; outbox: number };

/**
 * The single authority for one user of one project: limit counters, points balance and idempotency keys.
 * Each log is decided and committed in one SQLite transaction together with an outbox row; the outbox is
 * then sent to the stats queue, and an alarm re-sends whatever is left (at-least-once; consumers dedupe
 * on eventUid). Storage lives in ./storage, the per-log work in ./apply-log, decisions in src/domain. The
 * points lifecycle (lots, redemptions, expiries, tiers: ./points-changes, ./apply-redemption, ./tier-progress)
 * is decided here too; the same alarm expires lots and reviews the tier on time.
 */
export class UserState extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private readonly outbox: Outbox;
  /** False until this object stores something: an object for an unregistered user writes nothing at all. */
  private hasSchema = false;
  /** After D1 said this user is not registered, skip asking again for a short while (register() clears it). */
  private unknownUntil = 0;
  /** Once a log found the registration, later logs need not look again (registrations are never removed). */
  private registered = false;
  /** When the pending alarm fires (null: none is pending). */
  private alarmAt: number | null = null;
  /** Expired idempotency records are swept by the alarm at most once per IDEMPOTENCY_SWEEP_MS (lookups ignore them anyway). */
  private expiredAt = 0;
  /** Whether a log or a registration ran since this instance started (a first log may stand its alarm down: sendSoon). */
  private warm = false;
  /** The profile row as stored (this object is its only writer); undefined until read. */
  private profileRow: UserProfile | null | undefined = undefined;
  /** Once the ledger is complete (storage/ledger.ts), it is never copied from D1 again. */
  private ledgerDone = false;
  /** The ledger copy under way, which concurrent calls share. */
  private ledgerCopy: Promise<LedgerFillAnswer> | null = null;
  /** Once the object has no D1 seed left to import, it decides the stats flags itself (see statsReady). */
  private statsSeeded = false;
  /** The newest points policy held (storage/points-policy.ts); undefined until read. */
  private policy: PointsPolicy | undefined = undefined;
  /**
   * When points left in lots next expire; undefined until read, null: none. With the tier's review (held by
   * storage/tiers.ts), when points work is next due.
   */
  private lotsExpireAt: number | null | undefined = undefined;
  /**
   * The object's time for everything it decides (logs, expiries, tiers, idempotency). Tests replace it to run
   * the object at another moment (test/durable/points-helpers.ts): expiries and tier reviews cannot wait for
   * real time.
   */
  private clock: () => number = () => Date.now();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = tracedObjectSql(ctx.storage.sql, env);
    this.outbox = new Outbox(
      this.sql,
      () => tracedObjectQueue(this.env),
      // D1 first, R2 when D1 cannot take them: setting a row aside never depends on D1 alone.
      (rows) =>
        setAsideDeadLetters(
          this.env,
          OUTBOX_QUEUE_NAME,
          rows.map((row) => ({ messageId: row.eventUid, projectKey: row.projectKey, body: row.body, attempts: row.attempts, error: row.error })),
        ),
    );
    void ctx.blockConcurrencyWhile(async () => {
      this.start();
      this.alarmAt = await ctx.storage.getAlarm();
    });
  }

  /**
   * Reads what the first calls need in one statement (storage/start-state.ts) and holds it (the object is the
   * only writer of all of it). An object that stored nothing stays without storage; one with an older schema
   * is migrated first.
   */
  private start(): void {
    // Nothing held survives an instance (a runtime that reused the storage handle after a reset included).
    forgetHeld(this.sql);
    const state = readStartState(this.sql);
    if (state !== null && state.version >= USER_STATE_VERSION) this.hold(state);
    else if (!isPristine(this.sql)) this.migrate();
  }

  /** Holds what the start read found (see start): the profile, policy, next lot expiry, tier and the rest. */
  private hold(state: StartState): void {
    this.hasSchema = true;
    this.profileRow = state.profile;
    if (!state.seedPending) this.statsSeeded = true;
    this.policy = state.policy;
    this.lotsExpireAt = state.lotsExpireAt;
    holdTierState(this.sql, state.tier);
    this.ledgerDone = state.ledgerDone;
    this.outbox.started({ untried: state.outboxUntried, backingOff: state.outboxBackingOff });
  }

  /**
   * Registers the user (or updates its usergroups); the balance and counters are kept. A registration older
   * than the one stored is ignored. Returns the balance and the registration version now stored.
   */
  async register(registration: Registration): Promise<{ balance: number; registrationVersion: number }> {
    this.unknownUntil = 0;
    this.migrate();
    const registrationVersion = writeRegistration(this.sql, registration);
    this.profileRow = undefined;
    // A log right after a registration (a PUT, then the member's first events) finds the object warm: its alarm
    // stays armed across them instead of being stood down and armed again.
    this.warm = true;
    return { balance: this.storedProfile()?.balance ?? 0, registrationVersion };
  }

  /**
   * A member import (src/services/users.ts importMembers): registers the user as `register` does and, with an
   * `openingBalance` (points > 0), credits it at most once (apply-opening-balance.ts) under `policy`, the
   * project's. No I/O between the registration and the credit, so they commit together; concurrent imports and
   * logs of the user are serialized by the object, so a balance is never credited twice.
   */
  async importMember(registration: Registration, openingBalance: OpeningBalanceGrant | null, policy: PointsPolicy): Promise<ImportedMember> {
    const { balance, registrationVersion } = await this.register(registration);
    if (openingBalance === null) return { registrationVersion, balance, opening: null };
    const now = this.clock();
    const inForce = this.pointsReady(now, policy);
    const opening = this.inTransaction(() => applyOpeningBalance(this.sql, this.outbox, this.storedProfile()!, openingBalance, now, inForce));
    if (opening.kind === "credited") this.profileRow = undefined;
    return this.afterPointsChange({ registrationVersion, balance: this.storedProfile()!.balance, opening }, now);
  }

  /** Logs events for this user in order, each in its own transaction, then sends them to the stats queue. */
  async logEvents(projectKey: string, userId: string, commands: LogCommand[]): Promise<LogOutcome[]> {
    const cold = !this.warm;
    if (!this.registered) {
      if (!this.storedProfile() && !(await this.registerFromDatabase(projectKey, userId))) return commands.map(unregisteredOutcome);
      this.registered = true;
    }
    const now = this.clock();
    const statsReady = await this.statsReady(false);
    const policy = this.pointsReady(now, newestPolicy(commands.map((command) => (command.kind === "log" ? command.policy : undefined))));
    count("logsApplied", commands.length);
    const outcomes = commands.map((command) => {
      const outcome = this.inTransaction(() => applyLog(this.sql, this.outbox, command, now, this.storedProfile(), statsReady, policy));
      if (outcome.kind === "logged" && !outcome.replayed) this.profileRow = { ...this.profileRow!, balance: outcome.response.data.balance };
      return outcome;
    });
    // Logs only add lots, all expiring at the same instant (now, under the policy in force), so the next expiry
    // is the earlier of the one known and theirs; the tier's review is held in memory (storage/tiers.ts).
    // An instant too early (no lot was added after all) only makes the next call check, and read again.
    if (this.lotsExpireAt !== undefined && policy.expiry.mode !== "none" && outcomes.some((o) => o.kind === "logged" && !o.replayed)) {
      this.lotsExpireAt = earliest(this.lotsExpireAt, lotExpiresAt(now, policy.expiry, policy.timezone));
    }
    // The sweeps of expired records run in the alarm, which every logged event arms (sendSoon), or in the first
    // call after a start when that call stands its alarm down (see sendSoon).
    this.warm = true;
    if (this.outbox.hasUnsent()) await this.sendSoon(now, cold);
    this.armForPoints();
    return outcomes;
  }

  /**
   * Sends the outbox now, with an alarm as the backstop. The alarm is written in the same turn as the outbox
   * rows, so they commit together: a crash before the send still leaves an alarm that delivers the outbox.
   * (Answering before the send measured no faster locally; see BENCHMARKS.md.)
   *
   * The first call after the object started (`cold`: a member who logs a few times a day, each item of a batch
   * over many users) stands down the alarm it armed once everything it had to send went out: that alarm would
   * only start the object again 30 s later, after the runtime evicted it (10 s idle), to find nothing to do. Its
   * sweeps run now instead. Warm objects keep the alarm pending across their calls (one write per 30 s).
   */
  private async sendSoon(now: number, cold = false): Promise<void> {
    // An alarm that is already pending (soon enough) delivers these rows too: set one only when none is (one
    // storage write per user per retry interval, instead of one per log).
    const armedHere = this.alarmAt === null || this.alarmAt > now + OUTBOX_RETRY_MS;
    this.armAlarm(now + OUTBOX_RETRY_MS);
    await this.outbox.flush();
    if (cold && armedHere && !this.outbox.hasUnsent() && this.outbox.nextAttemptAt(now) === null) {
      this.sweep(now);
      this.alarmAt = null;
      void this.ctx.storage.deleteAlarm();
      count("doAlarmsStoodDown");
    }
  }

  /** Removes what is past its retention: idempotency records, acknowledged messages, old active days. */
  private sweep(now: number): void {
    pruneAcknowledged(this.sql, now);
    if (now - this.expiredAt > IDEMPOTENCY_SWEEP_MS) {
      expireIdempotencyRecords(this.sql, now);
      pruneActiveDays(this.sql, now);
      this.expiredAt = now;
    }
  }

  /**
   * Makes the alarm fire by `at`: sets it when none is pending or the pending one is later (an expiry months
   * away must not hold back an outbox retry). Not awaited: the write commits with the turn's other writes.
   */
  private armAlarm(at: number): void {
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    this.alarmAt = at;
    void this.ctx.storage.setAlarm(at);
    count("doAlarmsSet");
  }

  /** Arms the alarm for the next expiry or tier review, if any (read again after changes: pointsChanged). */
  private armForPoints(): void {
    if (!this.hasSchema) return;
    const dueAt = this.nextPointsDuty();
    if (dueAt !== null) this.armAlarm(dueAt);
  }

  /** The next points duty; the next lot expiry is read once until pointsChanged (null, "none", is an answer too). */
  private nextPointsDuty(): number | null {
    if (this.lotsExpireAt === undefined) this.lotsExpireAt = nextExpiry(this.sql);
    return nextPointsDuty(this.sql, this.lotsExpireAt);
  }

  /** Lots or the tier may have changed: the next points duty is read again. */
  private pointsChanged(): void {
    this.lotsExpireAt = undefined;
  }

  /**
   * Before a change or a read of the balance: applies the expiries and tier reviews due by `now` (each at its
   * own instant: points-changes.ts), and adopts `offered` if it is newer than the policy held (a new
   * ladder or zone re-evaluates the tier), then applies what that made due. Returns the policy in force.
   * Writes nothing when nothing is due and the policy is not new.
   */
  private pointsReady(now: number, offered?: PointsPolicy): PointsPolicy {
    const profile = this.storedProfile();
    if (!profile) return NO_POINTS_POLICY;
    const held = (this.policy ??= readPolicy(this.sql));
    const due = () => {
      const dueAt = this.nextPointsDuty();
      return dueAt !== null && dueAt <= now;
    };
    if (!due() && (!offered || offered.version <= held.version)) return held;
    // Only expiries move the balance and the lots here (a tier change moves no points): until one ran, the
    // profile and next lot expiry held stand, so adopting a new policy alone costs its write.
    let settled = false;
    const settle = (policy: PointsPolicy) => {
      settled = true;
      settleDuePoints(this.sql, this.outbox, readProfile(this.sql)!, policy, now);
      this.pointsChanged();
    };
    try {
      this.policy = this.inTransaction(() => {
        if (due()) settle(held);
        const inForce = adoptPolicy(this.sql, this.outbox, settled ? readProfile(this.sql)! : profile, held, offered, now);
        if (due()) settle(inForce);
        return inForce;
      });
    } catch (error) {
      settled = true;
      throw error;
    } finally {
      // After expiries, or a rollback, the balance and the next lot expiry are read again.
      if (settled) {
        this.profileRow = undefined;
        this.pointsChanged();
      }
    }
    return this.policy;
  }

  /** Adjusts the reward of one of the user's logged events (see applyAdjustment), then sends the change to the queue. */
  async adjust(command: AdjustCommand): Promise<AdjustOutcome> {
    if (!this.storedProfile()) return { kind: "not_registered" };
    const now = this.clock();
    const policy = this.pointsReady(now, command.policy);
    const outcome = this.inTransaction(() => applyAdjustment(this.sql, this.outbox, command, now, this.storedProfile(), policy));
    if (outcome.kind === "adjusted" && !outcome.replayed) this.profileRow = { ...this.profileRow!, balance: outcome.result.balance };
    return this.afterPointsChange(outcome, now);
  }

  /**
   * Redeems points (apply-redemption.ts): after the expiries due, exactly once per idempotency key, refused when
   * the balance is short. Each call decides in one transaction, so concurrent redemptions never overdraw.
   */
  async redeem(projectKey: string, userId: string, command: RedeemCommand): Promise<RedeemOutcome> {
    if (!this.storedProfile() && !(await this.registerFromDatabase(projectKey, userId))) return { kind: "not_registered" };
    const now = this.clock();
    this.pointsReady(now, command.policy);
    const outcome = this.inTransaction(() => applyRedemption(this.sql, this.outbox, command, now, this.storedProfile()));
    if (outcome.kind === "redeemed" && !outcome.replayed) this.profileRow = { ...this.profileRow!, balance: outcome.redemption.balance };
    return this.afterPointsChange(outcome, now);
  }

  /** Reverses a redemption once, giving its points back (apply-redemption.ts). */
  async reverseRedemption(projectKey: string, userId: string, command: ReverseCommand): Promise<ReverseOutcome> {
    if (!this.storedProfile() && !(await this.registerFromDatabase(projectKey, userId))) return { kind: "not_registered" };
    const now = this.clock();
    const policy = this.pointsReady(now, command.policy);
    const outcome = this.inTransaction(() => applyReversal(this.sql, this.outbox, command, now, this.storedProfile(), policy));
    if (outcome.kind === "reversed") this.profileRow = { ...this.profileRow!, balance: outcome.balance };
    return this.afterPointsChange(outcome, now);
  }

  /** The member's points history, newest first, before `cursor` (a seq); null when unregistered. */
  async pointsHistory(query: { cursor?: number; limit: number }): Promise<PointsHistoryPage | null> {
    if (!this.storedProfile()) return null;
    const now = this.clock();
    this.pointsReady(now);
    const limit = Math.max(1, Math.min(Math.trunc(query.limit) || 1, MAX_POINTS_HISTORY_PAGE));
    const page = readHistoryPage(this.sql, query.cursor, limit);
    return this.afterPointsChange(page, now);
  }

  /** After a call that may have written points changes: sends the outbox and arms the alarm for what is due next. */
  private async afterPointsChange<T>(outcome: T, now: number): Promise<T> {
    this.pointsChanged();
    if (this.outbox.hasUnsent()) await this.sendSoon(now);
    this.armForPoints();
    return outcome;
  }

  /**
   * Re-sends what is due in the outbox; while rows are left, reschedules itself for when the earliest is due
   * again (each row backs off on its own), never sooner than OUTBOX_RETRY_MS. Also prunes acknowledged
   * messages past their retention, and expires lots and reviews the tier when due: the alarm is always set for
   * the earliest of these duties (no scan of all users: each object wakes itself).
   */
  override async alarm(): Promise<void> {
    // The alarm that fired is no longer pending; a log arriving meanwhile arms the next one.
    this.alarmAt = null;
    if (!this.hasSchema) return;
    const now = this.clock();
    // Expiries and tier reviews due (the alarm's other duties), before the send, so their messages go with it.
    this.pointsReady(now);
    await this.outbox.flush();
    // Off the request path: every logged event arms this alarm (sendSoon), so the sweeps follow the logs.
    this.sweep(now);
    const next = this.outbox.nextAttemptAt(now);
    if (next !== null) this.armAlarm(Math.max(now + OUTBOX_RETRY_MS, next));
    this.pointsChanged();
    this.armForPoints();
  }

  /**
   * Reconciliation: the uids of the messages this object acknowledged (committed to its outbox) in [from, to]
   * (epoch ms, both included), oldest first, at most `limit` (MAX_ACKNOWLEDGED_PER_CALL). An object that never
   * stored anything answers none and stays without storage.
   */
  async acknowledgedBetween(from: number, to: number, limit: number = MAX_ACKNOWLEDGED_PER_CALL): Promise<AcknowledgedPage> {
    if (!this.hasSchema) return { uids: [], complete: true };
    pruneAcknowledged(this.sql, Date.now());
    return acknowledgedBetween(this.sql, from, to, Math.max(1, Math.min(limit, MAX_ACKNOWLEDGED_PER_CALL)));
  }

  /**
   * Reconciliation: sends again, through the outbox (same retries, backoff and alarm), the messages with these
   * uids that this object acknowledged in [from, to] (at most MAX_ACKNOWLEDGED_PER_CALL). Consumers deduplicate
   * on the uid, so re-sending one that arrived meanwhile changes nothing. `queued`: put back in the outbox;
   * `waiting`: still in the outbox anyway; the rest are unknown here (or past retention).
   */
  async resendAcknowledged(uids: string[], from: number, to: number): Promise<{ queued: number; waiting: number }> {
    if (!this.hasSchema || uids.length === 0) return { queued: 0, waiting: 0 };
    const now = Date.now();
    const result = this.inTransaction(() => this.outbox.requeue(uids.slice(0, MAX_ACKNOWLEDGED_PER_CALL), from, to));
    if (result.queued > 0) await this.sendSoon(now);
    return result;
  }

  /**
   * The user's points profile: balance (after the expiries due), each given streak's summary under its current
   * rules, each given challenge's progress in its current period, the next expiries and the tier (under
   * `policy` when it is newer than the one held: it is adopted as with a command); null when unregistered.
   */
  async standing(streaks: StreakDefinition[], challenges: ChallengeDefinition[], policy?: PointsPolicy): Promise<UserStanding | null> {
    if (!this.storedProfile()) return null;
    const now = this.clock();
    const inForce = this.pointsReady(now, policy);
    const profile = this.storedProfile()!;
    const standing: UserStanding = {
      balance: profile.balance,
      streaks: streaks.map((streak) => ({ streakId: streak.streakId, summary: streakSummary(this.sql, streak) })),
      challenges: challenges.map((challenge) => currentChallenge(this.sql, challenge, now)),
      ...pointsStanding(this.sql, inForce, now),
    };
    return this.afterPointsChange(standing, now);
  }

  /**
   * The user's score on one board period (null without one): how a closed period, which keeps only its top
   * entries in D1, still answers this user's rank.
   */
  async boardScore(leaderboardId: string, calendar: string, period: number): Promise<{ score: number; reachedAt: number } | null> {
    if (!this.storedProfile()) return null;
    return readScore(this.sql, leaderboardId, calendar, period);
  }

  /**
   * The consumer, for logged events whose messages carry no stats flags (sent before objects decided them, or
   * while this object could not read its seed): records them like logs and answers their flags (see
   * answerStatsQuestion; the same answer every time for one event). Throws while the seed cannot be read, so
   * the consumer retries.
   */
  async resolveStats(questions: StatsQuestion[]): Promise<StatsAnswer[]> {
    this.migrate();
    await this.statsReady(true);
    return this.ctx.storage.transactionSync(() => questions.map((question) => answerStatsQuestion(this.sql, question)));
  }

  /**
   * The cron, moving D1's seeds into objects: imports this user's seed unless the object has one already or
   * decided flags without one (a user created after the migration). An object that never stored anything stays
   * empty. True when this object needs the seed no more (the caller deletes it from D1).
   */
  async importStatsSeed(seed: StatsSeed): Promise<boolean> {
    if (!this.hasSchema) return true;
    if (!this.statsSeeded && seedPending(this.sql)) this.ctx.storage.transactionSync(() => importSeed(this.sql, seed));
    this.statsSeeded = true;
    return true;
  }

  /**
   * A page of the user's ledger (storage/ledger.ts). `accountId`, when the caller names one, must be this user's
   * (else `other_account`: a user token asking for another account). Until an object that held its user before
   * the ledger existed has copied the older entries from D1 (fillLedger), it answers `filling`.
   */
  async ledgerPage(query: LedgerReadQuery & { accountId?: number }): Promise<LedgerPageAnswer> {
    const profile = this.storedProfile();
    if (!profile) return { kind: "not_registered" };
    if (query.accountId !== undefined && query.accountId !== profile.accountId) return { kind: "other_account", accountId: profile.accountId };
    if (!(await this.fillLedger()).done) return { kind: "filling", accountId: profile.accountId };
    return { kind: "page", accountId: profile.accountId, ...readLedgerPage(this.sql, profile, query) };
  }

  /** One entry of the user's ledger by its loyalty id; `none` when the ledger has no such entry. */
  async ledgerEntry(id: number): Promise<LedgerEntryAnswer> {
    const profile = this.storedProfile();
    if (!profile) return { kind: "not_registered" };
    if (!(await this.fillLedger()).done) return { kind: "filling" };
    const row = ledgerEntry(this.sql, profile, id);
    return row ? { kind: "entry", row: { ...row, userId: profile.userId } } : { kind: "none" };
  }

  /**
   * Completes the ledger of an object that held its user before the ledger existed: copies the user's entries
   * from before (D1 event_log, the account's loyalty ids below 2^24) in pages of FILL_PAGE_ROWS, at most `pages`
   * a call (the next call goes on), then the adjustments it acknowledged. Not complete while an event it
   * acknowledged before is still on its way to D1. Runs on first use (a ledger read) and from the cron's walk
   * (src/services/ledger-fill.ts); an object that stored nothing, or was created with the ledger, has nothing to copy.
   */
  async fillLedger(pages = FILL_PAGES_PER_CALL): Promise<LedgerFillAnswer> {
    if (this.ledgerDone) return { done: true, copied: true, rows: 0 };
    const profile = this.storedProfile();
    if (!profile) return { done: true, copied: true, rows: 0 };
    this.ledgerCopy ??= this.copyLedger(profile, pages).finally(() => {
      this.ledgerCopy = null;
    });
    return this.ledgerCopy;
  }

  private async copyLedger(profile: UserProfile, pages: number): Promise<LedgerFillAnswer> {
    let fill = ledgerFill(this.sql);
    let copied = fill.done;
    let rows = 0;
    try {
      for (let page = 0; !copied && page < pages; page++) {
        const batch = await legacyLedgerRows(this.env.DB, profile.projectKey, profile.accountId, fill.afterId, FILL_PAGE_ROWS);
        this.ctx.storage.transactionSync(() => copyLedgerRows(this.sql, batch));
        rows += batch.length;
        copied = batch.length < FILL_PAGE_ROWS;
        fill = ledgerFill(this.sql);
      }
    } catch (error) {
      console.error("copying the ledger from D1 failed; the next use goes on", error);
      return { done: false, copied: false, rows };
    }
    if (!fill.done && copied && legacyEventsInFlight(this.sql) === 0) {
      this.ctx.storage.transactionSync(() => completeLedgerFill(this.sql));
      fill = { ...fill, done: true };
    }
    this.ledgerDone = fill.done;
    return { done: fill.done, copied, rows };
  }

  /** Current state, for admin reads and tests. */
  async snapshot(): Promise<UserSnapshot> {
    if (!this.storedProfile()) return { registered: false, balance: 0, counters: {}, outbox: 0 };
    const now = this.clock();
    this.pointsReady(now);
    await this.afterPointsChange(null, now);
    const profile = this.storedProfile()!;
    return { registered: true, balance: profile.balance, counters: allCounters(this.sql), outbox: this.outbox.size() };
  }

  /**
   * Whether this object can decide the stats flags: it has imported the D1 seed of its user, if any (an object
   * from before the flags reads it on first use: one D1 read, once). While D1 cannot answer, logs go on
   * without flags (the consumer asks for them later) unless `required`, which throws instead.
   */
  private async statsReady(required: boolean): Promise<boolean> {
    if (this.statsSeeded || !this.hasSchema) return true;
    const profile = this.storedProfile();
    if (!seedPending(this.sql) || !profile) {
      this.statsSeeded = true;
      return true;
    }
    let seed: StatsSeed | null;
    try {
      seed = await readSeed(this.env.DB, profile.projectKey, profile.userId);
    } catch (error) {
      if (required) throw error;
      console.error("stats seed unreadable; logging without stats flags", error);
      return false;
    }
    // Another call may have imported it while this one waited for D1.
    if (!this.statsSeeded && seedPending(this.sql)) this.ctx.storage.transactionSync(() => importSeed(this.sql, seed));
    this.statsSeeded = true;
    if (seed) this.ctx.waitUntil(deleteSeeds(this.env.DB, [profile]).catch((error: unknown) => console.error("stats seed kept for the cron", error)));
    return true;
  }

  /** Brings the schema to the latest (creating it in a new object), then holds what the start read finds. */
  private migrate(): void {
    if (this.hasSchema) return;
    migrateUserState(this.ctx.storage);
    this.hasSchema = true;
    const state = readStartState(this.sql);
    if (state) this.hold(state);
  }

  private storedProfile(): UserProfile | null {
    if (!this.hasSchema) return null;
    if (this.profileRow === undefined) this.profileRow = readProfile(this.sql);
    return this.profileRow;
  }

  /**
   * Runs one change in a transaction. A LogRefused rolls it back and answers its outcome; any failure also
   * forgets what the change put in the outbox's memory (its rows were rolled back with it).
   */
  private inTransaction<T>(change: () => T): T {
    const mark = this.outbox.mark();
    try {
      return this.ctx.storage.transactionSync(change);
    } catch (error) {
      this.outbox.rollback(mark);
      forgetHeld(this.sql);
      if (error instanceof LogRefused) return error.outcome as T;
      throw error;
    }
  }

  /** Heals a registration whose Durable Object write was lost after the D1 write; unknown users stay unknown. */
  private async registerFromDatabase(projectKey: string, userId: string): Promise<boolean> {
    if (Date.now() < this.unknownUntil) return false;
    const user = await findUser(getDb(this.env.DB), projectKey, userId);
    if (!user) {
      this.unknownUntil = Date.now() + UNKNOWN_USER_RECHECK_MS;
      return false;
    }
    if (this.storedProfile()) return true;
    // A member imported and not used since (README "Member import"): created now, with its opening balance dated
    // at the import and lots expiring under the project's policy (the catalogue's, cached per isolate).
    const opening = openingBalanceOf(user);
    if (opening === null) await this.register(user);
    else await this.importMember(user, opening, (await projectCatalogue(getDb(this.env.DB), projectKey)).points.policy);
    return true;
  }
}

/** The newest (highest version) of the policies commands carried, if any carried one. */
function newestPolicy(policies: ReadonlyArray<PointsPolicy | undefined>): PointsPolicy | undefined {
  let newest: PointsPolicy | undefined;
  for (const policy of policies) if (policy && (!newest || policy.version > newest.version)) newest = policy;
  return newest;
}
