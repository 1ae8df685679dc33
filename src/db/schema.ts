import { sql } from "drizzle-orm";
import { DEFINITION_STATUSES } from "../domain/definition-vocabulary";
import { blob, index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

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
    status: text("status", { enum: DEFINITION_STATUSES }).notNull(),
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
    /**
     * The member's pseudonymous key in the R2 archive (src/services/archive.ts): 32 random hex digits, set when
     * the member's first event is archived. The only link from archived rows to the userId (migration 0010).
     */
    memberKey: text("member_key"),
    /**
     * The opening balance the member's first import with one brought (member import), and when; never changed
     * after. The member's object credits it once, dated then, when it is created (migration 0017).
     */
    openingBalance: integer("opening_balance"),
    openingBalanceAt: text("opening_balance_at"),
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
 * The event log: D1's recent window of the raw log, written by the queue consumer, for what is asked across
 * accounts (the ledger without `accountid`) and what the consumer, the archive, the window and reconciliation
 * need. Only the ledger's fields are kept (one account's ledger is its user's object's; the rest of a logged event
 * waits in `event_log_details` until archived), and compactly (migration 0013): the project's numeric id,
 * times as epoch ms, the ledger and reward types as codes (their position in LOYALTY_EVENT_TYPES and REWARD_TYPES),
 * a UUID uid as its 16 bytes (any other uid as its text), `metadata` null for `{}`. `eventUid` makes inserts
 * idempotent; `ledgerId` is the loyalty event id (assigned by the user's object; `id`, the log's own sequence in
 * the order rows arrived, for rows from before migration 0012). Rows are copied to the R2 archive in id order
 * (archive_batches) and, once archived, removed when older than the project's window (project_settings;
 * src/services/log-window.ts). README "The raw log's rows and indexes" lists the query each index serves.
 */
export const eventLog = sqliteTable(
  "event_log",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    eventUid: blob("event_uid").notNull().unique(),
    programId: integer("program_id").notNull(),
    accountId: integer("account_id").notNull(),
    /** The loyalty event id (src/domain/ledger.ts): from the user's object; the log's id for rows from before. */
    ledgerId: integer("ledger_id"),
    eventId: text("event_id").notNull(),
    /** The ledger's eventType as a code: the definition's loyaltyEventType, else by the event's type. */
    ledgerType: integer("ledger_type").notNull(),
    occurredAt: integer("occurred_at").notNull(),
    recordedAt: integer("recorded_at").notNull(),
    metadata: text("metadata"),
    // The ledger: the definition's numeric id, what the log awarded in its reward type (points, or money in
    // rewardCurrency) and the filled customer message, as logged.
    ruleId: integer("rule_id"),
    rewardType: integer("reward_type").notNull().default(0),
    rewardAmount: real("reward_amount").notNull().default(0),
    rewardCurrency: text("reward_currency"),
    customerMessage: text("customer_message"),
    // Adjustments (refunds, corrections) change the current amount; the logged amount stays in rewardAmount.
    adjustedRewardAmount: real("adjusted_reward_amount"),
    previousRewardAmount: real("previous_reward_amount"),
    updatedAt: integer("updated_at"),
    adjustmentSeq: integer("adjustment_seq").notNull().default(0),
  },
  // Across accounts each filter and sort reads one index range, with the loyalty id as the last key, so "id breaks
  // ties" is free: by event time, by type and event time, by createdAt, by id (unique: a loyalty id that came twice
  // fails the consumer's batch loudly). The time index also serves the window's deletion. The account ones hold
  // only the rows from before the objects kept the ledger (partial: no entry for anything logged since), for the
  // objects' copy of them and the D1 ledger of an account while its object copies (src/db/event-log.ts).
  (t) => [
    index("event_log_program_time").on(t.programId, t.occurredAt, t.ledgerId),
    index("event_log_program_type_time").on(t.programId, t.ledgerType, t.occurredAt, t.ledgerId),
    index("event_log_program_created").on(t.programId, t.recordedAt, t.ledgerId),
    uniqueIndex("event_log_program_id").on(t.programId, t.ledgerId),
    index("event_log_legacy_account").on(t.programId, t.accountId, t.ledgerId).where(sql`ledger_id < 16777216`),
    index("event_log_legacy_account_time").on(t.programId, t.accountId, t.occurredAt, t.ledgerId).where(sql`ledger_id < 16777216`),
    index("event_log_legacy_account_created").on(t.programId, t.accountId, t.recordedAt, t.ledgerId).where(sql`ledger_id < 16777216`),
  ],
);

/**
 * What only the consumer's aggregates and the archive read of a logged event, from its insert until it is archived
 * (migration 0013): written by the consumer beside the event-log row, in the same transaction, for the events
 * that batch inserted (tagged with its `ingestBatch`, so the aggregates add exactly those); deleted when the
 * archive batch holding the event is done. Holds a few minutes of events, whatever the window.
 */
export const eventLogDetails = sqliteTable(
  "event_log_details",
  {
    eventUid: text("event_uid").primaryKey(),
    ingestBatch: text("ingest_batch").notNull(),
    projectKey: text("project_key").notNull(),
    accountId: integer("account_id").notNull(),
    eventId: text("event_id").notNull(),
    ledgerType: text("ledger_type").notNull(),
    /** ISO, as logged: the aggregates' buckets are its prefixes. */
    occurredAt: text("occurred_at").notNull(),
    definitionVersion: integer("definition_version").notNull(),
    eventType: text("event_type").notNull(),
    points: integer("points").notNull(),
    balanceBefore: integer("balance_before").notNull(),
    balanceAfter: integer("balance_after").notNull(),
    userGroupId: text("user_group_id").notNull(),
    conditionReached: integer("condition_reached", { mode: "boolean" }).notNull(),
    limitReached: integer("limit_reached", { mode: "boolean" }).notNull(),
    reward: text("reward", { mode: "json" }).notNull(),
  },
  (t) => [index("event_log_details_batch").on(t.ingestBatch)],
);

/**
 * The account of each loyalty id from before the ledger moved into the users' objects (ids below 2^24, which do
 * not name their account): GET /v1/loyalty-events/{id} finds the user's object through it once the raw log's
 * window no longer holds the row. Filled by migration 0012 and a trigger on event_log for rows that arrive
 * without an id from an object; nothing logged since adds to it.
 */
export const ledgerLegacyIds = sqliteTable("ledger_legacy_ids", {
  id: integer("id").primaryKey(),
  accountId: integer("account_id").notNull(),
});

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
 * Users per last active day, per event and ('*') overall: every standard window ends today, so its unique
 * users are the users last active on or after its first day, a sum over at most the window's days whatever
 * the number of users. No row per user: each logged event's message says whether it moved its user's last
 * active day forward, and from which day (decided by the user's object); the consumer moves the user between
 * days by additions alone.
 */
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
 * What the per-user stats rows held for each user when migration 0009 dropped them, waiting to move into the
 * user's object: `active` = JSON `[[eventId, firstDay, lastDay], ...]` (ranges of consecutive active UTC days as
 * day numbers since 1970-01-01, '*' for any event), `streaks` = JSON `[[streakId, seq, current, longest,
 * aliveUntil], ...]`. Only shrinks: deleted once the object imported it (src/db/stats-seeds.ts).
 */
export const statsUserSeeds = sqliteTable(
  "stats_user_seeds",
  {
    projectKey: text("project_key").notNull(),
    userId: text("user_id").notNull(),
    active: text("active").notNull().default("[]"),
    streaks: text("streaks").notNull().default("[]"),
  },
  (t) => [primaryKey({ columns: [t.projectKey, t.userId] })],
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
    status: text("status", { enum: DEFINITION_STATUSES }).notNull(),
    document: text("document", { mode: "json" }).notNull(),
    createdAt: nowTimestamp("created_at"),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.projectKey, t.kind, t.definitionId] })],
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

/**
 * Participants per board period, and its closing (migration 0011). `endsAt` (epoch ms) is when the period ends
 * (null for period `all`, which never does). The scheduled job closes a period a grace period after it ended:
 * `closedAt` is when (the standings stop changing; the marker a `period_closed` notice can start from) and
 * `keptEntries` how many entries it keeps listing (its top 1,000); `trimmedAt` is when the entries below those
 * were all deleted (null while the job is still deleting them in chunks). `leaderboard_score_counts` is kept
 * whole, so totals and ranks stay answerable.
 */
export const leaderboardPeriods = sqliteTable(
  "leaderboard_periods",
  {
    projectKey: text("project_key").notNull(),
    leaderboardId: text("leaderboard_id").notNull(),
    calendar: text("calendar").notNull(),
    period: integer("period").notNull(),
    participants: integer("participants").notNull(),
    endsAt: integer("ends_at"),
    closedAt: integer("closed_at"),
    keptEntries: integer("kept_entries"),
    trimmedAt: integer("trimmed_at"),
    /**
     * When the period's `leaderboard.period_closed` webhook event was handed over with the consumer's webhook
     * fan-out (epoch ms; migration 0014); null until then, so each closed period is announced once.
     */
    announcedAt: integer("announced_at"),
  },
  (t) => [
    primaryKey({ columns: [t.projectKey, t.leaderboardId, t.calendar, t.period] }),
    // The periods still open, by when they end: what the job closes next (current periods and `all` only, once caught up).
    index("leaderboard_periods_open").on(t.endsAt).where(sql`closed_at IS NULL AND ends_at IS NOT NULL`),
    // Closed periods whose entries below the kept ones are still being deleted.
    index("leaderboard_periods_trimming").on(t.closedAt).where(sql`closed_at IS NOT NULL AND trimmed_at IS NULL`),
    // Closed periods whose leaderboard.period_closed event was not handed over yet (migration 0015).
    index("leaderboard_periods_unannounced").on(t.closedAt).where(sql`closed_at IS NOT NULL AND announced_at IS NULL`),
  ],
);

/**
 * Logged events per account and ledger event type, kept by the consumer for the accounts that had events before
 * the ledger moved into the users' objects (those with rows here before migration 0013; no row is added for
 * another account): the totals of an account's ledger read from D1 while its object copies its entries from before.
 * May be dropped once `legacyLedgersCopied` (src/services/ledger-fill.ts).
 */
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
    /** The archive batch that claimed the row (archive_batches.id); null until then (migration 0010). */
    archiveBatch: integer("archive_batch"),
  },
  (t) => [
    index("ledger_adjustments_batch").on(t.ingestBatch),
    index("ledger_adjustments_event").on(t.eventUid),
    // The rows no archive batch claimed yet, in rowid order: what the archive takes next.
    index("ledger_adjustments_unarchived").on(t.archiveBatch).where(sql`archive_batch IS NULL`),
    // A project's adjustments by time: what falls out of its raw-log window (src/services/log-window.ts).
    index("ledger_adjustments_project_time").on(t.projectKey, t.adjustedAt),
  ],
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

/**
 * The R2 archive's batches (src/services/archive.ts): a fixed range of event-log ids (`kind` 'events') or of
 * adjustment rowids claimed by the batch ('adjustments'), chosen before anything is written, so a run repeated
 * after a crash writes the same objects. At most one batch per kind is pending (`doneAt` null), leased by the
 * run working on it until `leasedUntil` (epoch ms). Event-log rows up to the newest done batch's `lastId` are
 * archived; an adjustment is archived once the batch in its `archive_batch` is done.
 */
export const archiveBatches = sqliteTable(
  "archive_batches",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    kind: text("kind", { enum: ["events", "adjustments"] }).notNull(),
    firstId: integer("first_id").notNull(),
    lastId: integer("last_id").notNull(),
    leasedUntil: integer("leased_until").notNull().default(0),
    rowCount: integer("row_count"),
    files: integer("files"),
    bytes: integer("bytes"),
    createdAt: text("created_at").notNull(),
    doneAt: text("done_at"),
  },
  (t) => [
    uniqueIndex("archive_batches_pending").on(t.kind).where(sql`done_at IS NULL`),
    index("archive_batches_done").on(t.kind).where(sql`done_at IS NOT NULL`),
  ],
);

/**
 * A project's settings set by the deployment's operator (PUT /v1/operator/projects/{projectKey}/settings).
 * `logWindowDays`: the days of raw log D1 keeps for the queries across accounts (null: the default, 90).
 */
export const projectSettings = sqliteTable("project_settings", {
  projectKey: text("project_key").primaryKey(),
  logWindowDays: integer("log_window_days"),
  updatedAt: text("updated_at").notNull(),
});

/**
 * A project's webhook endpoints (README "Webhooks"; at most 20 per project). `eventTypes` is the JSON array of
 * the types it receives. The signing secret is stored encrypted like signing keys' (src/auth/secret-box.ts, bound
 * to the project and endpoint id); after a rotation the previous one keeps signing beside it until
 * `previousSecretExpiresAt`. `failingSince` is the first failed attempt since the last success (null while
 * healthy): three days of failures disable the endpoint. `deliveriesTrimmedAt` is when the scheduled sweep last
 * held its deliveries to their per-endpoint cap (what it checks next). Times are epoch ms.
 */
export const webhookEndpoints = sqliteTable(
  "webhook_endpoints",
  {
    id: text("id").primaryKey(),
    projectKey: text("project_key").notNull(),
    url: text("url").notNull(),
    description: text("description").notNull().default(""),
    eventTypes: text("event_types", { mode: "json" }).$type<string[]>().notNull(),
    enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
    disabledReason: text("disabled_reason"),
    disabledAt: integer("disabled_at"),
    secretCiphertext: text("secret_ciphertext").notNull(),
    previousSecretCiphertext: text("previous_secret_ciphertext"),
    previousSecretExpiresAt: integer("previous_secret_expires_at"),
    failingSince: integer("failing_since"),
    deliveriesTrimmedAt: integer("deliveries_trimmed_at").notNull().default(0),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("webhook_endpoints_project").on(t.projectKey, t.createdAt), index("webhook_endpoints_trimmed").on(t.deliveriesTrimmedAt)],
);

/**
 * One webhook event for one endpoint, and its attempts so far. Unique on (endpoint, event id): a redelivered
 * fan-out never makes a second delivery. `payload` is the exact body sent (the event's JSON); `status` is
 * pending until an attempt succeeds or the retries end. `nextAttemptAt` (pending only) is when the next attempt
 * is due; while one runs it holds the attempt's lease, so a duplicate retry message finds nothing due.
 * `responseText` keeps at most 4 KiB of the last answer; `lastError` says why an attempt got no answer (timeout,
 * network). Kept 14 days, and at most 10,000 per endpoint. Times are epoch ms.
 */
export const webhookDeliveries = sqliteTable(
  "webhook_deliveries",
  {
    id: text("id").primaryKey(),
    endpointId: text("endpoint_id").notNull(),
    eventId: text("event_id").notNull(),
    eventType: text("event_type").notNull(),
    payload: text("payload").notNull(),
    status: text("status", { enum: ["pending", "succeeded", "failed"] }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    responseStatus: integer("response_status"),
    latencyMs: integer("latency_ms"),
    responseText: text("response_text"),
    lastError: text("last_error"),
    nextAttemptAt: integer("next_attempt_at"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("webhook_deliveries_endpoint_event").on(t.endpointId, t.eventId),
    // An endpoint's deliveries newest first, all or of one status (the list's pages, the per-endpoint cap).
    index("webhook_deliveries_endpoint_created").on(t.endpointId, t.createdAt, t.id),
    index("webhook_deliveries_endpoint_status").on(t.endpointId, t.status, t.createdAt, t.id),
    // Pending deliveries by when they are due: what the sweep re-sends when a retry message was lost.
    index("webhook_deliveries_due").on(t.nextAttemptAt).where(sql`status = 'pending'`),
    // Oldest first: what the retention deletes.
    index("webhook_deliveries_created").on(t.createdAt),
  ],
);

/**
 * A project's points lifecycle settings (README "Points lifecycle"; PUT /v1/admin/project/settings and
 * PUT /v1/admin/tiers): how lots earned from now on expire (`pointsExpiry`, JSON), the time zone of expiry dates
 * and tier windows, whether user tokens may redeem, and the tier ladder (JSON; null: no tiers). No row: the
 * defaults. Every write bumps `projects.definitions_version` in its transaction, so the catalogue (and the
 * `PointsPolicy` each command carries) follows within 5 s everywhere.
 */
export const projectPointsSettings = sqliteTable("project_points_settings", {
  projectKey: text("project_key").primaryKey(),
  pointsExpiry: text("points_expiry", { mode: "json" }).notNull().default(sql`'{"mode":"none"}'`),
  timezone: text("timezone").notNull().default("UTC"),
  userTokensMayRedeem: integer("user_tokens_may_redeem", { mode: "boolean" }).notNull().default(false),
  tierLadder: text("tier_ladder", { mode: "json" }),
  updatedAt: text("updated_at").notNull(),
});

/**
 * The points changes users' objects reported besides logs and adjustments (redemptions, reversals, expiries,
 * tier changes: the `points_change` queue message), one row per change, idempotent on its uid: the consumer
 * adds to the daily points stats exactly the rows its batch inserted (tagged `ingestBatch`), and
 * reconciliation finds acknowledged changes here. `at` is ISO (its first 10 characters: the UTC day);
 * `ingestedAt` (epoch ms) keeps a row past its project's raw-log window until a redelivery can no longer come.
 */
export const pointsChanges = sqliteTable(
  "points_changes",
  {
    changeUid: text("change_uid").primaryKey(),
    projectKey: text("project_key").notNull(),
    change: text("change", { enum: ["redeem", "reverse", "expire", "tier", "opening"] }).notNull(),
    points: integer("points").notNull(),
    at: text("at").notNull(),
    ingestBatch: text("ingest_batch").notNull(),
    ingestedAt: integer("ingested_at").notNull(),
  },
  // A project's changes by time: what falls out of its raw-log window (src/db/log-window.ts).
  (t) => [index("points_changes_project_time").on(t.projectKey, t.at)],
);

/**
 * Points redeemed, given back by reversals, expired, and brought over as opening balances (member imports) per
 * project and UTC day (of the change's `at`), added from exactly the points_changes rows a batch inserted: the
 * consumer's for the first three, the import's own for `opening`. Read by GET /v1/stats/points beside
 * stats_daily's points (earned).
 */
export const statsPointsDaily = sqliteTable(
  "stats_points_daily",
  {
    projectKey: text("project_key").notNull(),
    day: text("day").notNull(),
    redeemed: integer("redeemed").notNull().default(0),
    reversed: integer("reversed").notNull().default(0),
    expired: integer("expired").notNull().default(0),
    /** Opening balances credited by member imports (migration 0017). */
    opening: integer("opening").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.projectKey, t.day] })],
);
