import { sql } from "drizzle-orm";
import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/** ISO-8601 UTC timestamps are stored as text: they sort lexicographically and slice into hour/day/month buckets. */
const nowTimestamp = (column: string) => text(column).notNull().default(sql`(strftime('%Y-%m-%dT%H:%M:%fZ','now'))`);

/**
 * A tenant. Projects are implicit: the first admin write under a `projectId` claim creates the row.
 * `key` is the claim's string; `id` is the numeric id the loyalty ledger calls `loyaltyProgramId`.
 * `definitionsVersion` grows on every definition change so isolate caches can tell they are stale.
 */
export const projects = sqliteTable("projects", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  key: text("key").notNull().unique(),
  definitionsVersion: integer("definitions_version").notNull().default(0),
  createdAt: nowTimestamp("created_at"),
});

/**
 * Server keys. Only the SHA-256 of the key is stored; `keyPrefix` lets people recognise a key in listings.
 * `scopes` are what the key may do (src/domain/scopes.ts): keys made before scopes existed hold `admin`.
 * `allowedOrigins`, when not empty, binds a browser key to its sites. `lastUsedAt` is kept to the minute.
 */
export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    projectKey: text("project_key").notNull(),
    name: text("name").notNull(),
    keyHash: text("key_hash").notNull().unique(),
    keyPrefix: text("key_prefix").notNull(),
    createdAt: nowTimestamp("created_at"),
    revokedAt: text("revoked_at"),
    scopes: text("scopes", { mode: "json" }).$type<string[]>().notNull().default(sql`'["admin"]'`),
    allowedOrigins: text("allowed_origins", { mode: "json" }).$type<string[]>().notNull().default(sql`'[]'`),
    expiresAt: text("expires_at"),
    lastUsedAt: text("last_used_at"),
  },
  (t) => [index("api_keys_project").on(t.projectKey)],
);

/**
 * A project's HS256 signing keys; `id` is the `kid` tokens name in their header. The secret is stored
 * encrypted (AES-GCM, key derived from JWT_SECRET by HKDF): `secretCiphertext` is base64 of IV + ciphertext.
 */
export const signingKeys = sqliteTable(
  "signing_keys",
  {
    id: text("id").primaryKey(),
    projectKey: text("project_key").notNull(),
    name: text("name").notNull(),
    secretCiphertext: text("secret_ciphertext").notNull(),
    createdAt: nowTimestamp("created_at"),
    revokedAt: text("revoked_at"),
  },
  (t) => [index("signing_keys_project").on(t.projectKey)],
);

/**
 * A project's own identity provider: tokens whose `iss` (and `aud`, where set) match are verified against
 * `jwksUrl` and act in this project as user tokens. `audience` is "" when any audience is accepted; an
 * (issuer, audience) pair belongs to one project.
 */
export const projectIdentityProviders = sqliteTable(
  "project_identity_providers",
  {
    projectKey: text("project_key").primaryKey(),
    jwksUrl: text("jwks_url").notNull(),
    issuer: text("issuer").notNull(),
    audience: text("audience").notNull().default(""),
    userIdClaim: text("user_id_claim").notNull().default("sub"),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [uniqueIndex("project_identity_providers_issuer_audience").on(t.issuer, t.audience)],
);

/**
 * Event definitions; `document` is the JSON the API returns, `version` grows on every replace. `ruleId` is the
 * definition's numeric id (the ledger's `ruleId`), assigned once.
 */
export const eventDefinitions = sqliteTable(
  "event_definitions",
  {
    projectKey: text("project_key").notNull(),
    eventId: text("event_id").notNull(),
    version: integer("version").notNull(),
    status: text("status", { enum: ["ACTIVE", "INACTIVE"] }).notNull(),
    document: text("document", { mode: "json" }).notNull(),
    createdAt: nowTimestamp("created_at"),
    updatedAt: text("updated_at").notNull(),
    ruleId: integer("rule_id"),
  },
  (t) => [primaryKey({ columns: [t.projectKey, t.eventId] }), uniqueIndex("event_definitions_rule_id").on(t.ruleId)],
);

/** Registered users. `accountId` is assigned once and is the ledger's `loyaltyAccountId`. */
export const users = sqliteTable(
  "users",
  {
    accountId: integer("account_id").primaryKey({ autoIncrement: true }),
    projectKey: text("project_key").notNull(),
    userId: text("user_id").notNull(),
    usergroups: text("usergroups", { mode: "json" }).$type<string[]>().notNull(),
    attributes: text("attributes", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    /** Grows on every change of the registration; the user's object keeps the highest it was given. */
    registrationVersion: integer("registration_version").notNull().default(1),
    /** The registration version the user's object confirmed; below `registrationVersion` until it did. */
    objectVersion: integer("object_version").notNull().default(0),
    createdAt: nowTimestamp("created_at"),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("users_project_user").on(t.projectKey, t.userId),
    // Registrations the user's object has not confirmed: what the scheduled repair pushes again.
    index("users_unconfirmed").on(t.accountId).where(sql`object_version < registration_version`),
  ],
);

/**
 * The event log, written by the queue consumer. `eventUid` (assigned by the user's Durable Object) makes
 * inserts idempotent; `id` is the ledger's numeric loyalty event id. `ingestBatch` marks the consumer
 * batch that inserted the row, so aggregation counts exactly the rows that batch added.
 */
export const eventLog = sqliteTable(
  "event_log",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    eventUid: text("event_uid").notNull().unique(),
    projectKey: text("project_key").notNull(),
    programId: integer("program_id").notNull(),
    userId: text("user_id").notNull(),
    accountId: integer("account_id").notNull(),
    eventId: text("event_id").notNull(),
    definitionVersion: integer("definition_version").notNull(),
    eventType: text("event_type").notNull(),
    loyaltyEventType: text("loyalty_event_type"),
    metadata: text("metadata", { mode: "json" }).notNull(),
    occurredAt: text("occurred_at").notNull(),
    recordedAt: text("recorded_at").notNull(),
    points: integer("points").notNull(),
    balanceBefore: integer("balance_before").notNull(),
    balanceAfter: integer("balance_after").notNull(),
    userGroupId: text("user_group_id").notNull(),
    conditionReached: integer("condition_reached", { mode: "boolean" }).notNull(),
    limitReached: integer("limit_reached", { mode: "boolean" }).notNull(),
    reward: text("reward", { mode: "json" }).notNull(),
    idempotencyKey: text("idempotency_key"),
    // The ledger: the definition's numeric id, what the log awarded in its reward type (points, or money in
    // rewardCurrency) and the filled customer message, as logged.
    ruleId: integer("rule_id"),
    rewardType: text("reward_type").notNull().default("LOYALTY_POINTS"),
    rewardAmount: real("reward_amount").notNull().default(0),
    rewardCurrency: text("reward_currency"),
    customerMessage: text("customer_message"),
    // Adjustments (refunds, corrections) change the current amount; the logged amount stays in rewardAmount.
    adjustedRewardAmount: real("adjusted_reward_amount"),
    previousRewardAmount: real("previous_reward_amount"),
    updatedAt: text("updated_at"),
    adjustmentSeq: integer("adjustment_seq").notNull().default(0),
    /** The ledger's eventType: the definition's loyaltyEventType, else by the event's type. */
    ledgerType: text("ledger_type").generatedAlwaysAs(
      sql`COALESCE(loyalty_event_type, CASE WHEN event_type = 'TRANSACTION' THEN 'TRANSACTION_ASSESSMENT' ELSE 'CUSTOMER_CARD_DISPLAYED' END)`,
      { mode: "virtual" },
    ),
    ingestBatch: text("ingest_batch").notNull(),
    ingestedAt: nowTimestamp("ingested_at"),
  },
  // The ledger's filters and sorts each read an index range; rowid (id) is the last key of every index, so
  // "id breaks ties" is free.
  (t) => [
    index("event_log_project_time").on(t.projectKey, t.occurredAt),
    index("event_log_project_account_time").on(t.projectKey, t.accountId, t.occurredAt),
    index("event_log_project_type_time").on(t.projectKey, t.ledgerType, t.occurredAt),
    index("event_log_project_created").on(t.projectKey, t.recordedAt),
    index("event_log_project_account_created").on(t.projectKey, t.accountId, t.recordedAt),
    index("event_log_project_id").on(t.projectKey),
    index("event_log_project_account").on(t.projectKey, t.accountId),
    index("event_log_ingest_batch").on(t.ingestBatch),
  ],
);

/**
 * One shape for the hourly, daily and monthly aggregates. `eventId` '*' holds the project-wide totals. `users`
 * counts the distinct users of the bucket (daily and monthly rows; 0 in hourly ones), raised by the consumer
 * when a user's first event of the day or month arrives.
 */
const statsTable = (name: "stats_hourly" | "stats_daily" | "stats_monthly") =>
  sqliteTable(
    name,
    {
      projectKey: text("project_key").notNull(),
      eventId: text("event_id").notNull(),
      bucket: text("bucket").notNull(),
      count: integer("count").notNull(),
      points: integer("points").notNull(),
      conditionMet: integer("condition_met").notNull(),
      conditionFailed: integer("condition_failed").notNull(),
      limitReached: integer("limit_reached").notNull(),
      users: integer("users").notNull().default(0),
    },
    (t) => [primaryKey({ columns: [t.projectKey, t.eventId, t.bucket] })],
  );

export const statsHourly = statsTable("stats_hourly");
export const statsDaily = statsTable("stats_daily");
export const statsMonthly = statsTable("stats_monthly");

/**
 * Who was active on which day, per event and ('*') overall: the consumer inserts a row for a user's first event
 * of the day and raises the day's `users` in stats_daily by the rows its batch (`ingestBatch`) added. Rows
 * from before the column existed have none.
 */
export const statsDailyUsers = sqliteTable(
  "stats_daily_users",
  {
    projectKey: text("project_key").notNull(),
    eventId: text("event_id").notNull(),
    day: text("day").notNull(),
    userId: text("user_id").notNull(),
    ingestBatch: text("ingest_batch"),
  },
  (t) => [primaryKey({ columns: [t.projectKey, t.eventId, t.day, t.userId] }), index("stats_daily_users_batch").on(t.ingestBatch)],
);

/** Who was active in which month (YYYY-MM): like stats_daily_users, for stats_monthly's `users`. */
export const statsMonthlyUsers = sqliteTable(
  "stats_monthly_users",
  {
    projectKey: text("project_key").notNull(),
    eventId: text("event_id").notNull(),
    month: text("month").notNull(),
    userId: text("user_id").notNull(),
    ingestBatch: text("ingest_batch"),
  },
  (t) => [primaryKey({ columns: [t.projectKey, t.eventId, t.month, t.userId] }), index("stats_monthly_users_batch").on(t.ingestBatch)],
);

/**
 * Each user's last active day per event and ('*') overall, and the users per last active day: every standard
 * window ends today, so its unique users are the users last active on or after its first day, a sum over at
 * most the window's days whatever the number of users. Kept by the consumer (a user only moves forward).
 */
export const statsLastActive = sqliteTable(
  "stats_last_active",
  {
    projectKey: text("project_key").notNull(),
    eventId: text("event_id").notNull(),
    userId: text("user_id").notNull(),
    day: text("day").notNull(),
  },
  (t) => [primaryKey({ columns: [t.projectKey, t.eventId, t.userId] })],
);

export const statsUsersByLastDay = sqliteTable(
  "stats_users_by_last_day",
  {
    projectKey: text("project_key").notNull(),
    eventId: text("event_id").notNull(),
    day: text("day").notNull(),
    users: integer("users").notNull(),
  },
  (t) => [primaryKey({ columns: [t.projectKey, t.eventId, t.day] })],
);

/**
 * What could not be processed, kept so an admin can inspect and replay it: messages that exhausted their
 * queue retries or could not be parsed (`queue` is the queue's name), and outbox rows a user's object could
 * not send (`queue` = 'outbox', `messageId` = the event's eventUid). `projectKey` is null when the body does
 * not name a project; such rows are for operators only.
 */
export const deadLetters = sqliteTable(
  "dead_letters",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    queue: text("queue").notNull(),
    messageId: text("message_id").notNull().unique(),
    projectKey: text("project_key"),
    body: text("body").notNull(),
    attempts: integer("attempts").notNull(),
    error: text("error"),
    receivedAt: nowTimestamp("received_at"),
    replayedAt: text("replayed_at"),
  },
  (t) => [index("dead_letters_project").on(t.projectKey, t.id)],
);

/**
 * Streak (and, later, challenge and leaderboard) definitions: one table for the kinds of definition beside
 * event definitions. `document` is the JSON the API returns; `version` grows on every replace.
 */
export const gameDefinitions = sqliteTable(
  "game_definitions",
  {
    projectKey: text("project_key").notNull(),
    kind: text("kind").notNull(),
    definitionId: text("definition_id").notNull(),
    version: integer("version").notNull(),
    status: text("status", { enum: ["ACTIVE", "INACTIVE"] }).notNull(),
    document: text("document", { mode: "json" }).notNull(),
    createdAt: nowTimestamp("created_at"),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.projectKey, t.kind, t.definitionId] })],
);

/**
 * Each user's newest streak state, as the user's object reported it with its sequence number (`seq`): a
 * redelivered or reordered message with an older `seq` changes nothing. `aliveUntil` (epoch ms) is when the
 * streak breaks if the user logs nothing more.
 */
export const streakParticipants = sqliteTable(
  "streak_participants",
  {
    projectKey: text("project_key").notNull(),
    streakId: text("streak_id").notNull(),
    userId: text("user_id").notNull(),
    seq: integer("seq").notNull(),
    current: integer("current").notNull(),
    longest: integer("longest").notNull(),
    aliveUntil: integer("alive_until").notNull(),
  },
  (t) => [primaryKey({ columns: [t.projectKey, t.streakId, t.userId] })],
);

/**
 * Participants and their summed `current`, grouped by when their streak breaks: "alive now" is the rows with
 * `alive_until` after now, a handful whatever the number of participants. Kept by the consumer.
 */
export const streakAliveBuckets = sqliteTable(
  "streak_alive_buckets",
  {
    projectKey: text("project_key").notNull(),
    streakId: text("streak_id").notNull(),
    aliveUntil: integer("alive_until").notNull(),
    participants: integer("participants").notNull(),
    currentSum: integer("current_sum").notNull(),
  },
  (t) => [primaryKey({ columns: [t.projectKey, t.streakId, t.aliveUntil] })],
);

/** Participants per `longest` value: totals, the longest streak and the goal completion rate for any goal. */
export const streakLongestCounts = sqliteTable(
  "streak_longest_counts",
  {
    projectKey: text("project_key").notNull(),
    streakId: text("streak_id").notNull(),
    longest: integer("longest").notNull(),
    participants: integer("participants").notNull(),
  },
  (t) => [primaryKey({ columns: [t.projectKey, t.streakId, t.longest] })],
);

/**
 * Leaderboard standings: each user's newest absolute score per board and period, as the user's object reported
 * it with its sequence number (a redelivered or reordered message with an older `seq` changes nothing).
 * `calendar` is the board's period and time zone when the score was made (a changed calendar starts new
 * boards); `reachedAt` (epoch ms) orders equal scores: who got there first ranks first.
 */
export const leaderboardEntries = sqliteTable(
  "leaderboard_entries",
  {
    projectKey: text("project_key").notNull(),
    leaderboardId: text("leaderboard_id").notNull(),
    calendar: text("calendar").notNull(),
    period: integer("period").notNull(),
    userId: text("user_id").notNull(),
    score: integer("score").notNull(),
    reachedAt: integer("reached_at").notNull(),
    seq: integer("seq").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.projectKey, t.leaderboardId, t.calendar, t.period, t.userId] }),
    // The board's order, so a page is an index range whatever the number of participants.
    index("leaderboard_entries_order").on(t.projectKey, t.leaderboardId, t.calendar, t.period, sql`${t.score} DESC`, t.reachedAt, t.userId),
  ],
);

/** Users per score and board period: a rank is 1 + the users above, summed over distinct scores, not entries. */
export const leaderboardScoreCounts = sqliteTable(
  "leaderboard_score_counts",
  {
    projectKey: text("project_key").notNull(),
    leaderboardId: text("leaderboard_id").notNull(),
    calendar: text("calendar").notNull(),
    period: integer("period").notNull(),
    score: integer("score").notNull(),
    users: integer("users").notNull(),
  },
  (t) => [primaryKey({ columns: [t.projectKey, t.leaderboardId, t.calendar, t.period, t.score] })],
);

/** Participants per board period. */
export const leaderboardPeriods = sqliteTable(
  "leaderboard_periods",
  {
    projectKey: text("project_key").notNull(),
    leaderboardId: text("leaderboard_id").notNull(),
    calendar: text("calendar").notNull(),
    period: integer("period").notNull(),
    participants: integer("participants").notNull(),
  },
  (t) => [primaryKey({ columns: [t.projectKey, t.leaderboardId, t.calendar, t.period] })],
);

/** Logged events per account and ledger event type, kept by the consumer: the ledger's totals without a scan. */
export const ledgerCounts = sqliteTable(
  "ledger_counts",
  {
    projectKey: text("project_key").notNull(),
    accountId: integer("account_id").notNull(),
    ledgerType: text("ledger_type").notNull(),
    events: integer("events").notNull(),
  },
  (t) => [primaryKey({ columns: [t.projectKey, t.accountId, t.ledgerType] })],
);

/**
 * Reward adjustments as the consumer applied them (one row per adjustment, idempotent on its uid), so a
 * redelivered adjustment moves the stats once. `ingestBatch` marks the consumer batch that inserted it.
 */
export const ledgerAdjustments = sqliteTable(
  "ledger_adjustments",
  {
    adjustmentUid: text("adjustment_uid").primaryKey(),
    projectKey: text("project_key").notNull(),
    eventUid: text("event_uid").notNull(),
    seq: integer("seq").notNull(),
    previousAmount: real("previous_amount").notNull(),
    newAmount: real("new_amount").notNull(),
    pointsDelta: integer("points_delta").notNull(),
    reason: text("reason").notNull(),
    adjustedAt: text("adjusted_at").notNull(),
    ingestBatch: text("ingest_batch").notNull(),
  },
  (t) => [index("ledger_adjustments_batch").on(t.ingestBatch), index("ledger_adjustments_event").on(t.eventUid)],
);

/**
 * A project's own quotas, set by the deployment's operator (PUT /v1/operator/projects/{projectKey}/quotas). A
 * null column, or no row, means the deployment's default (PROJECT_EVENTS_PER_DAY, PROJECT_STORED_BYTES).
 */
export const projectQuotas = sqliteTable("project_quotas", {
  projectKey: text("project_key").primaryKey(),
  eventsPerDay: integer("events_per_day"),
  storedBytes: integer("stored_bytes"),
  updatedAt: text("updated_at").notNull(),
});

/**
 * What a project stores in the event log: its rows and their estimated bytes (src/db/quotas.ts,
 * `countStoredBytes`), added by the queue consumer from exactly the rows an ingest inserted (its batch token),
 * so a redelivery counts once. Read by the storage quota and GET /v1/admin/usage.
 */
export const projectUsage = sqliteTable("project_usage", {
  projectKey: text("project_key").primaryKey(),
  storedBytes: integer("stored_bytes").notNull(),
  events: integer("events").notNull(),
});
