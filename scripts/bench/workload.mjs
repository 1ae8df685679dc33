// The benchmark's project: definitions exercising conditions, limits, a streak, a challenge and a leaderboard,
// and the mix of logs the load sends.

export const DEFINITIONS = {
  purchase: {
    title: "Purchase",
    type: "TRANSACTION",
    rewardValueField: "amount",
    reward: { default: 1, gold: 2 },
    limit: 1_000_000,
    limitPeriod: "day",
    conditions: {
      type: "AND",
      conditions: [
        { field: "amount", operator: "greater_than", value: 0 },
        { field: "currency", operator: "in", value: ["EUR", "USD"] },
      ],
    },
    metadataFields: [{ key: "amount", type: "number", required: true }],
    loyaltyEventType: "TRANSACTION_ASSESSMENT",
  },
  daily_login: { title: "Daily login", reward: { default: 5 }, limit: 1, limitPeriod: "day" },
  review: {
    title: "Review",
    reward: { default: 10 },
    limit: 5,
    limitPeriod: "week",
    conditions: { type: "AND", conditions: [{ field: "stars", operator: "greater_than_or_equal", value: 1 }] },
  },
};

export const STREAK = { title: "Login streak", eventIds: ["daily_login"], period: "day", timezone: "Europe/Berlin", goal: 7, freezesPerMonth: 1 };
export const CHALLENGE = { title: "3 purchases a week", eventIds: ["purchase"], metric: "count", target: 3, period: "week", rewardPoints: 50 };
export const LEADERBOARD = { title: "Weekly points", metric: "points", period: "week", timezone: "Europe/Berlin" };

/** Half purchases (some failing their condition), a third logins (mostly past their daily limit), the rest reviews. */
export const MIX = [
  { weight: 40, eventId: "purchase", metadata: { amount: 12.5, currency: "EUR" } },
  { weight: 10, eventId: "purchase", metadata: { amount: 0, currency: "EUR" } },
  { weight: 30, eventId: "daily_login", metadata: {} },
  { weight: 20, eventId: "review", metadata: { stars: 4 } },
];

export const userIds = (prefix, count) => Array.from({ length: count }, (_, i) => `${prefix}${i}`);

/**
 * fetch that retries once when a kept-alive connection turns out closed (the server may close idle
 * connections after a load phase). For the harness's setup and its one-client timings, not for the autocannon
 * scenarios; a retried timing includes the failed attempt, so it can only look slower.
 */
export async function fetchAgain(url, init) {
  try {
    return await fetch(url, init);
  } catch (error) {
    if (error?.cause?.code !== "UND_ERR_SOCKET" && error?.cause?.code !== "ECONNRESET") throw error;
    return fetch(url, init);
  }
}

/** An admin API client for the harness's own setup and checks (not measured). */
export function client(base, token) {
  const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  return async (method, path, body) => {
    const res = await fetchAgain(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    if (res.status >= 300 && res.status !== 204) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
    return text ? JSON.parse(text) : null;
  };
}

/** Runs `tasks` with at most `concurrency` in flight. */
export async function inParallel(items, concurrency, task) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await task(items[next++]);
    }),
  );
}

/** Sets up a project with the workload's definitions and `users` registered (gold for every other one). */
export async function setupProject(call, users) {
  for (const [eventId, definition] of Object.entries(DEFINITIONS)) await call("PUT", `/v1/admin/events/${eventId}`, definition);
  await call("PUT", "/v1/admin/streaks/login_streak", STREAK);
  await call("PUT", "/v1/admin/challenges/weekly_buyer", CHALLENGE);
  await call("PUT", "/v1/admin/leaderboards/weekly_points", LEADERBOARD);
  await inParallel(users, 16, (userId) => call("PUT", `/v1/admin/users/${userId}`, { usergroups: Number(userId.replace(/\D/g, "")) % 2 ? ["gold"] : [] }));
}
