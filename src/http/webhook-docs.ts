import { z, type OpenAPIHono } from "@hono/zod-openapi";
import { WEBHOOK_DATA_SCHEMAS, WEBHOOK_EVENT_TYPES, WebhookEventSchema, type WebhookEventType } from "../domain/webhook-events";

/** The OpenAPI tag of the webhook events (the document's `webhooks` map). */
export const WEBHOOK_EVENTS_TAG = {
  name: "Webhook events",
  description: "What a project's webhook endpoints receive: one POST per event, signed per the Standard Webhooks specification, retried until a 2xx.",
};

const SUMMARIES: Record<WebhookEventType, string> = {
  "event.logged": "Every logged event (opt-in: one per log)",
  "points.awarded": "A log or a challenge bonus added points",
  "limit.reached": "A log met its event's limit and awarded nothing",
  "streak.extended": "A log grew a streak's current run",
  "challenge.completed": "A log completed a challenge (its bonus is in the balance)",
  "leaderboard.period_closed": "A board period's standings became final (once per period), with the top 10",
  "reward.adjusted": "A ledger entry's reward was set to a new amount (refund, correction)",
  "points.redeemed": "Points were redeemed (POST /v1/users/{userId}/redemptions)",
  "points.expired": "Points expired (the remainders of lots due, at their date)",
  "tier.changed": "A member's tier changed (earned, window ended, ladder changed)",
};

/** The PascalCase stem of a type's component names: `challenge.completed` → `ChallengeCompleted`. */
const stem = (type: string) =>
  type
    .split(/[._]/)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join("");

const SignatureHeadersSchema = z.object({
  "webhook-id": z.string().describe("The event's id: the same on every retry (deduplicate on it)"),
  "webhook-timestamp": z.string().describe("Seconds since the epoch when this attempt was signed"),
  "webhook-signature": z.string().describe('`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, space-separated while a rotated secret still signs'),
});

/**
 * Documents each webhook event type in the OpenAPI 3.1 `webhooks` map, keyed by type: the envelope with that
 * type's `data` as the request body, the signature headers, and what answers mean.
 */
export function documentWebhookEvents(app: Pick<OpenAPIHono, "openAPIRegistry">): void {
  for (const type of WEBHOOK_EVENT_TYPES) {
    const body = WebhookEventSchema.extend({ type: z.literal(type), data: WEBHOOK_DATA_SCHEMAS[type] }).openapi(`${stem(type)}WebhookEvent`);
    app.openAPIRegistry.registerWebhook({
      method: "post",
      path: type,
      operationId: `on${stem(type)}`,
      summary: SUMMARIES[type],
      tags: [WEBHOOK_EVENTS_TAG.name],
      security: [],
      request: { headers: SignatureHeadersSchema, body: { required: true, content: { "application/json": { schema: body } } } },
      responses: {
        200: { description: "Any 2xx: delivered" },
        410: { description: "Gone: the endpoint is disabled and receives nothing more" },
      },
    });
  }
}
