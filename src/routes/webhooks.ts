import { z } from "@hono/zod-openapi";
import { WEBHOOK_EVENT_TYPES, WebhookEventTypeSchema } from "../domain/webhook-events";
import { MAX_WEBHOOK_URL_LENGTH } from "../domain/webhook-urls";
import { errorResponses } from "../http/errors";
import { adminRoute, jsonBody, jsonResponse } from "../http/openapi";
import { createRouter } from "../http/router";
import { decodeCursor, encodeCursor } from "../lib/cursor";
import {
  changeWebhookEndpoint,
  createWebhookEndpoint,
  deliveriesOf,
  removeWebhookEndpoint,
  retryDelivery,
  rotateWebhookEndpointSecret,
  sendTestEvent,
  webhookEndpoint,
  webhookEndpointsOf,
} from "../services/webhooks";

const URL_RULES =
  "https, on a public host: no IP address in a private, loopback, link-local, CGNAT, unique-local or unspecified range, no `localhost`, `*.localhost`, `*.local` or `*.internal`, no credentials, at most 2,000 characters (a development deployment with WEBHOOKS_ALLOW_LOOPBACK=1 also takes http://127.0.0.1:<port>, http://localhost:<port> and http://[::1]:<port>)";

const EventTypesSchema = z
  .array(WebhookEventTypeSchema)
  .min(1)
  .max(WEBHOOK_EVENT_TYPES.length)
  .refine((types) => new Set(types).size === types.length, "must not name a type twice")
  .describe("The event types sent to this endpoint (`webhook.test` is always sent when asked for)");

const UrlSchema = z.string().min(1).max(MAX_WEBHOOK_URL_LENGTH).describe(`Where deliveries are POSTed: ${URL_RULES}`);
const DescriptionSchema = z.string().max(500);

const WebhookEndpointSchema = z
  .object({
    id: z.string(),
    url: z.string(),
    description: z.string(),
    eventTypes: z.array(WebhookEventTypeSchema),
    enabled: z.boolean(),
    disabledReason: z.string().nullable().describe('Why it is disabled: "disabled by an admin", "410 Gone" or "failing for 3 days"'),
    disabledAt: z.string().nullable(),
    failingSince: z.string().nullable().describe("The first failed attempt since the last success; three days of failures disable the endpoint"),
    previousSecretExpiresAt: z.string().nullable().describe("After a rotation: until when the previous secret still signs beside the new one"),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("WebhookEndpoint");
const CreatedWebhookEndpointSchema = WebhookEndpointSchema.extend({
  secret: z.string().describe("`whsec_` + base64: verify deliveries with it (Standard Webhooks). Shown once; stored encrypted"),
}).openapi("CreatedWebhookEndpoint");
export type WebhookEndpointBody = z.infer<typeof WebhookEndpointSchema>;
export type CreatedWebhookEndpointBody = z.infer<typeof CreatedWebhookEndpointSchema>;

const DELIVERY_STATUSES = ["pending", "succeeded", "failed"] as const;
const WebhookDeliverySchema = z
  .object({
    id: z.string(),
    endpointId: z.string(),
    eventId: z.string().describe("The event's id: the `webhook-id` header of every attempt"),
    eventType: z.string(),
    status: z
      .enum(DELIVERY_STATUSES)
      .describe("pending while attempts remain; succeeded after a 2xx; failed when the retries ended or the endpoint was disabled"),
    attempts: z.number().int(),
    responseStatus: z.number().int().nullable().describe("The last attempt's HTTP status (null: no answer)"),
    latencyMs: z.number().int().nullable(),
    responseText: z.string().nullable().describe("At most 4 KiB of the last answer's body"),
    error: z.string().nullable().describe("Why the last attempt failed"),
    nextAttemptAt: z.string().nullable().describe("When the next attempt is due (pending only)"),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("WebhookDelivery");
export type WebhookDeliveryBody = z.infer<typeof WebhookDeliverySchema>;

const DeliveriesCursorSchema = z.object({ c: z.number().int().nonnegative(), i: z.string().min(1).max(100) });

const IdParams = z.object({ id: z.string().min(1).max(100).openapi({ description: "The endpoint's id" }) });

const createEndpoint = adminRoute({
  method: "post",
  path: "/admin/webhooks",
  operationId: "createWebhookEndpoint",
  scope: "webhooks:manage",
  summary: "Create a webhook endpoint (the signing secret is shown once)",
  description: `At most 20 endpoints per project. Deliveries are signed per Standard Webhooks (headers webhook-id, webhook-timestamp, webhook-signature); verify them with any standardwebhooks library and the secret. The url must be ${URL_RULES}.`,
  request: {
    body: jsonBody(
      z
        .strictObject({ url: UrlSchema, eventTypes: EventTypesSchema, description: DescriptionSchema.optional(), enabled: z.boolean().optional() })
        .openapi("WebhookEndpointInput"),
    ),
  },
  responses: { 201: jsonResponse(CreatedWebhookEndpointSchema, "Created; the secret is shown only here"), ...errorResponses(400, 401, 403, 409) },
});

const listEndpoints = adminRoute({
  method: "get",
  path: "/admin/webhooks",
  operationId: "listWebhookEndpoints",
  scope: "webhooks:manage",
  summary: "List the project's webhook endpoints, oldest first (no secrets)",
  responses: { 200: jsonResponse(z.array(WebhookEndpointSchema), "Endpoints"), ...errorResponses(401, 403) },
});

const getEndpoint = adminRoute({
  method: "get",
  path: "/admin/webhooks/{id}",
  operationId: "getWebhookEndpoint",
  scope: "webhooks:manage",
  summary: "One webhook endpoint, with whether (and why) it is disabled",
  request: { params: IdParams },
  responses: { 200: jsonResponse(WebhookEndpointSchema, "The endpoint"), ...errorResponses(400, 401, 403, 404) },
});

const updateEndpoint = adminRoute({
  method: "put",
  path: "/admin/webhooks/{id}",
  operationId: "updateWebhookEndpoint",
  scope: "webhooks:manage",
  summary: "Change a webhook endpoint's url, event types, description or enabled state (the fields sent)",
  description:
    "Disabling stops its pending deliveries (they fail); enabling clears the disabled reason and the failing streak. Other isolates' fan-out sees the change within 5 seconds.",
  request: {
    params: IdParams,
    body: jsonBody(
      z
        .strictObject({
          url: UrlSchema.optional(),
          eventTypes: EventTypesSchema.optional(),
          description: DescriptionSchema.optional(),
          enabled: z.boolean().optional(),
        })
        .refine((body) => Object.values(body).some((value) => value !== undefined), "must name at least one of url, eventTypes, description, enabled")
        .openapi("WebhookEndpointChanges"),
    ),
  },
  responses: { 200: jsonResponse(WebhookEndpointSchema, "Changed"), ...errorResponses(400, 401, 403, 404) },
});

const deleteEndpoint = adminRoute({
  method: "delete",
  path: "/admin/webhooks/{id}",
  operationId: "deleteWebhookEndpoint",
  scope: "webhooks:manage",
  summary: "Delete a webhook endpoint and its delivery records",
  request: { params: IdParams },
  responses: { 204: { description: "Deleted" }, ...errorResponses(400, 401, 403, 404) },
});

const rotateSecret = adminRoute({
  method: "post",
  path: "/admin/webhooks/{id}/rotate-secret",
  operationId: "rotateWebhookSecret",
  scope: "webhooks:manage",
  summary: "Give the endpoint a new signing secret (shown once); the old one keeps signing beside it for 24 hours",
  description:
    "During the overlap every delivery carries both signatures in `webhook-signature`, space-separated: a receiver verifying with either secret accepts it. A second rotation within the overlap ends the first secret's.",
  request: { params: IdParams },
  responses: { 200: jsonResponse(CreatedWebhookEndpointSchema, "Rotated; the new secret is shown only here"), ...errorResponses(400, 401, 403, 404) },
});

const testEndpoint = adminRoute({
  method: "post",
  path: "/admin/webhooks/{id}/test",
  operationId: "sendWebhookTest",
  scope: "webhooks:manage",
  summary: "Send a `webhook.test` event to the endpoint now; answers the delivery after its first attempt",
  description: "The test takes the path of every delivery: signed, recorded in the deliveries, and retried on the schedule if the attempt fails.",
  request: { params: IdParams },
  responses: { 200: jsonResponse(WebhookDeliverySchema, "The delivery after its first attempt"), ...errorResponses(400, 401, 403, 404, 409, 503) },
});

const listDeliveries = adminRoute({
  method: "get",
  path: "/admin/webhooks/{id}/deliveries",
  operationId: "listWebhookDeliveries",
  scope: "webhooks:manage",
  summary: "The endpoint's deliveries, newest first: status, attempts, last response and next retry",
  description: "Delivery records are kept 14 days, and at most the newest 10,000 per endpoint.",
  request: {
    params: IdParams,
    query: z.object({
      status: z.enum(DELIVERY_STATUSES).optional().openapi({ description: "Only deliveries with this status" }),
      limit: z.coerce.number().int().min(1).max(100).default(20),
      cursor: z
        .string()
        .max(1_000)
        .refine((text) => decodeCursor(text, DeliveriesCursorSchema) !== null, "must be a nextCursor of a previous page")
        .optional()
        .openapi({ description: "Page: the previous page's `nextCursor` (with the same status filter)" }),
    }),
  },
  responses: {
    200: jsonResponse(
      z
        .object({
          items: z.array(WebhookDeliverySchema),
          nextCursor: z.string().nullable().describe("Pass as `cursor` for the next page; null after the last one"),
        })
        .openapi("WebhookDeliveryPage"),
      "Deliveries",
    ),
    ...errorResponses(400, 401, 403, 404),
  },
});

const retryOne = adminRoute({
  method: "post",
  path: "/admin/webhooks/{id}/deliveries/{deliveryId}/retry",
  operationId: "retryWebhookDelivery",
  scope: "webhooks:manage",
  summary: "Attempt one delivery again now; answers the delivery after the attempt",
  description:
    "Any delivery may be sent again (receivers deduplicate on `webhook-id`). If the attempt fails, it is retried on the schedule while within 3 days of the delivery's first attempt, else failed. 409 while the endpoint is disabled.",
  request: { params: IdParams.extend({ deliveryId: z.string().min(1).max(100).openapi({ description: "The delivery's id" }) }) },
  responses: { 200: jsonResponse(WebhookDeliverySchema, "The delivery after the attempt"), ...errorResponses(400, 401, 403, 404, 409, 503) },
});

export const webhooksRoutes = createRouter()
  .openapi(createEndpoint, async (c) => {
    const { url, eventTypes, description = "", enabled = true } = c.req.valid("json");
    return c.json(await createWebhookEndpoint(c.env, c.get("principal").projectKey, { url, eventTypes, description, enabled }), 201);
  })
  .openapi(listEndpoints, async (c) => c.json(await webhookEndpointsOf(c.env, c.get("principal").projectKey), 200))
  .openapi(getEndpoint, async (c) => c.json(await webhookEndpoint(c.env, c.get("principal").projectKey, c.req.valid("param").id), 200))
  .openapi(updateEndpoint, async (c) =>
    c.json(await changeWebhookEndpoint(c.env, c.get("principal").projectKey, c.req.valid("param").id, c.req.valid("json")), 200),
  )
  .openapi(deleteEndpoint, async (c) => {
    await removeWebhookEndpoint(c.env, c.get("principal").projectKey, c.req.valid("param").id);
    return c.body(null, 204);
  })
  .openapi(rotateSecret, async (c) => c.json(await rotateWebhookEndpointSecret(c.env, c.get("principal").projectKey, c.req.valid("param").id), 200))
  .openapi(testEndpoint, async (c) => c.json(await sendTestEvent(c.env, c.get("principal").projectKey, c.req.valid("param").id), 200))
  .openapi(listDeliveries, async (c) => {
    const { status, limit, cursor } = c.req.valid("query");
    const after = cursor === undefined ? undefined : decodeCursor(cursor, DeliveriesCursorSchema)!;
    const page = await deliveriesOf(c.env, c.get("principal").projectKey, c.req.valid("param").id, {
      status,
      limit,
      after: after && { createdAt: after.c, id: after.i },
    });
    return c.json({ items: page.items, nextCursor: page.next && encodeCursor({ c: page.next.createdAt, i: page.next.id }) }, 200);
  })
  .openapi(retryOne, async (c) => {
    const { id, deliveryId } = c.req.valid("param");
    return c.json(await retryDelivery(c.env, c.get("principal").projectKey, id, deliveryId), 200);
  });
