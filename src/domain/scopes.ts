/**
 * What an API key may do. `admin` holds every other scope. Each route of the API names the one scope it needs
 * (the OpenAPI document lists it in the route's security requirement); admin tokens hold `admin`, user tokens
 * hold none and reach only the routes that serve a user their own data.
 */
export const API_KEY_SCOPES = [
  "events:log",
  "events:read",
  "users:read",
  "users:write",
  "definitions:write",
  "stats:read",
  "ledger:read",
  "ledger:adjust",
  "points:redeem",
  "webhooks:manage",
  "tokens:mint",
  "keys:manage",
  "admin",
] as const;

export type Scope = (typeof API_KEY_SCOPES)[number];

/** What each scope allows, for the OpenAPI document and the dashboard's key form. */
export const SCOPE_DESCRIPTIONS: Record<Scope, string> = {
  "events:log": "Log events (single and batch)",
  "events:read": "Read definitions (events, streaks, challenges, leaderboards)",
  "users:read": "Read users and their profiles",
  "users:write": "Register users and change their groups",
  "definitions:write": "Create, replace and delete event, streak, challenge and leaderboard definitions",
  "stats:read": "Read stats, streak analytics and leaderboards",
  "ledger:read": "Read the loyalty-events ledger",
  "ledger:adjust": "Adjust the reward of a logged event",
  "points:redeem": "Redeem users' points and reverse redemptions",
  "webhooks:manage": "Manage webhook endpoints",
  "tokens:mint": "Exchange the key for user tokens (POST /v1/auth/tokens)",
  "keys:manage": "Create, list and revoke API keys (never with a scope the key itself lacks)",
  admin: "Everything above, and the project's signing keys, identity provider and dead letters",
};

/** True when a holder of `held` may do what `needed` allows. */
export const grants = (held: readonly Scope[], needed: Scope): boolean => held.includes("admin") || held.includes(needed);
