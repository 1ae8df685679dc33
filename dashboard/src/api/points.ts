import { answer, bodyOf, type ApiClient } from "./client";
import { ApiFailure } from "./errors";
import type { PointsHistoryPage, PointsSettings, PointsSettingsInput, Redemption, RedemptionInput, Reversal, TierLadder, TierLadderInput } from "./types";

/** The points lifecycle calls the dashboard makes, typed through the client (README "Points lifecycle"). */

/** POST /v1/users/{userId}/redemptions: 201; `replayed` when the key had already redeemed this body (Idempotent-Replayed). */
export async function redeemPoints(
  client: ApiClient,
  userId: string,
  json: RedemptionInput,
  idempotencyKey: string,
): Promise<{ redemption: Redemption; replayed: boolean }> {
  const { body, headers } = await answer(
    client.v1.users[":userId"].redemptions.$post({ param: { userId }, header: { "idempotency-key": idempotencyKey }, json }),
  );
  return { redemption: body, replayed: headers.get("Idempotent-Replayed") === "true" };
}

/** POST /v1/users/{userId}/redemptions/{redemptionId}/reversal: the points go back, once (a second time is 409). */
export const reverseRedemption = (client: ApiClient, userId: string, redemptionId: string, reason: string): Promise<Reversal> =>
  bodyOf(client.v1.users[":userId"].redemptions[":redemptionId"].reversal.$post({ param: { userId, redemptionId }, json: { reason } }));

/** GET /v1/users/{userId}/points-history: a page, newest first, and the cursor of the next (older) one. */
export const listPointsHistory = (client: ApiClient, userId: string, options: { cursor?: string; limit: number }): Promise<PointsHistoryPage> =>
  bodyOf(
    client.v1.users[":userId"]["points-history"].$get({
      param: { userId },
      query: { limit: String(options.limit), ...(options.cursor ? { cursor: options.cursor } : {}) },
    }),
  );

/** GET /v1/admin/project/settings: the settings in force (the defaults when never set). */
export const getPointsSettings = (client: ApiClient): Promise<PointsSettings> => bodyOf(client.v1.admin.project.settings.$get());

/** PUT /v1/admin/project/settings: the fields sent replace the stored ones; answers the settings in force. */
export const putPointsSettings = (client: ApiClient, json: PointsSettingsInput): Promise<PointsSettings> =>
  bodyOf(client.v1.admin.project.settings.$put({ json }));

/** GET /v1/admin/tiers: the ladder, or null when the project has none (the API's 404). */
export async function getTierLadder(client: ApiClient): Promise<TierLadder | null> {
  try {
    return await bodyOf(client.v1.admin.tiers.$get());
  } catch (error) {
    if (error instanceof ApiFailure && error.status === 404) return null;
    throw error;
  }
}

/** PUT /v1/admin/tiers: 201 created, 200 replaced; answers the stored ladder (levels sorted by minPoints). */
export const putTierLadder = (client: ApiClient, json: TierLadderInput): Promise<TierLadder> => bodyOf(client.v1.admin.tiers.$put({ json }));

/** DELETE /v1/admin/tiers: 204; members have no tier from then on. */
export const deleteTierLadder = async (client: ApiClient): Promise<void> => {
  await answer(client.v1.admin.tiers.$delete());
};
