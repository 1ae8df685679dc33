/**
 * @loyalty-events/client: the Loyalty Events API's types (generated from its OpenAPI document by
 * openapi-typescript), its calls (openapi-fetch), and the few helpers a generator cannot know.
 */
export type { components, operations, paths } from "./schema.js";
export { createLoyaltyClient, type LoyaltyClient, type LoyaltyClientOptions, type Schemas } from "./client.js";
export { ApiError, unwrap, type ErrorEnvelope } from "./errors.js";
export { logEvent, retryAfterMs, RETRYABLE_STATUSES, withRetry, type LogEventBody, type RetryOptions } from "./retry.js";
export {
  allItems,
  items,
  nextPageUrl,
  pages,
  parseLinkHeader,
  type LinkValue,
  type ListInit,
  type ListItem,
  type ListPath,
  type Page,
} from "./paging.js";
export { verifyWebhook, WebhookVerificationError, type VerifyOptions, type WebhookEvent } from "./webhooks.js";
