import {
  DEFAULT_POINTS_SETTINGS,
  PointsExpirySchema,
  TierLadderSchema,
  type PointsChangeMessage,
  type PointsExpiry,
  type PointsSettings,
  type TierLadder,
} from "../domain/points-lifecycle";
import { OPENING_BALANCE_UID_PREFIX } from "../domain/opening-balance";

/**
 * The points lifecycle's D1 tables (schema.ts `projectPointsSettings`, `pointsChanges`, `statsPointsDaily`): a
 * project's settings and tier ladder, each write bumping the definitions version in its transaction (the
 * catalogue's staleness check); the points changes the consumer ingests, once each; their daily aggregates.
 */

/** A project's points settings and ladder as stored; `version` is the project's definitions version read with them. */
export type StoredPointsSettings = { settings: PointsSettings; tiers: TierLadder | null; updatedAt: string | null; version: number };

type SettingsRow = { pointsExpiry: string; timezone: string; userTokensMayRedeem: number; tierLadder: string | null; updatedAt: string };

/** Stored documents were validated when written; parsing again applies defaults a later version adds. */
function fromRow(row: SettingsRow | null, version: number): StoredPointsSettings {
  if (!row) return { settings: DEFAULT_POINTS_SETTINGS, tiers: null, updatedAt: null, version };
  return {
    settings: {
      pointsExpiry: PointsExpirySchema.parse(JSON.parse(row.pointsExpiry)),
      timezone: row.timezone,
      userTokensMayRedeem: row.userTokensMayRedeem === 1,
    },
    tiers: row.tierLadder === null ? null : TierLadderSchema.parse(JSON.parse(row.tierLadder)),
    updatedAt: row.updatedAt,
    version,
  };
}

const SETTINGS_COLUMNS = `points_expiry AS pointsExpiry, timezone, user_tokens_may_redeem AS userTokensMayRedeem, tier_ladder AS tierLadder, updated_at AS updatedAt`;
const READ_SETTINGS = `SELECT ${SETTINGS_COLUMNS} FROM project_points_settings WHERE project_key = ?1`;
const READ_VERSION = `SELECT COALESCE((SELECT definitions_version FROM projects WHERE key = ?1), 0) AS version`;

/** One statement binding exactly the placeholders it uses (D1 counts parameters by the highest). */
function statement(d1: D1Database, sql: string, values: unknown[]): D1PreparedStatement {
  const highest = Math.max(0, ...[...sql.matchAll(/\?(\d+)/g)].map((m) => Number(m[1])));
  return d1.prepare(sql).bind(...values.slice(0, highest));
}

/** The project's settings and ladder, without the version (the catalogue reads the version first, see projectCatalogue). */
export async function readPointsSettings(d1: D1Database, projectKey: string, version: number): Promise<StoredPointsSettings> {
  return fromRow(await statement(d1, READ_SETTINGS, [projectKey]).first<SettingsRow>(), version);
}

/** The project's settings and ladder with the definitions version (one round trip): what the admin routes answer. */
export async function loadPointsSettings(d1: D1Database, projectKey: string): Promise<StoredPointsSettings> {
  const [row, version] = await d1.batch([statement(d1, READ_SETTINGS, [projectKey]), statement(d1, READ_VERSION, [projectKey])]);
  return fromRow((row!.results[0] as SettingsRow | undefined) ?? null, (version!.results[0] as { version: number }).version);
}

/**
 * A write of the settings row as one D1 batch (a transaction): `write` (bound to ?1 project, ?2 now, then its
 * own values from ?3), the version bump when the row now carries this write's `updated_at` (the write changed
 * something), and the state after it with the version.
 */
async function writeSettingsRow(d1: D1Database, projectKey: string, write: string, values: unknown[]): Promise<StoredPointsSettings & { changed: boolean }> {
  const all = [projectKey, new Date().toISOString(), ...values];
  const [written, , row, version] = await d1.batch([
    statement(d1, write, all),
    statement(
      d1,
      `UPDATE projects SET definitions_version = definitions_version + 1
       WHERE key = ?1 AND EXISTS (SELECT 1 FROM project_points_settings WHERE project_key = ?1 AND updated_at = ?2)`,
      all,
    ),
    statement(d1, READ_SETTINGS, all),
    statement(d1, READ_VERSION, all),
  ]);
  const stored = fromRow((row!.results[0] as SettingsRow | undefined) ?? null, (version!.results[0] as { version: number }).version);
  return { ...stored, changed: written!.meta.changes > 0 };
}

/** Sets the fields given (undefined: kept as stored, or the default for a new row). The project row must exist. */
export function upsertPointsSettings(
  d1: D1Database,
  projectKey: string,
  fields: { pointsExpiry?: PointsExpiry; timezone?: string; userTokensMayRedeem?: boolean },
): Promise<StoredPointsSettings & { changed: boolean }> {
  const expiry = fields.pointsExpiry === undefined ? null : JSON.stringify(fields.pointsExpiry);
  const mayRedeem = fields.userTokensMayRedeem === undefined ? null : fields.userTokensMayRedeem ? 1 : 0;
  return writeSettingsRow(
    d1,
    projectKey,
    `INSERT INTO project_points_settings (project_key, points_expiry, timezone, user_tokens_may_redeem, updated_at)
     VALUES (?1, COALESCE(?3, '{"mode":"none"}'), COALESCE(?4, 'UTC'), COALESCE(?5, 0), ?2)
     ON CONFLICT (project_key) DO UPDATE SET
       points_expiry = COALESCE(?3, points_expiry), timezone = COALESCE(?4, timezone),
       user_tokens_may_redeem = COALESCE(?5, user_tokens_may_redeem), updated_at = ?2`,
    [expiry, fields.timezone ?? null, mayRedeem],
  );
}

/** Sets the tier ladder. The project row must exist. */
export function upsertTierLadder(d1: D1Database, projectKey: string, ladder: TierLadder): Promise<StoredPointsSettings & { changed: boolean }> {
  return writeSettingsRow(
    d1,
    projectKey,
    `INSERT INTO project_points_settings (project_key, tier_ladder, updated_at) VALUES (?1, ?3, ?2)
     ON CONFLICT (project_key) DO UPDATE SET tier_ladder = excluded.tier_ladder, updated_at = ?2`,
    [JSON.stringify(ladder)],
  );
}

/** Removes the tier ladder; `changed` false (and nothing written) when the project had none. */
export function deleteTierLadder(d1: D1Database, projectKey: string): Promise<StoredPointsSettings & { changed: boolean }> {
  return writeSettingsRow(
    d1,
    projectKey,
    `UPDATE project_points_settings SET tier_ladder = NULL, updated_at = ?2 WHERE project_key = ?1 AND tier_ladder IS NOT NULL`,
    [],
  );
}

// ---- Points changes: ingestion, aggregates, reconciliation -------------------------------------------------

/** A points change as the consumer's statements read it (one JSON list bound to each). */
const storedChange = (c: PointsChangeMessage) => ({ changeUid: c.changeUid, projectKey: c.projectKey, change: c.change, points: c.points, at: c.at });

/**
 * Records points changes (idempotent on their uid: a redelivered change is not inserted again and keeps the token
 * of the batch that inserted it), then adds exactly the rows this batch inserted (tagged `batchToken`) to the
 * daily aggregates, per project and UTC day of the change (2 statements; run them in the ingest's batch).
 * `changes` must hold each uid once.
 */
export function recordPointsChanges(d1: D1Database, changes: readonly PointsChangeMessage[], batchToken: string, now: number): D1PreparedStatement[] {
  if (changes.length === 0) return [];
  const json = JSON.stringify(changes.map(storedChange));
  return [
    d1
      .prepare(
        `INSERT INTO points_changes (change_uid, project_key, change, points, at, ingest_batch, ingested_at)
         SELECT value ->> '$.changeUid', value ->> '$.projectKey', value ->> '$.change', value ->> '$.points', value ->> '$.at', ?2, ?3
         FROM json_each(?1) WHERE true
         ON CONFLICT (change_uid) DO NOTHING`,
      )
      .bind(json, batchToken, now),
    d1
      .prepare(
        `INSERT INTO stats_points_daily (project_key, day, redeemed, reversed, expired)
         SELECT p.project_key, substr(p.at, 1, 10) AS day,
                SUM(CASE p.change WHEN 'redeem' THEN p.points ELSE 0 END),
                SUM(CASE p.change WHEN 'reverse' THEN p.points ELSE 0 END),
                SUM(CASE p.change WHEN 'expire' THEN p.points ELSE 0 END)
           FROM json_each(?1) AS j JOIN points_changes p ON p.change_uid = j.value ->> '$.changeUid'
          WHERE p.ingest_batch = ?2 AND p.change != 'tier'
         GROUP BY p.project_key, day
         ON CONFLICT (project_key, day) DO UPDATE SET
           redeemed = redeemed + excluded.redeemed, reversed = reversed + excluded.reversed, expired = expired + excluded.expired`,
      )
      .bind(json, batchToken),
  ];
}

/** One day of the points stats: earned (the stats' points of every event), redeemed, reversed, expired, opening balances. */
export type PointsDayRow = { day: string; earned: number; redeemed: number; reversed: number; expired: number; opening: number };

/** The project's points per UTC day in [startDate, endDate] (days without any are absent), from aggregates only (one round trip). */
export async function readPointsDays(d1: D1Database, projectKey: string, startDate: string, endDate: string): Promise<PointsDayRow[]> {
  const [earned, spent] = await d1.batch<Record<string, unknown>>([
    d1
      .prepare("SELECT bucket AS day, points AS earned FROM stats_daily WHERE project_key = ?1 AND event_id = '*' AND bucket BETWEEN ?2 AND ?3")
      .bind(projectKey, startDate, endDate),
    d1
      .prepare("SELECT day, redeemed, reversed, expired, opening FROM stats_points_daily WHERE project_key = ?1 AND day BETWEEN ?2 AND ?3")
      .bind(projectKey, startDate, endDate),
  ]);
  const days = new Map<string, PointsDayRow>();
  const dayOf = (day: string) => days.get(day) ?? days.set(day, { day, earned: 0, redeemed: 0, reversed: 0, expired: 0, opening: 0 }).get(day)!;
  for (const row of earned!.results as Array<{ day: string; earned: number }>) dayOf(row.day).earned = row.earned;
  for (const row of spent!.results as Array<Omit<PointsDayRow, "earned">>) Object.assign(dayOf(row.day), row);
  return [...days.values()];
}

/** The first UTC day with points stats of any kind (for the period `all`), null when none. */
export async function firstPointsDay(d1: D1Database, projectKey: string): Promise<string | null> {
  const row = await d1
    .prepare(
      `SELECT MIN(day) AS day FROM (
         SELECT MIN(bucket) AS day FROM stats_daily WHERE project_key = ?1 AND event_id = '*'
         UNION ALL SELECT MIN(day) FROM stats_points_daily WHERE project_key = ?1)`,
    )
    .bind(projectKey)
    .first<{ day: string | null }>();
  return row?.day ?? null;
}

/**
 * The points stats of opening balances (member import), counted by D1 when the import stores them, not by the
 * users' objects (an imported member's object may be created much later): a points change `opening` per member
 * whose opening balance this import is the first to name (its `opening_balance_at` is the import's instant), keyed
 * by the account's one opening-balance uid so two imports never count one twice, then added to the day's
 * aggregate from exactly the rows inserted (`batchToken`). Two statements, for the import's D1 batch, after the
 * upsert of the users; the first returns the accounts whose opening balance this import counted (`accountId`).
 */
export function countImportedOpeningBalances(
  d1: D1Database,
  projectKey: string,
  userIds: readonly string[],
  nowIso: string,
  batchToken: string,
): D1PreparedStatement[] {
  if (userIds.length === 0) return [];
  return [
    d1
      .prepare(
        `INSERT INTO points_changes (change_uid, project_key, change, points, at, ingest_batch, ingested_at)
         SELECT ?4 || u.account_id, u.project_key, 'opening', u.opening_balance, u.opening_balance_at, ?5, ?6
         FROM json_each(?2) j JOIN users u ON u.project_key = ?1 AND u.user_id = j.value
         WHERE u.opening_balance IS NOT NULL AND u.opening_balance_at = ?3
         ON CONFLICT (change_uid) DO NOTHING
         RETURNING substr(change_uid, length(?4) + 1) AS accountId`,
      )
      .bind(projectKey, JSON.stringify(userIds), nowIso, OPENING_BALANCE_UID_PREFIX, batchToken, Date.parse(nowIso)),
    d1
      .prepare(
        `INSERT INTO stats_points_daily (project_key, day, opening)
         SELECT p.project_key, substr(p.at, 1, 10) AS day, SUM(p.points)
         FROM json_each(?2) j JOIN users u ON u.project_key = ?1 AND u.user_id = j.value
           JOIN points_changes p ON p.change_uid = ?3 || u.account_id
         WHERE p.ingest_batch = ?4
         GROUP BY p.project_key, day
         ON CONFLICT (project_key, day) DO UPDATE SET opening = opening + excluded.opening`,
      )
      .bind(projectKey, JSON.stringify(userIds), OPENING_BALANCE_UID_PREFIX, batchToken),
  ];
}
