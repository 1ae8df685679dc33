import type { PointsPolicy } from "../../domain/points-lifecycle";
import type { UserProfile } from "../../domain/user";
import { parsePolicy } from "./points-policy";
import { toProfile, type ProfileRow } from "./profile";
import type { TierState } from "./tiers";

/**
 * What an object reads when it starts, in one statement instead of one per part on its first calls: the schema
 * version, the profile, whether the stats seed is pending, the points policy, the next lot expiry, the tier, the
 * ledger copy's state, and whether the outbox holds rows from before (never tried, or backing off).
 */
export type StartState = {
  version: number;
  profile: UserProfile | null;
  seedPending: boolean;
  policy: PointsPolicy;
  lotsExpireAt: number | null;
  tier: TierState;
  ledgerDone: boolean;
  outboxUntried: boolean;
  outboxBackingOff: boolean;
};

type StartRow = Partial<ProfileRow> & {
  version: number | null;
  has_profile: number;
  seed_pending: number | null;
  policy: string | null;
  lots_expire_at: number | null;
  tier_id: string | null;
  since: number | null;
  review_at: number | null;
  ledger_done: number | null;
  outbox_untried: number;
  outbox_backing_off: number;
};

const START = `SELECT
    (SELECT MAX(version) FROM schema_version) AS version,
    p.id IS NOT NULL AS has_profile, p.project_key, p.program_id, p.user_id, p.account_id, p.usergroups, p.balance, p.registration_version,
    (SELECT pending FROM stats_seed WHERE id = 1) AS seed_pending,
    (SELECT policy FROM points_policy WHERE id = 1) AS policy,
    (SELECT MIN(expires_at) FROM point_lots WHERE remaining > 0 AND expires_at IS NOT NULL) AS lots_expire_at,
    t.tier_id, t.since, t.review_at,
    (SELECT done FROM ledger_fill WHERE id = 1) AS ledger_done,
    EXISTS (SELECT 1 FROM outbox WHERE next_attempt_at = 0) AS outbox_untried,
    EXISTS (SELECT 1 FROM outbox WHERE next_attempt_at > 0) AS outbox_backing_off
  FROM (SELECT 1) AS one LEFT JOIN profile AS p ON p.id = 1 LEFT JOIN tier_state AS t ON t.id = 1`;

/** The start state, or null when the object has not the tables this reads (nothing stored, or an older schema). */
export function readStartState(sql: SqlStorage): StartState | null {
  let row: StartRow;
  try {
    row = sql.exec<StartRow>(START).one();
  } catch {
    return null;
  }
  return {
    version: row.version ?? 0,
    profile: row.has_profile === 1 ? toProfile(row as ProfileRow) : null,
    seedPending: row.seed_pending === 1,
    policy: parsePolicy(row.policy),
    lotsExpireAt: row.lots_expire_at,
    tier: { tierId: row.tier_id, since: row.since, reviewAt: row.review_at },
    ledgerDone: row.ledger_done === 1,
    outboxUntried: row.outbox_untried === 1,
    outboxBackingOff: row.outbox_backing_off === 1,
  };
}
