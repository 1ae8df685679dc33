import { readQuotaUsage, writeQuotaOverrides, type QuotaOverrides } from "../db/quotas";
import { ApiError, isStorageOutage } from "../http/errors";
import { TtlCache } from "../lib/ttl-cache";

/**
 * Per-project quotas: events per UTC day (by the event's timestamp) and bytes stored in the event log. The
 * deployment's defaults come from PROJECT_EVENTS_PER_DAY and PROJECT_STORED_BYTES; the operator sets a project's
 * own (PUT /v1/operator/projects/{projectKey}/quotas).
 *
 * Enforcement keeps the log path free of D1 writes: each isolate reads a project's quotas and usage (one D1
 * statement over a few primary-key rows) at most every QUOTA_REFRESH_MS, adds what it logged itself since, and
 * refuses past a quota. The usage comes from what the queue consumer wrote, so enforcement lags by this
 * interval plus the consumer's delay: other isolates' logs of the last few seconds are not yet counted.
 */
export const QUOTA_REFRESH_MS = 5_000;

const DAY_MS = 86_400_000;

export type QuotaName = "eventsPerDay" | "storedBytes";
/** A quota in force: `limit` null is unlimited; `source` says whether the project has its own or the default. */
export type Quota = { limit: number | null; source: "default" | "project" };
export type Quotas = Record<QuotaName, Quota>;
type Limits = Record<QuotaName, number | null>;

/** The settings holding each quota's default. */
const DEFAULT_SETTINGS: Record<QuotaName, "PROJECT_EVENTS_PER_DAY" | "PROJECT_STORED_BYTES"> = {
  eventsPerDay: "PROJECT_EVENTS_PER_DAY",
  storedBytes: "PROJECT_STORED_BYTES",
};

const loggedProblems = new Set<string>();

/**
 * The deployment's default quotas: a whole number, or empty for unlimited. Anything else is a 500 naming the
 * setting (logged once per isolate) rather than a quota that silently turns itself off.
 */
export function defaultQuotas(env: Partial<Record<"PROJECT_EVENTS_PER_DAY" | "PROJECT_STORED_BYTES", string>>): Limits {
  const parse = (name: QuotaName): number | null => {
    const setting = DEFAULT_SETTINGS[name];
    const raw = (env[setting] ?? "").trim();
    if (raw === "") return null;
    if (/^\d{1,15}$/.test(raw)) return Number(raw);
    const problem = `${setting} must be empty (unlimited) or a whole number, not ${JSON.stringify(raw)}`;
    if (!loggedProblems.has(problem)) {
      loggedProblems.add(problem);
      console.error(`configuration error: ${problem}`);
    }
    throw new ApiError(500, `Server misconfigured: ${problem}`);
  };
  return { eventsPerDay: parse("eventsPerDay"), storedBytes: parse("storedBytes") };
}

const inForce = (overrides: QuotaOverrides, defaults: Limits): Quotas => {
  const one = (name: QuotaName): Quota =>
    overrides[name] === null ? { limit: defaults[name], source: "default" } : { limit: overrides[name], source: "project" };
  return { eventsPerDay: one("eventsPerDay"), storedBytes: one("storedBytes") };
};

export const utcDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
const nextUtcMidnight = (ms: number): number => Math.floor(ms / DAY_MS) * DAY_MS + DAY_MS;

/** What one isolate knows of a project: the D1 reading and what the isolate logged since. */
type Snapshot = {
  readAt: number;
  overrides: QuotaOverrides;
  eventsByDay: Map<string, number>;
  storedBytes: number;
  loggedByDay: Map<string, number>;
  loggedBytes: number;
};
/** Projects idle for 10 minutes are dropped; at most 1,000 are held. */
const snapshots = new TtlCache<string, Snapshot>(1_000, 600_000);
/** Days a snapshot keeps reading besides the ones a request asks for (backfills name past days). */
const MAX_REMEMBERED_DAYS = 31;

/** Readings of D1 under way, by project: concurrent requests share one instead of each reading D1. */
const reading = new Map<string, Promise<Snapshot>>();

async function snapshotFor(d1: D1Database, projectKey: string, days: readonly string[], now: number): Promise<Snapshot> {
  const covers = (snapshot: Snapshot) => days.every((day) => snapshot.eventsByDay.has(day));
  const cached = snapshots.get(projectKey, now);
  if (cached && now - cached.readAt < QUOTA_REFRESH_MS && covers(cached)) return cached;
  const pending = reading.get(projectKey);
  if (pending) {
    const shared = await pending;
    if (covers(shared)) return shared;
  }
  // After waiting, the base is whatever the cache holds now (the shared reading, with its days and counts).
  const read = readSnapshot(d1, projectKey, days, now, snapshots.get(projectKey, now) ?? cached);
  reading.set(projectKey, read);
  try {
    const snapshot = await read;
    // A quota written meanwhile dropped this reading (setProjectQuotas): it is answered, not kept.
    if (reading.get(projectKey) === read) snapshots.set(projectKey, snapshot, undefined, now);
    return snapshot;
  } finally {
    if (reading.get(projectKey) === read) reading.delete(projectKey);
  }
}

async function readSnapshot(d1: D1Database, projectKey: string, days: readonly string[], now: number, cached: Snapshot | undefined): Promise<Snapshot> {
  const remembered = [...(cached?.eventsByDay.keys() ?? [])].filter((day) => !days.includes(day)).slice(-MAX_REMEMBERED_DAYS);
  let usage: Awaited<ReturnType<typeof readQuotaUsage>>;
  try {
    usage = await readQuotaUsage(d1, projectKey, [...remembered, ...days]);
  } catch (error) {
    // D1 unavailable: quotas are soft limits and logging needs no D1, so an outage does not stop logs. The last
    // reading goes on counting (or, for a project this isolate never read, nothing is enforced); D1 is asked
    // again after QUOTA_REFRESH_MS.
    if (!isStorageOutage(error)) throw error;
    const held: Snapshot = cached ?? {
      readAt: now,
      overrides: { eventsPerDay: null, storedBytes: null, updatedAt: null },
      eventsByDay: new Map(),
      storedBytes: 0,
      loggedByDay: new Map(),
      loggedBytes: 0,
    };
    for (const day of days) if (!held.eventsByDay.has(day)) held.eventsByDay.set(day, 0);
    held.readAt = now;
    return held;
  }
  const snapshot: Snapshot = {
    readAt: now,
    overrides: usage.overrides,
    eventsByDay: usage.eventsByDay,
    storedBytes: usage.storedBytes,
    loggedByDay: new Map(),
    loggedBytes: 0,
  };
  return snapshot;
}

/** One event about to be logged: its UTC day (YYYY-MM-DD) and its estimated bytes in the log. */
export type QuotaItem = { day: string; bytes: number };

function eventsPerDayReached(limit: number, day: string, now: number): ApiError {
  const today = utcDay(now);
  // A day still running reopens at its end; a past day is full for good, and the next UTC day is a sensible bound.
  const reopensAt = day >= today ? Date.parse(`${day}T00:00:00.000Z`) + DAY_MS : nextUtcMidnight(now);
  const seconds = Math.max(1, Math.ceil((reopensAt - now) / 1000));
  const when = day >= today ? `it resets at ${new Date(reopensAt).toISOString()}` : "that day is past; the operator may raise the quota";
  return new ApiError(
    429,
    `Project quota eventsPerDay reached: ${limit} events dated ${day} (UTC) are logged; ${when} (retry after ${seconds} seconds)`,
    undefined,
    { "Retry-After": String(seconds) },
  );
}

const storedBytesReached = (limit: number, used: number): ApiError =>
  new ApiError(507, `Project quota storedBytes reached: about ${used} of ${limit} bytes are stored; the operator may raise the quota`);

/**
 * Checks events about to be logged against the project's quotas, in order: null for each one within them, else
 * the error refusing it (507 when the storage quota is reached: every item; 429 with Retry-After for the items
 * past the events-per-day quota of their day). Reads D1 at most every QUOTA_REFRESH_MS per project and isolate.
 */
export async function checkLogQuotas(env: Env, projectKey: string, items: readonly QuotaItem[], now = Date.now()): Promise<Array<ApiError | null>> {
  if (items.length === 0) return [];
  const defaults = defaultQuotas(env);
  const days = [...new Set([utcDay(now), ...items.map((item) => item.day)])];
  const snapshot = await snapshotFor(env.DB, projectKey, days, now);
  const quotas = inForce(snapshot.overrides, defaults);
  const storageLimit = quotas.storedBytes.limit;
  const storedBytes = snapshot.storedBytes + snapshot.loggedBytes;
  if (storageLimit !== null && storedBytes >= storageLimit) return items.map(() => storedBytesReached(storageLimit, storedBytes));
  const dayLimit = quotas.eventsPerDay.limit;
  if (dayLimit === null) return items.map(() => null);
  const admitted = new Map<string, number>();
  return items.map(({ day }) => {
    const used = (snapshot.eventsByDay.get(day) ?? 0) + (snapshot.loggedByDay.get(day) ?? 0) + (admitted.get(day) ?? 0);
    if (used >= dayLimit) return eventsPerDayReached(dayLimit, day, now);
    admitted.set(day, (admitted.get(day) ?? 0) + 1);
    return null;
  });
}

/** Counts events this isolate logged (new ones, not replays) until its next reading of the project's usage. */
export function countLogged(projectKey: string, items: readonly QuotaItem[]): void {
  const snapshot = snapshots.get(projectKey);
  if (!snapshot) return;
  for (const { day, bytes } of items) {
    snapshot.loggedByDay.set(day, (snapshot.loggedByDay.get(day) ?? 0) + 1);
    snapshot.loggedBytes += bytes;
  }
}

/** A project's quotas in force and its own settings, for the operator. */
export type ProjectQuotas = { projectKey: string; eventsPerDay: Quota; storedBytes: Quota; updatedAt: string | null };

export async function projectQuotas(env: Env, projectKey: string): Promise<ProjectQuotas> {
  const reading = await readQuotaUsage(env.DB, projectKey, []);
  return { projectKey, ...inForce(reading.overrides, defaultQuotas(env)), updatedAt: reading.overrides.updatedAt };
}

/** Sets a project's own quotas (null: the default). This isolate applies them at once, every other within QUOTA_REFRESH_MS. */
export async function setProjectQuotas(
  env: Env,
  projectKey: string,
  quotas: { eventsPerDay: number | null; storedBytes: number | null },
): Promise<ProjectQuotas> {
  const defaults = defaultQuotas(env);
  const stored = await writeQuotaOverrides(env.DB, projectKey, quotas);
  snapshots.delete(projectKey);
  reading.delete(projectKey);
  return { projectKey, ...inForce(stored, defaults), updatedAt: stored.updatedAt };
}

/** A project's use of each quota as D1 has it now (what enforcement sees, up to its lag). */
export async function projectUsage(env: Env, projectKey: string, now = Date.now()) {
  const today = utcDay(now);
  const reading = await readQuotaUsage(env.DB, projectKey, [today]);
  const quotas = inForce(reading.overrides, defaultQuotas(env));
  return {
    projectKey,
    day: today,
    eventsPerDay: { ...quotas.eventsPerDay, used: reading.eventsByDay.get(today) ?? 0, resetsAt: new Date(nextUtcMidnight(now)).toISOString() },
    storedBytes: { ...quotas.storedBytes, used: reading.storedBytes, events: reading.storedEvents },
    refreshSeconds: QUOTA_REFRESH_MS / 1000,
  };
}
