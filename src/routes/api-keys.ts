import { z } from "@hono/zod-openapi";
import { createApiKey, listApiKeys, revokeApiKey } from "../db/api-keys";
import { getDb } from "../db/client";
import { ApiError, errorResponses } from "../http/errors";
import { adminRoute, jsonBody, jsonResponse } from "../http/openapi";
import { createRouter } from "../http/router";

const ApiKeySchema = z
  .object({ id: z.string(), name: z.string(), keyPrefix: z.string(), createdAt: z.string() })
  .openapi("ApiKey");
const CreatedApiKeySchema = ApiKeySchema.extend({ key: z.string().describe("Shown once; only its hash is stored") }).openapi(
  "CreatedApiKey",
);
export type ApiKeyBody = z.infer<typeof ApiKeySchema>;
export type CreatedApiKeyBody = z.infer<typeof CreatedApiKeySchema>;

const createKey = adminRoute({
  method: "post",
  path: "/admin/api-keys",
  summary: "Create a server API key for the project",
  request: { body: jsonBody(z.strictObject({ name: z.string().min(1).max(100) })) },
  responses: {
    201: jsonResponse(CreatedApiKeySchema, "Created; the key is shown only here"),
    ...errorResponses(400, 401, 403),
  },
});

const listKeys = adminRoute({
  method: "get",
  path: "/admin/api-keys",
  summary: "List the project's active API keys (no secrets)",
  responses: { 200: jsonResponse(z.array(ApiKeySchema), "Active keys"), ...errorResponses(401, 403) },
});

const revokeKey = adminRoute({
  method: "delete",
  path: "/admin/api-keys/{id}",
  summary: "Revoke an API key",
  request: { params: z.object({ id: z.string().min(1).max(100) }) },
  responses: { 204: { description: "Revoked" }, ...errorResponses(401, 403, 404) },
});

export const apiKeysRoutes = createRouter()
  .openapi(createKey, async (c) => {
    const key = await createApiKey(getDb(c.env.DB), c.get("principal").projectKey, c.req.valid("json").name);
    return c.json(key, 201);
  })
  .openapi(listKeys, async (c) => c.json(await listApiKeys(getDb(c.env.DB), c.get("principal").projectKey), 200))
  .openapi(revokeKey, async (c) => {
    const { id } = c.req.valid("param");
    if (!(await revokeApiKey(getDb(c.env.DB), c.get("principal").projectKey, id))) {
      throw new ApiError(404, `API key ${id} does not exist in this project`);
    }
    return c.body(null, 204);
  });
