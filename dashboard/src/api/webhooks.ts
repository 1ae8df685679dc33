import { answer, bodyOf, type ApiClient } from "./client";
import type {
  CreatedWebhookEndpoint,
  WebhookDelivery,
  WebhookDeliveryPage,
  WebhookDeliveryStatus,
  WebhookEndpoint,
  WebhookEndpointChanges,
  WebhookEndpointInput,
} from "./types";

/** The webhook calls the dashboard makes, typed through the client. */

/** GET /v1/admin/webhooks: the project's endpoints, oldest first (no secrets). */
export const listWebhookEndpoints = (client: ApiClient): Promise<WebhookEndpoint[]> => bodyOf(client.v1.admin.webhooks.$get());

/** POST /v1/admin/webhooks: 201 with the endpoint and its signing secret, shown once. */
export const createWebhookEndpoint = (client: ApiClient, json: WebhookEndpointInput): Promise<CreatedWebhookEndpoint> =>
  bodyOf(client.v1.admin.webhooks.$post({ json }));

/** PUT /v1/admin/webhooks/{id}: changes the fields sent (url, event types, description, enabled). */
export const updateWebhookEndpoint = (client: ApiClient, id: string, json: WebhookEndpointChanges): Promise<WebhookEndpoint> =>
  bodyOf(client.v1.admin.webhooks[":id"].$put({ param: { id }, json }));

/** DELETE /v1/admin/webhooks/{id}: 204; its delivery records go with it. */
export const deleteWebhookEndpoint = async (client: ApiClient, id: string): Promise<void> => {
  await answer(client.v1.admin.webhooks[":id"].$delete({ param: { id } }));
};

/** POST /v1/admin/webhooks/{id}/rotate-secret: the new secret, shown once; the old one signs beside it for 24 h. */
export const rotateWebhookSecret = (client: ApiClient, id: string): Promise<CreatedWebhookEndpoint> =>
  bodyOf(client.v1.admin.webhooks[":id"]["rotate-secret"].$post({ param: { id } }));

/** POST /v1/admin/webhooks/{id}/test: a `webhook.test` event now; answers the delivery after its first attempt. */
export const sendWebhookTest = (client: ApiClient, id: string): Promise<WebhookDelivery> =>
  bodyOf(client.v1.admin.webhooks[":id"].test.$post({ param: { id } }));

/** GET /v1/admin/webhooks/{id}/deliveries: a page of deliveries, newest first, and the cursor of the next one. */
export const listWebhookDeliveries = (
  client: ApiClient,
  id: string,
  options: { status?: WebhookDeliveryStatus; cursor?: string; limit?: number },
): Promise<WebhookDeliveryPage> =>
  bodyOf(
    client.v1.admin.webhooks[":id"].deliveries.$get({
      param: { id },
      query: {
        ...(options.status ? { status: options.status } : {}),
        ...(options.cursor ? { cursor: options.cursor } : {}),
        ...(options.limit ? { limit: String(options.limit) } : {}),
      },
    }),
  );

/** POST /v1/admin/webhooks/{id}/deliveries/{deliveryId}/retry: one attempt now; answers the delivery after it. */
export const retryWebhookDelivery = (client: ApiClient, id: string, deliveryId: string): Promise<WebhookDelivery> =>
  bodyOf(client.v1.admin.webhooks[":id"].deliveries[":deliveryId"].retry.$post({ param: { id, deliveryId } }));
