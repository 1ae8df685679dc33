import type { hc, InferRequestType, InferResponseType } from "hono/client";
import type { AppType } from "../../../src/app";
import type { ConditionGroup, ConditionLeaf } from "../../../src/domain/definition";

export type { ConditionGroup, ConditionLeaf };
export type ConditionNode = ConditionGroup["conditions"][number];

/** The API's documents as the typed client sees them (from the Worker's AppType; no copies to drift). */
type V1 = ReturnType<typeof hc<AppType>>["v1"];

/**
 * Condition trees are recursive: the client's JSON mapping of them is approximate, so they are typed with the
 * domain's own (type-only) `ConditionGroup`.
 */
type WithConditions<T> = Omit<T, "conditions"> & { conditions?: ConditionGroup };

/** As the client types the answers (conditions approximated); `definitionFromApi` gives them their real type. */
export type ApiEventDefinition = InferResponseType<V1["event"][":eventId"]["$get"], 200>;
export type EventDefinition = WithConditions<ApiEventDefinition>;
/** The body of PUT /v1/admin/events/{eventId}; the client takes any JSON for its conditions. */
export type EventDefinitionInput = WithConditions<InferRequestType<V1["admin"]["events"][":eventId"]["$put"]>["json"]>;

/** A definition as the API sent it: its condition tree is the API's ConditionGroup (the client's JSON typing of it is approximate). */
export const definitionFromApi = (definition: ApiEventDefinition): EventDefinition => definition as EventDefinition;
export type StreakDefinition = InferResponseType<V1["admin"]["streaks"][":streakId"]["$get"], 200>;
export type StreakDefinitionInput = InferRequestType<V1["admin"]["streaks"][":streakId"]["$put"]>["json"];
export type ChallengeDefinition = InferResponseType<V1["admin"]["challenges"][":challengeId"]["$get"], 200>;
export type ChallengeDefinitionInput = InferRequestType<V1["admin"]["challenges"][":challengeId"]["$put"]>["json"];
export type LeaderboardDefinition = InferResponseType<V1["admin"]["leaderboards"][":leaderboardId"]["$get"], 200>;
export type LeaderboardDefinitionInput = InferRequestType<V1["admin"]["leaderboards"][":leaderboardId"]["$put"]>["json"];
export type Standings = InferResponseType<V1["leaderboards"][":leaderboardId"]["$get"], 200>;
export type StreakAnalytics = InferResponseType<V1["analytics"]["streak"]["$get"], 200>;
export type StatsAnswer = InferResponseType<V1["stats"]["event"]["$get"], 200>;
export type StatsQuery = InferRequestType<V1["stats"]["event"]["$get"]>["query"];
export type LoyaltyEvent = InferResponseType<V1["loyalty-events"][":id"]["$get"], 200>;
export type LedgerQuery = InferRequestType<V1["loyalty-events"]["$get"]>["query"];
export type Usage = InferResponseType<V1["admin"]["usage"]["$get"], 200>;
export type PointsProfile = InferResponseType<V1["users"][":userId"]["$get"], 200>;
export type RegisteredUser = InferResponseType<V1["admin"]["users"][":userId"]["$get"], 200>;
/** A listed key (no secret); the create's answer, the only one with the key itself; the create's body. */
export type ApiKey = InferResponseType<V1["admin"]["api-keys"]["$get"], 200>[number];
export type CreatedApiKey = InferResponseType<V1["admin"]["api-keys"]["$post"], 201>;
export type ApiKeyInput = InferRequestType<V1["admin"]["api-keys"]["$post"]>["json"];

export type MetadataField = EventDefinition["metadataFields"][number];

/** Global stats (no eventId) and per-event stats (with one) share the answer's envelope. */
export type GlobalStats = Extract<StatsAnswer["data"], { totalEvents: number }>;
export type EventStats = Extract<StatsAnswer["data"], { totalCount: number }>;

/** A webhook endpoint as listed (no secret); the create's and the rotation's answers, the only ones with the secret. */
export type WebhookEndpoint = InferResponseType<V1["admin"]["webhooks"]["$get"], 200>[number];
export type CreatedWebhookEndpoint = InferResponseType<V1["admin"]["webhooks"]["$post"], 201>;
export type WebhookEndpointInput = InferRequestType<V1["admin"]["webhooks"]["$post"]>["json"];
export type WebhookEndpointChanges = InferRequestType<V1["admin"]["webhooks"][":id"]["$put"]>["json"];
export type WebhookEventType = WebhookEndpoint["eventTypes"][number];
export type WebhookDeliveryPage = InferResponseType<V1["admin"]["webhooks"][":id"]["deliveries"]["$get"], 200>;
export type WebhookDelivery = WebhookDeliveryPage["items"][number];
export type WebhookDeliveryStatus = WebhookDelivery["status"];

/** The points lifecycle (README "Points lifecycle"): a redemption, its reversal, the history, settings and the tier ladder. */
export type PointsTier = NonNullable<PointsProfile["tier"]>;
export type ExpiringPoints = PointsProfile["expiring"][number];
export type Redemption = InferResponseType<V1["users"][":userId"]["redemptions"]["$post"], 201>;
export type RedemptionInput = InferRequestType<V1["users"][":userId"]["redemptions"]["$post"]>["json"];
export type Reversal = InferResponseType<V1["users"][":userId"]["redemptions"][":redemptionId"]["reversal"]["$post"], 200>;
export type PointsHistoryPage = InferResponseType<V1["users"][":userId"]["points-history"]["$get"], 200>;
export type PointsHistoryEntry = PointsHistoryPage["entries"][number];
export type PointsSettings = InferResponseType<V1["admin"]["project"]["settings"]["$get"], 200>;
export type PointsSettingsInput = InferRequestType<V1["admin"]["project"]["settings"]["$put"]>["json"];
export type PointsExpiry = PointsSettings["pointsExpiry"];
/** The stored ladder (with its version); the PUT's body. */
export type TierLadder = InferResponseType<V1["admin"]["tiers"]["$get"], 200>;
export type TierLadderInput = InferRequestType<V1["admin"]["tiers"]["$put"]>["json"];
export type TierLevel = TierLadderInput["levels"][number];
