/**
 * Every bound on input, in one place: each input is checked against these before any loop, storage write or
 * queue message touches it. The README's "Limits" section lists them.
 */

/** Request bodies: 64 KiB for every route, 2 MiB for the batch route (about 2 KiB per event for 1,000 events). */
export const MAX_BODY_BYTES = 64 * 1024;
export const MAX_BATCH_BODY_BYTES = 2 * 1024 * 1024;
/** Comparable APIs accept up to 1,000 events per ingest call. */
export const MAX_BATCH_EVENTS = 1000;
/** Member imports: 1,000 members a call, in up to 4 MiB (about 4 KiB of usergroups and attributes per member). */
export const MAX_IMPORT_MEMBERS = 1000;
export const MAX_IMPORT_BODY_BYTES = 4 * 1024 * 1024;
/** An imported opening balance, in points: the bound of the other point amounts a request sets (redemptions, adjustments). */
export const MAX_OPENING_BALANCE = 1_000_000_000_000;

/** JSON nesting (metadata, attributes, condition values): deeper values would exhaust the stack when cloned. */
export const MAX_JSON_DEPTH = 32;

/** Reward rates and TRANSACTION values: with both bounded, points stay exact integers. */
export const MAX_REWARD_RATE = 1e6;
export const MAX_TRANSACTION_VALUE = 1e9;
/**
 * A `sum` challenge adds at most MAX_TRANSACTION_VALUE per log (a larger value is refused, naming the field),
 * and its stored progress never exceeds this (above any target, which is at most 1e12): always finite.
 */
export const MAX_CHALLENGE_PROGRESS = 1e15;
/** Condition trees: groups nest at most 32 deep (like JSON values), with at most 1,000 groups and leaves. */
export const MAX_CONDITION_DEPTH = 32;
export const MAX_CONDITION_NODES = 1_000;
export const MAX_CONDITION_GROUP_SIZE = 100;
/** At most this many failed conditions are listed in `reasons` (a definition may have many leaves). */
export const MAX_CONDITION_REASONS = 10;

export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

/**
 * A logged event must fit a queue message (128 KB) together with the state updates it carries (at most a
 * few KB: one entry per streak, challenge or leaderboard it moved) and the queue's own envelope.
 */
export const MAX_QUEUE_MESSAGE_BYTES = 100_000;
/** Metadata stored per event (in the user's idempotency records, the queue and the D1 log). */
export const MAX_METADATA_BYTES = 32 * 1024;

/**
 * Date inputs: stats months from 1970-01 to the current month; no loop over days covers more than
 * MAX_WINDOW_DAYS (backfill reaches 10 years back, so `period=all` never needs more).
 */
export const EARLIEST_STATS_MONTH = "1970-01";
export const MAX_WINDOW_DAYS = 4_000;

/**
 * Leaderboard pages: up to 100 entries, starting at most 10,000 entries deep by `offset` (the index walk an
 * offset costs is bounded); deeper with the cursor of Link: rel="next", which costs the page alone.
 */
export const MAX_LEADERBOARD_OFFSET = 10_000;
/** Definitions per project: event definitions, and streaks, challenges and leaderboards each (every log reads the lists). */
export const MAX_EVENT_DEFINITIONS = 1_000;
export const MAX_GAME_DEFINITIONS_PER_KIND = 100;
/**
 * A project's definition documents (event, streak, challenge and leaderboard definitions together, as stored
 * JSON) in bytes: the whole catalogue is cached per isolate and read on every log, so it is bounded in size as
 * well as in count. Checked in the statement that writes a definition; a replace counts as total - old + new.
 */
export const MAX_CATALOGUE_BYTES = 1024 * 1024;
/** Usergroups in an event definition's `reward` map. */
export const MAX_REWARD_GROUPS = 100;
/**
 * Ledger pages: up to 100 items, starting at most 10,000 items deep by page number (page * size); deeper with
 * the cursor of Link: rel="next", which costs the page alone.
 */
export const MAX_LEDGER_OFFSET = 10_000;
/**
 * Ledger totals (X-Total-Count) that no aggregate answers are counted from the log up to this many; past it
 * the header says this number and X-Total-Count-Capped: true (at least this many).
 */
export const LEDGER_TOTAL_CAP = 10_000;
