import { z } from "@hono/zod-openapi";
import { API_KEY_SCOPES } from "../domain/scopes";
import { errorResponses } from "../http/errors";
import { adminRoute, jsonBody, jsonResponse } from "../http/openapi";
import { createRouter } from "../http/router";
import { createProjectApiKey, revokeProjectApiKey } from "../services/credentials";
import { listApiKeys } from "../db/api-keys";

/** At most this many origins per key; a browser key names its sites, not a directory of them. */
const MAX_ALLOWED_ORIGINS = 20;

const ScopeSchema = z.enum(API_KEY_SCOPES).openapi("Scope");

/** An origin exactly as browsers send it: scheme, host and port only, no path or trailing slash. */
const OriginSchema = z
  .string()
  .max(200)
  .refine((value) => {
    try {
      return new URL(value).origin === value;
    } catch {
      return false;
    }
  }, "must be an origin such as https://shop.example.com (scheme, host and port only)");

const ApiKeySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    keyPrefix: z.string(),
    scopes: z.array(ScopeSchema),
    allowedOrigins: z.array(z.string()).describe("When not empty, only requests whose Origin (or Referer) is listed are accepted"),
    expiresAt: z.string().nullable(),
    lastUsedAt: z.string().nullable().describe("To the minute"),
    createdAt: z.string(),
  })
  .openapi("ApiKey");
const CreatedApiKeySchema = ApiKeySchema.extend({ key: z.string().describe("Shown once; only its hash is stored") }).openapi("CreatedApiKey");
export type ApiKeyBody = z.infer<typeof ApiKeySchema>;
export type CreatedApiKeyBody = z.infer<typeof CreatedApiKeySchema>;

const NewApiKeySchema = z
  .strictObject({
    name: z.string().min(1).max(100),
    scopes: z.array(ScopeSchema).min(1).max(API_KEY_SCOPES.length),
    allowedOrigins: z.array(OriginSchema).max(MAX_ALLOWED_ORIGINS).optional(),
    expiresAt: z.iso
      .datetime({ offset: true })
      .refine((value) => Date.parse(value) > Date.now(), "must be in the future")
      .optional(),
  })
  .openapi("ApiKeyInput");

const createKey = adminRoute({
  method: "post",
  path: "/admin/api-keys",
  operationId: "createApiKey",
  scope: "keys:manage",
  summary: "Create an API key for the project",
  description: "A key holding `keys:manage` may grant only scopes it holds itself.",
  request: { body: jsonBody(NewApiKeySchema) },
  responses: {
    201: jsonResponse(CreatedApiKeySchema, "Created; the key is shown only here"),
    ...errorResponses(400, 401, 403),
  },
});

const listKeys = adminRoute({
  method: "get",
  path: "/admin/api-keys",
  operationId: "listApiKeys",
  scope: "keys:manage",
  summary: "List the project's active API keys (no secrets)",
  responses: { 200: jsonResponse(z.array(ApiKeySchema), "Active keys"), ...errorResponses(401, 403) },
});

const revokeKey = adminRoute({
  method: "delete",
  path: "/admin/api-keys/{id}",
  operationId: "revokeApiKey",
  scope: "keys:manage",
  summary: "Revoke an API key",
  description: "A key holding `keys:manage` may revoke only keys whose scopes it holds. Other isolates stop accepting the key within 30 seconds.",
  request: { params: z.object({ id: z.string().min(1).max(100) }) },
  responses: { 204: { description: "Revoked" }, ...errorResponses(401, 403, 404) },
});

export const apiKeysRoutes = createRouter()
  .openapi(createKey, async (c) => {
    const { name, scopes, allowedOrigins = [], expiresAt } = c.req.valid("json");
    const input = {
      name,
      scopes: [...new Set(scopes)],
      allowedOrigins: [...new Set(allowedOrigins)],
      expiresAt: expiresAt ? new Date(expiresAt).toISOString() : null,
    };
    return c.json(await createProjectApiKey(c.var.db, c.get("principal"), input), 201);
  })
  .openapi(listKeys, async (c) => c.json(await listApiKeys(c.var.db, c.get("principal").projectKey), 200))
  .openapi(revokeKey, async (c) => {
    await revokeProjectApiKey(c.var.db, c.get("principal"), c.req.valid("param").id);
    return c.body(null, 204);
  });
