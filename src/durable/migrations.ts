/**
 * The user object's SQLite schema as ordered, numbered migrations. Version N is `USER_STATE_MIGRATIONS[N-1]`;
 * `schema_version` records what an object has applied, and each migration commits together with its version
 * row, so an object applies each migration exactly once. Never edit a shipped migration: append one.
 */
export const USER_STATE_MIGRATIONS: readonly string[] = [
  // 1: the schema objects were created with before migrations existed. IF NOT EXISTS: those objects already
  // have these tables (and their data), so for them version 1 only records itself.
  `CREATE TABLE IF NOT EXISTS profile (
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
   CREATE INDEX IF NOT EXISTS idempotency_created ON idempotency (created_at);`,
  // 2: failed sends are counted per outbox row, so a row that keeps failing can be set aside.
  `ALTER TABLE outbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE outbox ADD COLUMN last_error TEXT;`,
  // 3: streaks. `seq` numbers the user's logs, so consumers keep only the newest state they hear of; the
  // periods with a qualifying log per streak and calendar; and each streak's summary, recomputed when a
  // period is added or the rules changed.
  `ALTER TABLE profile ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
   CREATE TABLE streak_periods (
     streak_id TEXT NOT NULL, calendar TEXT NOT NULL, period INTEGER NOT NULL,
     PRIMARY KEY (streak_id, calendar, period)
   ) WITHOUT ROWID;
   CREATE TABLE streak_summaries (
     streak_id TEXT PRIMARY KEY, calendar TEXT NOT NULL, freezes_per_month INTEGER NOT NULL,
     current INTEGER NOT NULL, longest INTEGER NOT NULL, last_period INTEGER NOT NULL, alive_through INTEGER NOT NULL
   );`,
  // 4: challenges (progress per period, completed at most once) and leaderboard scores per period, with the
  // time each score was reached (ties rank by it).
  `CREATE TABLE challenge_progress (
     challenge_id TEXT NOT NULL, calendar TEXT NOT NULL, period INTEGER NOT NULL,
     progress REAL NOT NULL, completed_at INTEGER,
     PRIMARY KEY (challenge_id, calendar, period)
   ) WITHOUT ROWID;
   CREATE TABLE leaderboard_scores (
     leaderboard_id TEXT NOT NULL, calendar TEXT NOT NULL, period INTEGER NOT NULL,
     score INTEGER NOT NULL, reached_at INTEGER NOT NULL,
     PRIMARY KEY (leaderboard_id, calendar, period)
   ) WITHOUT ROWID;`,
  // 5: reward adjustments: each adjusted event's current amount, so the next adjustment moves the balance by
  // the difference to it.
  `CREATE TABLE reward_adjustments (event_uid TEXT PRIMARY KEY, amount REAL NOT NULL, adjusted_at INTEGER NOT NULL);`,
  // 6: log and adjustment idempotency keys in separate namespaces. Adjustment keys used to share the log keys'
  // table as `adjustment:<key>`, so a log with such a key blocked a later adjustment. A prefixed row whose
  // stored answer is an adjustment's (it has `adjustedAt`; a log's answer is the {statusCode, message, data}
  // envelope) becomes an adjustment key without the prefix; every other row stays a log key, unchanged.
  `CREATE TABLE idempotency_keys (
     kind TEXT NOT NULL CHECK (kind IN ('log', 'adjustment')), key TEXT NOT NULL,
     request_hash TEXT NOT NULL, response TEXT NOT NULL, created_at INTEGER NOT NULL,
     PRIMARY KEY (kind, key)
   );
   INSERT INTO idempotency_keys (kind, key, request_hash, response, created_at)
     SELECT
       CASE WHEN is_adjustment THEN 'adjustment' ELSE 'log' END,
       CASE WHEN is_adjustment THEN substr(key, 12) ELSE key END,
       request_hash, response, created_at
     FROM (
       SELECT *, (substr(key, 1, 11) = 'adjustment:'
                  AND CASE WHEN json_valid(response) THEN json_type(response, '$.adjustedAt') IS NOT NULL ELSE 0 END) AS is_adjustment
       FROM idempotency
     );
   DROP TABLE idempotency;
   CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);`,
  // 7: challenge progress stays finite: a sum could overflow to Infinity (shown as null). Stored progress is
  // now capped at MAX_CHALLENGE_PROGRESS (src/domain/limits.ts; written out here, as a shipped migration
  // never changes); rows above it are brought down to it.
  `UPDATE challenge_progress SET progress = 1e15 WHERE progress > 1e15;`,
  // 8: the registration's version (D1 users.registration_version): a register carrying an older version than
  // the one stored is ignored, so concurrent or retried registrations leave the newest in place. 0 for
  // registrations from before versions, so any versioned register replaces them.
  `ALTER TABLE profile ADD COLUMN registration_version INTEGER NOT NULL DEFAULT 0;`,
  // 9: outbox rows back off one by one, and what the object acknowledged is kept for reconciliation.
  // `failed_sends` counts every failed send of a row (its backoff grows with it); `attempts` keeps counting only
  // the failures a row is to blame for (it failed alone while other sends went through), which set it aside.
  // `next_attempt_at` 0: never tried; the partial index holds only rows that failed, so a healthy log's outbox
  // row costs no index write. `acknowledged`: every message the object committed to its outbox (logged
  // events, reward adjustments), with its body, kept ACKNOWLEDGED_RETENTION_MS (storage/acknowledged.ts); the
  // trigger records it in the statement that writes the outbox row, so nothing can write one without the other.
  // Rows already in an outbox start over (their old `attempts` also counted the sends that failed in outages)
  // and count as acknowledged.
  `ALTER TABLE outbox ADD COLUMN failed_sends INTEGER NOT NULL DEFAULT 0;
   UPDATE outbox SET attempts = 0;
   ALTER TABLE outbox ADD COLUMN next_attempt_at INTEGER NOT NULL DEFAULT 0;
   CREATE INDEX outbox_backoff ON outbox (next_attempt_at, created_at) WHERE next_attempt_at > 0;
   CREATE TABLE acknowledged (
     acked_at INTEGER NOT NULL, event_uid TEXT NOT NULL, body TEXT NOT NULL,
     PRIMARY KEY (acked_at, event_uid)
   ) WITHOUT ROWID;
   CREATE TRIGGER outbox_acknowledged AFTER INSERT ON outbox BEGIN
     INSERT OR IGNORE INTO acknowledged (acked_at, event_uid, body) VALUES (NEW.created_at, NEW.event_uid, NEW.body);
   END;
   INSERT INTO acknowledged (acked_at, event_uid, body) SELECT created_at, event_uid, body FROM outbox;`,
  // stats flags: the object decides distinct users and streak moves for the analytics (durable/stats-activity.ts),
  // so D1 keeps no row per user for them. `active_days`: the user's active UTC days per event id ('*': any) as
  // ranges of consecutive day numbers; `streak_reports`: the streak state the analytics were last told;
  // `stats_answers`: answers given for messages without flags, by event uid; `stats_seed.pending`: an object
  // that already had a user imports what D1's per-user rows held for it (D1 `stats_user_seeds`) before it
  // decides anything. A new object (no profile yet) has nothing to import.
  `CREATE TABLE active_days (
     event_id TEXT NOT NULL, first_day INTEGER NOT NULL, last_day INTEGER NOT NULL,
     PRIMARY KEY (event_id, first_day)
   ) WITHOUT ROWID;
   CREATE TABLE streak_reports (
     streak_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, current INTEGER NOT NULL, longest INTEGER NOT NULL, alive_until INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE TABLE stats_answers (event_uid TEXT PRIMARY KEY, answer TEXT NOT NULL) WITHOUT ROWID;
   CREATE TABLE stats_seed (id INTEGER PRIMARY KEY CHECK (id = 1), pending INTEGER NOT NULL);
   INSERT INTO stats_seed (id, pending) VALUES (1, EXISTS (SELECT 1 FROM profile));`,
  // the user's ledger: every logged event of the user with its reward as adjusted, by loyalty id
  // (storage/ledger.ts), times as epoch ms, the event type as a code (0 CUSTOMER_CARD_DISPLAYED,
  // 1 TRANSACTION_ASSESSMENT, 2 CARD_ASSIGNMENT), an index per filter and sort; entries per type
  // (`ledger_counts`) and per type and UTC day of the event (`ledger_days`, day number since 1970) for the
  // totals, kept by triggers; `ledger_fill`: an object that already had a user copies its older entries from D1
  // on first use (done = 0); a new object (no profile yet) has nothing to copy.
  `CREATE TABLE ledger (
     id INTEGER PRIMARY KEY, event_uid TEXT NOT NULL UNIQUE, event_id TEXT NOT NULL, type INTEGER NOT NULL,
     occurred_at INTEGER NOT NULL, recorded_at INTEGER NOT NULL, metadata TEXT NOT NULL, rule_id INTEGER,
     reward_type TEXT NOT NULL, reward_amount REAL NOT NULL, reward_currency TEXT, customer_message TEXT,
     adjusted_amount REAL, previous_amount REAL, updated_at INTEGER, adjustment_seq INTEGER NOT NULL DEFAULT 0
   );
   CREATE INDEX ledger_time ON ledger (occurred_at);
   CREATE INDEX ledger_created ON ledger (recorded_at);
   CREATE INDEX ledger_type ON ledger (type);
   CREATE INDEX ledger_type_time ON ledger (type, occurred_at);
   CREATE INDEX ledger_type_created ON ledger (type, recorded_at);
   CREATE TABLE ledger_counts (type INTEGER PRIMARY KEY, entries INTEGER NOT NULL);
   INSERT INTO ledger_counts (type, entries) VALUES (0, 0), (1, 0), (2, 0);
   CREATE TABLE ledger_days (
     type INTEGER NOT NULL, day INTEGER NOT NULL, entries INTEGER NOT NULL, PRIMARY KEY (type, day)
   ) WITHOUT ROWID;
   CREATE TRIGGER ledger_counted AFTER INSERT ON ledger BEGIN
     UPDATE ledger_counts SET entries = entries + 1 WHERE type = NEW.type;
     INSERT INTO ledger_days (type, day, entries) VALUES (NEW.type, NEW.occurred_at / 86400000, 1)
       ON CONFLICT (type, day) DO UPDATE SET entries = entries + 1;
   END;
   CREATE TRIGGER ledger_uncounted AFTER DELETE ON ledger BEGIN
     UPDATE ledger_counts SET entries = entries - 1 WHERE type = OLD.type;
     UPDATE ledger_days SET entries = entries - 1 WHERE type = OLD.type AND day = OLD.occurred_at / 86400000;
   END;
   CREATE TABLE ledger_fill (id INTEGER PRIMARY KEY CHECK (id = 1), after_id INTEGER NOT NULL, done INTEGER NOT NULL);
   INSERT INTO ledger_fill (id, after_id, done) VALUES (1, 0, NOT EXISTS (SELECT 1 FROM profile));`,
  // 12: the points lifecycle (src/domain/point-lots.ts, tiers.ts). `point_lots`: each earn's points (`source`
  // earn / adjust / reverse / opening, `reference` the loyalty event id or redemption id), what is left of them
  // and when that expires (epoch ms; null: never), spent oldest (lowest id) first; the partial indexes hold only
  // lots with points left. `points_history`: every change of the balance (and of the tier, with 0 points) with
  // the balance after it, by seq. `redemptions`: each redemption under its idempotency key, with the lots it
  // took from (`taken`, JSON [{lotId, points}]) and its reversal. `earned_days`: points earned per local day (in
  // the project's zone when earned), for tier windows. `tier_state`: the tier, since when, and when the object
  // re-evaluates it (`review_at`, its alarm). `points_policy`: the newest policy the Worker sent (by version).
  // An object that already held a member: its balance becomes one opening lot without expiry and one history
  // entry (`earn`, reason "opening balance"; `adjust` for a negative balance, which has no lot), so the
  // history's sum is the balance from the start.
  `CREATE TABLE point_lots (
     id INTEGER PRIMARY KEY, earned_at INTEGER NOT NULL, points INTEGER NOT NULL, remaining INTEGER NOT NULL,
     expires_at INTEGER, source TEXT NOT NULL, reference TEXT
   );
   CREATE INDEX point_lots_live ON point_lots (id, remaining) WHERE remaining > 0;
   CREATE INDEX point_lots_expiring ON point_lots (expires_at, remaining) WHERE remaining > 0 AND expires_at IS NOT NULL;
   CREATE TABLE points_history (
     seq INTEGER PRIMARY KEY,
     type TEXT NOT NULL CHECK (type IN ('earn', 'adjust', 'redeem', 'reverse', 'expire', 'tier')),
     at INTEGER NOT NULL, points INTEGER NOT NULL, balance_after INTEGER NOT NULL,
     reference TEXT, reason TEXT, details TEXT
   );
   CREATE TABLE redemptions (
     id TEXT PRIMARY KEY, idempotency_key TEXT NOT NULL UNIQUE, request_hash TEXT NOT NULL,
     points INTEGER NOT NULL, reason TEXT NOT NULL, reference TEXT, metadata TEXT NOT NULL,
     created_at INTEGER NOT NULL, balance_after INTEGER NOT NULL, taken TEXT NOT NULL,
     reversed_at INTEGER, reversal_reason TEXT
   ) WITHOUT ROWID;
   CREATE TABLE earned_days (day INTEGER PRIMARY KEY, points INTEGER NOT NULL) WITHOUT ROWID;
   CREATE TABLE tier_state (id INTEGER PRIMARY KEY CHECK (id = 1), tier_id TEXT, since INTEGER, review_at INTEGER);
   INSERT INTO tier_state (id, tier_id, since, review_at) VALUES (1, NULL, NULL, NULL);
   CREATE TABLE points_policy (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL, policy TEXT NOT NULL);
   INSERT INTO point_lots (earned_at, points, remaining, expires_at, source, reference)
     SELECT CAST(unixepoch('subsec') * 1000 AS INTEGER), balance, balance, NULL, 'opening', NULL FROM profile WHERE balance > 0;
   INSERT INTO points_history (type, at, points, balance_after, reference, reason, details)
     SELECT CASE WHEN balance > 0 THEN 'earn' ELSE 'adjust' END, CAST(unixepoch('subsec') * 1000 AS INTEGER), balance, balance,
       NULL, 'opening balance', NULL
     FROM profile WHERE balance <> 0;`,
];

export const USER_STATE_VERSION = USER_STATE_MIGRATIONS.length;

/**
 * True for an object that never stored anything. Such an object (say, for a user id nobody registered) is
 * left without a database until its first write: reading sqlite_master stores nothing.
 */
export function isPristine(sql: SqlStorage): boolean {
  return sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM sqlite_master WHERE name IN ('schema_version', 'profile')").one().n === 0;
}

const SCHEMA_VERSION_TABLE = "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)";

/** Every migration in order, as one script (each ends its last statement): a new object's schema. */
const LATEST_SCHEMA = USER_STATE_MIGRATIONS.map((migration) => (migration.trim().endsWith(";") ? migration : `${migration};`)).join("\n");

/** The highest migration this object applied (0 before any; objects from before versioning have tables but 0). */
export function schemaVersion(sql: SqlStorage): number {
  sql.exec(SCHEMA_VERSION_TABLE);
  return sql.exec<{ v: number | null }>("SELECT MAX(version) AS v FROM schema_version").one().v ?? 0;
}

/**
 * Applies the migrations this object has not applied yet; returns the versions applied. A brand-new object
 * (nothing stored, not even the tables of before versioning) gets the latest schema in one transaction: the
 * same migrations in order, but one commit and one version write instead of one each per version.
 */
export function migrateUserState(storage: DurableObjectStorage, now = Date.now()): number[] {
  const sql = storage.sql;
  const versions = (from: number) => Array.from({ length: USER_STATE_VERSION - from }, (_, i) => from + i + 1);
  if (isPristine(sql)) {
    const applied = versions(0);
    storage.transactionSync(() => {
      sql.exec(`${SCHEMA_VERSION_TABLE};\n${LATEST_SCHEMA}`);
      sql.exec("INSERT INTO schema_version (version, applied_at) SELECT value, ? FROM json_each(?)", now, JSON.stringify(applied));
    });
    return applied;
  }
  const applied = versions(schemaVersion(sql));
  for (const version of applied) {
    storage.transactionSync(() => {
      sql.exec(USER_STATE_MIGRATIONS[version - 1]!);
      sql.exec("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)", version, now);
    });
  }
  return applied;
}
