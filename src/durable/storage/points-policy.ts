import { NO_POINTS_POLICY, type PointsPolicy } from "../../domain/points-lifecycle";

/**
 * The newest points policy the Worker sent with a command (by version): the object's alarms need the zone and
 * the ladder between commands. Absent: NO_POINTS_POLICY.
 */

export function readPolicy(sql: SqlStorage): PointsPolicy {
  const row = sql.exec<{ policy: string }>("SELECT policy FROM points_policy WHERE id = 1").toArray()[0];
  return parsePolicy(row?.policy ?? null);
}

/** The stored policy's JSON (null: none stored) as the policy in force. */
export const parsePolicy = (json: string | null): PointsPolicy => (json === null ? NO_POINTS_POLICY : (JSON.parse(json) as PointsPolicy));

export function storePolicy(sql: SqlStorage, policy: PointsPolicy): void {
  sql.exec(
    "INSERT INTO points_policy (id, version, policy) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET version = excluded.version, policy = excluded.policy",
    policy.version,
    JSON.stringify(policy),
  );
}
