import { answer, bodyOf, type ApiClient } from "./client";
import type { ApiKey, ApiKeyInput, CreatedApiKey } from "./types";

/** The API key calls the dashboard makes, typed through the client. */

/** GET /v1/admin/api-keys: the project's active keys (no secrets). */
export const listApiKeys = (client: ApiClient): Promise<ApiKey[]> => bodyOf(client.v1.admin["api-keys"].$get());

/** POST /v1/admin/api-keys: 201 with the key, shown once. */
export const createApiKey = (client: ApiClient, json: ApiKeyInput): Promise<CreatedApiKey> => bodyOf(client.v1.admin["api-keys"].$post({ json }));

/** DELETE /v1/admin/api-keys/{id}: 204; the key stops working at once. */
export const revokeApiKey = async (client: ApiClient, id: string): Promise<void> => {
  await answer(client.v1.admin["api-keys"][":id"].$delete({ param: { id } }));
};
