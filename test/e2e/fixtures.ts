import { expectApi } from "./harness";

/** What the tests seed through the API: a purchase (1 point per EUR, 2 for gold), a daily login, four users. */
export const PURCHASE = {
  title: "Purchase completed",
  type: "TRANSACTION",
  rewardValueField: "amount",
  reward: { default: 1, gold: 2 },
  limit: 2,
  limitPeriod: "day",
  conditions: { type: "AND", conditions: [{ field: "amount", operator: "greater_than", value: 0 }] },
  metadataFields: [{ key: "amount", type: "number", required: true }],
  loyaltyEventType: "TRANSACTION_ASSESSMENT",
};
export const LOGIN = { title: "Daily login", reward: { default: 5 }, limit: 1, limitPeriod: "day" };
export const USERS: Record<string, string[]> = { alice: [], bob: ["gold"], carol: [], dave: [] };

export async function seedShop(admin: string, purchase: Record<string, unknown> = PURCHASE) {
  await expectApi(201, admin, "PUT", "/v1/admin/events/purchase_completed", purchase);
  await expectApi(201, admin, "PUT", "/v1/admin/events/daily_login", LOGIN);
  for (const [userId, usergroups] of Object.entries(USERS)) await expectApi(201, admin, "PUT", `/v1/admin/users/${userId}`, { usergroups });
}

export type Logged = { data: { points: number; limitReached: boolean; balance: number } };

/** POST /v1/event as the backend would; returns the points the API awarded. */
export async function logEvent(
  admin: string,
  eventId: string,
  userId: string,
  metadata?: Record<string, unknown>,
  timestamp?: string,
): Promise<Logged["data"]> {
  const answer = await expectApi<Logged>(200, admin, "POST", "/v1/event", {
    eventId,
    userId,
    ...(metadata ? { metadata } : {}),
    ...(timestamp ? { timestamp } : {}),
  });
  return answer.body.data;
}
