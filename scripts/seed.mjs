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

/** A daily login streak on Berlin's calendar: a week completes it, one missed day a month is forgiven. */
export const DEMO_STREAKS = {
  daily_login_streak: {
    title: "Daily login streak",
    description: "Log in every day (Berlin time); one missed day per month is forgiven",
    eventIds: ["daily_login"],
    period: "day",
    timezone: "Europe/Berlin",
    goal: 7,
    freezesPerMonth: 1,
  },
};

/** Three purchases in a (Berlin) week earn 100 bonus points, once per week. */
export const DEMO_CHALLENGES = {
  three_purchases_week: {
    title: "3 purchases this week",
    description: "Complete three purchases in one week (Monday to Sunday, Berlin time) for 100 bonus points",
    eventIds: ["purchase_completed"],
    metric: "count",
    target: 3,
    period: "week",
    timezone: "Europe/Berlin",
    rewardPoints: 100,
  },
};

/** Everyone's points this week (challenge bonuses included), Berlin time. */
export const DEMO_LEADERBOARDS = {
  weekly_points: { title: "Points this week", metric: "points", period: "week", timezone: "Europe/Berlin" },
};

/**
 * Seeds through the API (so the users' Durable Objects are registered too). Every call is a PUT, so seeding
 * again brings an older demo project up to date and keeps balances; returns false if alice existed already.
 */
export async function seedDemo(base, adminToken) {
  const headers = { authorization: `Bearer ${adminToken}`, "content-type": "application/json" };
  const existed = (await fetch(`${base}/v1/admin/users/alice`, { headers })).status === 200;
  const put = async (path, body) => {
    const res = await fetch(`${base}${path}`, { method: "PUT", headers, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`seeding ${path}: ${res.status} ${await res.text()}`);
  };
  for (const [eventId, definition] of Object.entries(DEMO_DEFINITIONS)) await put(`/v1/admin/events/${eventId}`, definition);
  for (const [streakId, streak] of Object.entries(DEMO_STREAKS)) await put(`/v1/admin/streaks/${streakId}`, streak);
  for (const [challengeId, challenge] of Object.entries(DEMO_CHALLENGES)) await put(`/v1/admin/challenges/${challengeId}`, challenge);
  for (const [leaderboardId, board] of Object.entries(DEMO_LEADERBOARDS)) await put(`/v1/admin/leaderboards/${leaderboardId}`, board);
  for (const [userId, usergroups] of Object.entries(DEMO_USERS)) await put(`/v1/admin/users/${userId}`, { usergroups, attributes: { demo: true } });
  return !existed;
}
