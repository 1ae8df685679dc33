// The demo project `npm run dev` seeds once: a few event definitions and users in two usergroups.
export const DEMO_DEFINITIONS = {
  purchase_completed: {
    title: "Purchase completed",
    description: "Tracks completed purchases: 1 point per EUR, 2 for gold members",
    type: "TRANSACTION",
    rewardValueField: "amount",
    reward: { default: 1, gold: 2, silver: 1.5 },
    limit: 10,
    limitPeriod: "day",
    maximumReward: 1000,
    conditions: {
      type: "AND",
      conditions: [
        { field: "amount", operator: "greater_than", value: 0 },
        { field: "currency", operator: "in", value: ["EUR", "USD"] },
      ],
    },
    metadataFields: [
      { key: "amount", type: "number", required: true },
      { key: "currency", type: "string", required: true },
    ],
    loyaltyEventType: "TRANSACTION_ASSESSMENT",
  },
  daily_login: {
    title: "Daily login",
    description: "5 points for the first login of the day",
    type: "STANDARD",
    reward: { default: 5 },
    limit: 1,
    limitPeriod: "day",
  },
  newsletter_signup: {
    title: "Newsletter signup",
    description: "One-time bonus",
    type: "STANDARD",
    reward: { default: 50, gold: 100 },
    limit: 1,
  },
  card_displayed: {
    title: "Customer card displayed",
    description: "Logged by the point-of-sale backend with an API key",
    type: "STANDARD",
    reward: { default: 1 },
    requiresApiKey: true,
    loyaltyEventType: "CUSTOMER_CARD_DISPLAYED",
  },
};

export const DEMO_USERS = { alice: [], bob: ["gold"], carol: ["silver"], dave: ["gold", "silver"] };

/** Seeds through the API (so the users' Durable Objects are registered too); returns false if already seeded. */
export async function seedDemo(base, adminToken) {
  const headers = { authorization: `Bearer ${adminToken}`, "content-type": "application/json" };
  const existing = await fetch(`${base}/v1/admin/users/alice`, { headers });
  if (existing.status === 200) return false;
  for (const [eventId, definition] of Object.entries(DEMO_DEFINITIONS)) {
    const res = await fetch(`${base}/v1/admin/events/${eventId}`, { method: "PUT", headers, body: JSON.stringify(definition) });
    if (!res.ok) throw new Error(`seeding ${eventId}: ${res.status} ${await res.text()}`);
  }
  for (const [userId, usergroups] of Object.entries(DEMO_USERS)) {
    const res = await fetch(`${base}/v1/admin/users/${userId}`, {
      method: "PUT",
      headers,
      body: JSON.stringify({ usergroups, attributes: { demo: true } }),
    });
    if (!res.ok) throw new Error(`seeding ${userId}: ${res.status} ${await res.text()}`);
  }
  return true;
}
