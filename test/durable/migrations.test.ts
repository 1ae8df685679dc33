import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import type { LoggedEvent } from "../../src/domain/logged-event";
import { MAX_CHALLENGE_PROGRESS } from "../../src/domain/limits";
import { NO_POINTS_POLICY } from "../../src/domain/points-lifecycle";
import { migrateUserState, schemaVersion, USER_STATE_MIGRATIONS, USER_STATE_VERSION } from "../../src/durable/migrations";
import { newProject, purchaseDefinition, userObject } from "../helpers";
import { LOGGED } from "../log-rows";

/** The schema objects were created with before migrations existed, copied from the code of that time. */
const SCHEMA_BEFORE_MIGRATIONS = `
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
  CREATE INDEX IF NOT EXISTS idempotency_created ON idempotency (created_at);`;

/** An outbox row as the code before migrations wrote it: no ledger fields yet. */
type LegacyLoggedEvent = Omit<LoggedEvent, "ruleId" | "rewardType" | "rewardAmount" | "rewardCurrency" | "customerMessage">;

function pendingEvent(projectKey: string): LegacyLoggedEvent {
  const now = new Date().toISOString();
  return {
    eventUid: crypto.randomUUID(),
    projectKey,
    programId: 1,
    userId: "legacy",
    accountId: 1,
    eventId: "purchase_completed",
    definitionVersion: 1,
    eventType: "TRANSACTION",
    loyaltyEventType: null,
    metadata: { amount: 7 },
    occurredAt: now,
    recordedAt: now,
    points: 7,
    balanceBefore: 35,
    balanceAfter: 42,
    userGroupId: "default",
    conditionReached: true,
    limitReached: false,
    reward: { rate: 1, value: 7, uncappedPoints: 7, maximumReward: null, reasons: [] },
    idempotencyKey: "order-1",
  };
}

describe("user object migrations", () => {
  it("upgrades an object created before migrations without losing its data, and a second start applies nothing", async () => {
    const projectKey = newProject();
    const stub = userObject(projectKey, "legacy");
    const pending = pendingEvent(projectKey);
    const firstResponse = { statusCode: 200, message: "Event erfolgreich geloggt", data: { points: 7, balance: 42 } };
    const adjustmentResult = {
      eventUid: pending.eventUid,
      previousAmount: 7,
      newAmount: 0,
      pointsDelta: -7,
      balance: 35,
      adjustedAt: new Date().toISOString(),
    };
    // An object as the code before migrations left it: its tables and data, no schema_version.
    await runInDurableObject(stub, (_instance, state) => {
      const sql = state.storage.sql;
      sql.exec(SCHEMA_BEFORE_MIGRATIONS);
      sql.exec(
        "INSERT INTO profile (id, project_key, program_id, user_id, account_id, usergroups, balance) VALUES (1, ?, 1, 'legacy', 1, '[\"gold\"]', 42)",
        projectKey,
      );
      sql.exec("INSERT INTO limit_counters VALUES ('purchase_completed', 'lifetime', 3), ('daily_login', '2026-11-24', 1)");
      sql.exec("INSERT INTO idempotency VALUES ('order-1', 'hash-1', ?, ?)", JSON.stringify(firstResponse), Date.now());
      // Adjustment keys shared the table under `adjustment:`; a log could take such a key too.
      sql.exec("INSERT INTO idempotency VALUES ('adjustment:refund-1', 'hash-adj', ?, ?)", JSON.stringify(adjustmentResult), Date.now());
      sql.exec("INSERT INTO idempotency VALUES ('adjustment:trick', 'hash-trick', ?, ?)", JSON.stringify(firstResponse), Date.now());
      sql.exec("INSERT INTO outbox VALUES (?, ?, ?)", pending.eventUid, JSON.stringify(pending), Date.now());
      // That code armed an alarm with every outbox row.
      return state.storage.setAlarm(Date.now() + 30_000);
    });

    await evictDurableObject(stub);
    expect(await stub.snapshot()).toEqual({
      registered: true,
      balance: 42,
      counters: { "purchase_completed/lifetime": 3, "daily_login/2026-11-24": 1 },
      outbox: 1,
    });
    const applied = await runInDurableObject(stub, (_instance, state) => ({
      versions: state.storage.sql.exec<{ version: number; applied_at: number }>("SELECT version, applied_at FROM schema_version ORDER BY version").toArray(),
      outbox: state.storage.sql.exec("SELECT attempts, last_error FROM outbox").toArray(),
      keys: state.storage.sql.exec("SELECT kind, key, request_hash FROM idempotency_keys ORDER BY kind, key").toArray(),
      oldTable: state.storage.sql.exec("SELECT name FROM sqlite_master WHERE name = 'idempotency'").toArray(),
    }));
    expect(applied.versions.map((v) => v.version)).toEqual(Array.from({ length: USER_STATE_VERSION }, (_, i) => i + 1));
    expect(applied.outbox).toEqual([{ attempts: 0, last_error: null }]);
    // Version 6: an adjustment's key (its stored answer is an adjustment's) moves to the adjustment namespace
    // without its prefix; a log that used an `adjustment:` key keeps it as a log key.
    expect(applied.keys).toEqual([
      { kind: "adjustment", key: "refund-1", request_hash: "hash-adj" },
      { kind: "log", key: "adjustment:trick", request_hash: "hash-trick" },
      { kind: "log", key: "order-1", request_hash: "hash-1" },
    ]);
    expect(applied.oldTable).toEqual([]);

    // The idempotency record still replays the first answer.
    const definition = { ...purchaseDefinition, eventId: "purchase_completed", status: "ACTIVE", version: 1 } as never;
    const logCommand = {
      kind: "log" as const,
      definition,
      metadata: { amount: 7 },
      occurredAt: new Date().toISOString(),
      streaks: [],
      challenges: [],
      leaderboards: [],
      fromUserToken: false,
    };
    const [replay] = await stub.logEvents(projectKey, "legacy", [{ ...logCommand, idempotencyKey: "order-1", requestHash: "hash-1" }]);
    expect(replay).toEqual({ kind: "logged", replayed: true, response: firstResponse });
    const [trickReplay] = await stub.logEvents(projectKey, "legacy", [{ ...logCommand, idempotencyKey: "adjustment:trick", requestHash: "hash-trick" }]);
    expect(trickReplay).toEqual({ kind: "logged", replayed: true, response: firstResponse });
    // The adjustment's retry still replays under its own key.
    const adjustment = await stub.adjust({
      eventUid: pending.eventUid,
      occurredAt: pending.occurredAt,
      rewardType: "LOYALTY_POINTS",
      originalAmount: 7,
      newAmount: 0,
      reason: "refund",
      allowNegativeBalance: false,
      pointsBoards: [],
      idempotencyKey: "refund-1",
      requestHash: "hash-adj",
    });
    expect(adjustment).toEqual({ kind: "adjusted", replayed: true, result: adjustmentResult });

    // The outbox row written before the upgrade is still delivered.
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    await vi.waitFor(
      async () => {
        const row = await env.DB.prepare(`SELECT points FROM ${LOGGED} WHERE event_uid = ?`).bind(pending.eventUid).first();
        expect(row).toEqual({ points: 7 });
      },
      { timeout: 15_000, interval: 100 },
    );

    // A second start applies nothing.
    await evictDurableObject(stub);
    expect((await stub.snapshot()).balance).toBe(42);
    const again = await runInDurableObject(stub, (_instance, state) => ({
      versions: state.storage.sql.exec<{ version: number; applied_at: number }>("SELECT version, applied_at FROM schema_version ORDER BY version").toArray(),
      appliedNow: migrateUserState(state.storage),
    }));
    expect(again.versions).toEqual(applied.versions);
    expect(again.appliedNow).toEqual([]);
  });

  it("brings challenge progress that overflowed to Infinity back to a finite bound (version 7)", async () => {
    const projectKey = newProject();
    const stub = userObject(projectKey, "summer");
    // An object at version 6, with a sum that overflowed (9e999 is Infinity in SQLite; shown as null).
    await runInDurableObject(stub, (_instance, state) => {
      const sql = state.storage.sql;
      expect(schemaVersion(sql)).toBe(0);
      for (let version = 1; version <= 6; version++) {
        sql.exec(USER_STATE_MIGRATIONS[version - 1]!);
        sql.exec("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)", version, Date.now());
      }
      sql.exec(
        "INSERT INTO profile (id, project_key, program_id, user_id, account_id, usergroups, balance) VALUES (1, ?, 1, 'summer', 1, '[]', 0)",
        projectKey,
      );
      sql.exec("INSERT INTO challenge_progress VALUES ('distance', 'once', 0, 9e999, 1), ('steps', 'once', 0, 12.5, NULL)");
      expect(sql.exec("SELECT progress FROM challenge_progress WHERE challenge_id = 'distance'").one().progress).toBe(Infinity);
    });
    await evictDurableObject(stub);
    expect((await stub.snapshot()).registered).toBe(true);
    const rows = await runInDurableObject(stub, (_instance, state) =>
      state.storage.sql.exec("SELECT challenge_id, progress, completed_at FROM challenge_progress ORDER BY challenge_id").toArray(),
    );
    expect(rows).toEqual([
      { challenge_id: "distance", progress: MAX_CHALLENGE_PROGRESS, completed_at: 1 },
      { challenge_id: "steps", progress: 12.5, completed_at: null },
    ]);
  });

  it("starts an outbox's rows over and counts them as acknowledged (version 9)", async () => {
    const projectKey = newProject();
    const stub = userObject(projectKey, "autumn");
    // An object at version 8 whose outbox row piled up attempts during an outage (the old counting).
    await runInDurableObject(stub, (_instance, state) => {
      const sql = state.storage.sql;
      expect(schemaVersion(sql)).toBe(0);
      for (let version = 1; version <= 8; version++) {
        sql.exec(USER_STATE_MIGRATIONS[version - 1]!);
        sql.exec("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)", version, Date.now());
      }
      sql.exec(
        "INSERT INTO profile (id, project_key, program_id, user_id, account_id, usergroups, balance) VALUES (1, ?, 1, 'autumn', 1, '[]', 0)",
        projectKey,
      );
      sql.exec("INSERT INTO outbox (event_uid, body, created_at, attempts, last_error) VALUES ('e-1', '{}', 1000, 7, 'queue down')");
    });
    await evictDurableObject(stub);
    expect((await stub.snapshot()).registered).toBe(true);
    const state = await runInDurableObject(stub, (_instance, state) => ({
      outbox: state.storage.sql.exec("SELECT event_uid, attempts, failed_sends, next_attempt_at FROM outbox").toArray(),
      acknowledged: state.storage.sql.exec("SELECT acked_at, event_uid, body FROM acknowledged").toArray(),
    }));
    expect(state.outbox).toEqual([{ event_uid: "e-1", attempts: 0, failed_sends: 0, next_attempt_at: 0 }]);
    expect(state.acknowledged).toEqual([{ acked_at: 1000, event_uid: "e-1", body: "{}" }]);
  });

  it("gives an existing member's balance one opening lot and history entry, so the points invariant holds from the start (version 12)", async () => {
    const projectKey = newProject();
    const members = { saver: 42, debtor: -5, empty: 0 };
    for (const [userId, balance] of Object.entries(members)) {
      await runInDurableObject(userObject(projectKey, userId), (_instance, state) => {
        const sql = state.storage.sql;
        expect(schemaVersion(sql)).toBe(0);
        for (let version = 1; version <= 11; version++) {
          sql.exec(USER_STATE_MIGRATIONS[version - 1]!);
          sql.exec("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)", version, Date.now());
        }
        sql.exec(
          "INSERT INTO profile (id, project_key, program_id, user_id, account_id, usergroups, balance) VALUES (1, ?, 1, ?, 1, '[]', ?)",
          projectKey,
          userId,
          balance,
        );
      });
    }
    const before = Date.now();
    const migrated = async (userId: string) => {
      const stub = userObject(projectKey, userId);
      await evictDurableObject(stub);
      expect((await stub.snapshot()).registered).toBe(true);
      return runInDurableObject(stub, (_instance, state) => ({
        lots: state.storage.sql.exec("SELECT points, remaining, expires_at, source, earned_at FROM point_lots").toArray(),
        history: state.storage.sql.exec("SELECT type, points, balance_after, reason, at FROM points_history").toArray(),
      }));
    };
    const saver = await migrated("saver");
    expect(saver.lots).toEqual([{ points: 42, remaining: 42, expires_at: null, source: "opening", earned_at: expect.any(Number) }]);
    expect(saver.history).toEqual([{ type: "earn", points: 42, balance_after: 42, reason: "opening balance", at: expect.any(Number) }]);
    // The lot and its history entry are stamped by two statements of the migration: the same instant, give or
    // take the milliseconds between them.
    expect(Math.abs((saver.history[0]!.at as number) - (saver.lots[0]!.earned_at as number))).toBeLessThan(1_000);
    expect(Math.abs((saver.lots[0]!.earned_at as number) - before)).toBeLessThan(60_000);
    // A negative balance (an overdrawing adjustment) is a debt: no lot, an opening `adjust` entry.
    const debtor = await migrated("debtor");
    expect(debtor.lots).toEqual([]);
    expect(debtor.history).toEqual([{ type: "adjust", points: -5, balance_after: -5, reason: "opening balance", at: expect.any(Number) }]);
    expect(await migrated("empty")).toEqual({ lots: [], history: [] });
    // The opening lot is spent like any other.
    const stub = userObject(projectKey, "saver");
    const redeemed = await stub.redeem(projectKey, "saver", {
      policy: NO_POINTS_POLICY,
      points: 40,
      reason: "gift",
      reference: null,
      metadata: {},
      idempotencyKey: "k",
      requestHash: "h",
    });
    expect(redeemed).toMatchObject({ kind: "redeemed", redemption: { balance: 2 } });
  });

  it("creates a new object's schema in one step, the same as the migration chain makes it", async () => {
    const projectKey = newProject();
    const fresh = userObject(projectKey, "fresh");
    await fresh.register({ projectKey, programId: 1, userId: "fresh", accountId: 1, usergroups: [], registrationVersion: 1 });
    // An object that went through every version one at a time (not pristine: it has the version table).
    const chained = userObject(projectKey, "chained");
    const steps = await runInDurableObject(chained, (_instance, state) => {
      expect(schemaVersion(state.storage.sql)).toBe(0);
      return migrateUserState(state.storage);
    });
    expect(steps).toEqual(Array.from({ length: USER_STATE_VERSION }, (_, i) => i + 1));
    const stored = (stub: typeof fresh) =>
      runInDurableObject(stub, (_instance, state) => ({
        schema: state.storage.sql.exec("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name").toArray(),
        versions: state.storage.sql.exec("SELECT version FROM schema_version ORDER BY version").toArray(),
        rows: ["stats_seed", "ledger_fill", "tier_state", "ledger_counts"].map((table) => state.storage.sql.exec(`SELECT * FROM ${table}`).toArray()),
      }));
    const [one, chain] = [await stored(fresh), await stored(chained)];
    expect(one.schema.length).toBeGreaterThan(10);
    expect(one).toEqual(chain);
  });

  it("stores nothing for a user nobody registered", async () => {
    const projectKey = newProject();
    const stub = userObject(projectKey, "ghost");
    const outcomes = await stub.logEvents(projectKey, "ghost", [
      { kind: "refused", refusal: { code: "unknown_event", eventId: "x" }, idempotencyKey: null, requestHash: null },
    ]);
    expect(outcomes).toEqual([{ kind: "refused", refusal: { code: "unknown_event", eventId: "x" } }]);
    expect(await stub.snapshot()).toEqual({ registered: false, balance: 0, counters: {}, outbox: 0 });
    const tables = await runInDurableObject(stub, (_instance, state) => state.storage.sql.exec("SELECT name FROM sqlite_master").toArray());
    expect(tables).toEqual([]);
  });
});
