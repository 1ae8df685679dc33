import type { PointsChangeMessage } from "../domain/points-lifecycle";
import type { UserProfile } from "../domain/user";

/** A `points_change` message for the outbox. */
export function pointsChange(
  profile: UserProfile,
  seq: number,
  at: number,
  change: PointsChangeMessage["change"],
  fields: Pick<PointsChangeMessage, "points" | "balanceAfter" | "redemptionId" | "reason" | "tier">,
): PointsChangeMessage {
  return {
    kind: "points_change",
    changeUid: crypto.randomUUID(),
    projectKey: profile.projectKey,
    userId: profile.userId,
    accountId: profile.accountId,
    seq,
    change,
    at: new Date(at).toISOString(),
    ...fields,
  };
}
