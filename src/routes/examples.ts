import type { z } from "@hono/zod-openapi";
import type { EventDefinitionSchema } from "../domain/definition";
import type { LoyaltyEvent } from "../domain/ledger";
import type { EventLoggedEnvelope } from "../domain/logged-event";
import type { StreakAnalytics } from "./analytics";
import type { LogEventBody } from "./event-log";
import type { EventStatsBody, GlobalStatsBody } from "./stats";

/**
 * OpenAPI examples of the seed's endpoints, taken from its example requests and responses
 * (../shared/spec/events-analytics-api.md, ../shared/spec/loyalty-events-api.md) and adapted only where our
 * documented shape differs (each adaptation is noted). test/routes/openapi-examples.test.ts parses every
 * example in the served document with the route's own schema.
 */

/** Named examples of one media type (OpenAPI's Example Objects). */
export type NamedExamples = Record<string, { summary: string; value: unknown }>;

/** A route's JSON request body or response (`jsonBody`, `jsonResponse`) with named examples added. */
export const withExamples = <R extends { content: { "application/json": object } }>(entry: R, examples: NamedExamples): R => ({
  ...entry,
  content: { "application/json": { ...entry.content["application/json"], examples } },
});

const seedMetadata = { amount: 49.99, currency: "EUR", usergroup: ["default"], source: "web" };

/** POST /v1/event: the seed's request body, as is. */
export const logEventRequestExample = {
  eventId: "purchase_completed",
  userId: "user-123",
  metadata: seedMetadata,
} satisfies LogEventBody;

/**
 * POST /v1/event 200: the seed's answer plus the fields we add to `data`: `balance`, `reasons`, `streaks`,
 * `challenges` and `reward` (points carry metadata.currency as their rewardCurrency).
 */
export const eventLoggedExample = {
  statusCode: 200,
  message: "Event erfolgreich geloggt",
  data: {
    userId: "user-123",
    eventId: "purchase_completed",
    points: 50,
    type: "TRANSACTION",
    title: "Purchase completed",
    limit: 10,
    maximumReward: 1000,
    metadata: seedMetadata,
    conditionReached: true,
    limitReached: false,
    userGroupId: "default",
    balance: 1250,
    reasons: [],
    streaks: [],
    challenges: [],
    reward: { rewardType: "LOYALTY_POINTS", rewardAmount: 50, rewardCurrency: "EUR", customerMessage: null },
  },
} satisfies EventLoggedEnvelope;

/** GET /v1/event/{eventId} 200 (and the item of GET /v1/event): the seed's definition, as is. */
export const eventDefinitionExample = {
  eventId: "purchase_completed",
  title: "Purchase completed",
  description: "Tracks completed purchases",
  status: "ACTIVE",
  limit: 10,
  maximumReward: 1000,
  reward: { default: 2 },
  conditions: { type: "AND", conditions: [{ field: "amount", operator: "greater_than", value: 0 }] },
  metadataFields: [{ key: "amount", type: "number", required: true }],
  type: "TRANSACTION",
} satisfies z.input<typeof EventDefinitionSchema>;

/** GET /v1/event 200: the seed's list, as is. */
export const eventDefinitionListExample = [eventDefinitionExample];

/** GET /v1/analytics/streak 200: the seed's answer, as is. */
export const streakAnalyticsExample = {
  streakId: "daily_login",
  totalParticipants: 1240,
  activeParticipants: 830,
  averageStreakLength: 6.2,
  longestUserStreak: 45,
  completionRate: 0.67,
} satisfies StreakAnalytics;

/**
 * GET /v1/stats/event 200, global: the seed's answer with a 24-hour `hourlyDistribution` (ours always has one
 * count per UTC hour; the seed shows []), summing to the day's events.
 */
export const globalStatsExample = {
  period: "7d",
  eventId: null,
  startDate: "2025-08-01",
  endDate: "2025-08-07",
  data: {
    totalEvents: 6120,
    uniqueUsers: 1420,
    totalPoints: 81230,
    eventBreakdown: {
      purchase_completed: { count: 4210, users: 980, points: 71230 },
      login: { count: 1910, users: 1240, points: 10000 },
    },
    topEvents: ["purchase_completed", "login"],
    dailyData: {
      "2025-08-01": {
        events: 900,
        users: 320,
        points: 11000,
        hourlyDistribution: [3, 2, 1, 1, 2, 6, 18, 35, 52, 60, 58, 62, 70, 64, 55, 50, 54, 61, 66, 58, 44, 32, 25, 21],
      },
    },
    _metadata: { uniqueUsersCalculationMethod: "daily_exact", uniqueUsersNote: null },
  },
} satisfies GlobalStatsBody;

/** GET /v1/stats/event?eventId= 200: the seed's answer with a 24-hour `hourlyDistribution`, as above. */
export const eventStatsExample = {
  period: "30d",
  eventId: "purchase_completed",
  startDate: "2025-08-01",
  endDate: "2025-08-30",
  data: {
    totalCount: 4100,
    uniqueUsers: 950,
    pointsAwarded: 71000,
    conditionMet: 4050,
    conditionFailed: 50,
    limitReached: 20,
    dailyData: {
      "2025-08-01": {
        count: 200,
        users: 120,
        points: 3400,
        hourlyDistribution: [0, 0, 0, 0, 1, 2, 5, 8, 11, 13, 12, 14, 16, 15, 13, 12, 12, 13, 14, 12, 9, 7, 6, 5],
      },
    },
  },
} satisfies EventStatsBody;

/**
 * GET /v1/loyalty-events/{id} 200 (and the item of GET /v1/loyalty-events): the seed's loyalty event, with
 * `reward.id` the event's id (ours keeps a loyalty event's one reward under the event's id; the seed shows 55).
 */
export const loyaltyEventExample = {
  id: 101,
  loyaltyAccountId: 987,
  loyaltyProgramId: 12,
  reward: {
    id: 101,
    rewardType: "LOYALTY_POINTS",
    rewardAmount: 150,
    rewardCurrency: "USD",
    previousRewardAmount: 120,
    customerMessage: "Congratulations! You've earned points.",
    ruleId: 5,
    trancoreId: 2001,
    loyaltyEventId: 101,
    createdAt: "2024-06-01T10:00:00Z",
    updatedAt: "2024-06-01T10:05:00Z",
  },
  eventType: "TRANSACTION_ASSESSMENT",
  eventDetails: {},
  timestamp: "2024-06-01T10:00:00Z",
  createdAt: "2024-06-01T10:00:00Z",
  updatedAt: "2024-06-01T10:05:00Z",
} satisfies LoyaltyEvent;

/** GET /v1/loyalty-events 200: the seed's page, as is. */
export const loyaltyEventListExample = [loyaltyEventExample];
