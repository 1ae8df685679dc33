import { z } from "@hono/zod-openapi";
import { errorResponses } from "../http/errors";
import { adminRoute, jsonBody, jsonResponse } from "../http/openapi";
import { createRouter } from "../http/router";
import { createSigningKey, mustBeUnboundCredential, revokeProjectSigningKey, signingKeysOf } from "../services/credentials";

const SigningKeySchema = z
  .object({ kid: z.string().describe("Put this in the token's header as `kid`"), name: z.string(), createdAt: z.string() })
  .openapi("SigningKey");
const CreatedSigningKeySchema = SigningKeySchema.extend({
  secret: z.string().describe("The HS256 secret (its UTF-8 bytes are the key), shown once; stored encrypted"),
}).openapi("CreatedSigningKey");
export type SigningKeyBody = z.infer<typeof SigningKeySchema>;
export type CreatedSigningKeyBody = z.infer<typeof CreatedSigningKeySchema>;

const createKey = adminRoute({
  method: "post",
  path: "/admin/signing-keys",
  operationId: "createSigningKey",
  scope: "admin",
  summary: "Create an HS256 signing key for the project's own tokens",
  description:
    "Tokens signed with it carry its `kid` in the header, act only in this project (a different `projectId` claim is refused) and take `sub`, `role` (user|admin) and `exp` from their claims. At most 10 active keys.",
  request: { body: jsonBody(z.strictObject({ name: z.string().min(1).max(100) }).openapi("SigningKeyInput")) },
  responses: { 201: jsonResponse(CreatedSigningKeySchema, "Created; the secret is shown only here"), ...errorResponses(400, 401, 403, 409) },
});

const listKeys = adminRoute({
  method: "get",
  path: "/admin/signing-keys",
  operationId: "listSigningKeys",
  scope: "admin",
  summary: "List the project's active signing keys (no secrets)",
  responses: { 200: jsonResponse(z.array(SigningKeySchema), "Active keys"), ...errorResponses(401, 403) },
});

const revokeKey = adminRoute({
  method: "delete",
  path: "/admin/signing-keys/{kid}",
  operationId: "revokeSigningKey",
  scope: "admin",
  summary: "Revoke a signing key",
  description: "Tokens signed with it stop working at once in this isolate and within 30 seconds everywhere.",
  request: { params: z.object({ kid: z.string().min(1).max(100) }) },
  responses: { 204: { description: "Revoked" }, ...errorResponses(401, 403, 404) },
});

export const signingKeysRoutes = createRouter()
  .openapi(createKey, async (c) => {
    const principal = c.get("principal");
    mustBeUnboundCredential(principal);
    return c.json(await createSigningKey(c.env, c.var.db, principal.projectKey, c.req.valid("json").name), 201);
  })
  .openapi(listKeys, async (c) => c.json(await signingKeysOf(c.var.db, c.get("principal").projectKey), 200))
  .openapi(revokeKey, async (c) => {
    await revokeProjectSigningKey(c.var.db, c.get("principal").projectKey, c.req.valid("param").kid);
    return c.body(null, 204);
  });
