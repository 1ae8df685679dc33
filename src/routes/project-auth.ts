import { z } from "@hono/zod-openapi";
import { isHttpsUrl, rootAuthConfig } from "../auth/config";
import { ApiError, errorResponses } from "../http/errors";
import { adminRoute, jsonBody, jsonResponse } from "../http/openapi";
import { createRouter } from "../http/router";
import { identityProviderOf, mustBeUnboundCredential, removeIdentityProvider, setIdentityProvider } from "../services/credentials";

const IdentityProviderInputSchema = z
  .strictObject({
    jwksUrl: z.string().max(2_000).refine(isHttpsUrl, "must be an https:// URL").openapi({ example: "https://example.eu.auth0.com/.well-known/jwks.json" }),
    issuer: z.string().min(1).max(1_000).openapi({ example: "https://example.eu.auth0.com/" }),
    audience: z.string().min(1).max(1_000).optional().describe("When set, tokens must name it in `aud`"),
    userIdClaim: z
      .string()
      .regex(/^[A-Za-z0-9_:./-]{1,100}$/)
      .optional()
      .describe("The claim holding the user id (default `sub`)"),
  })
  .openapi("IdentityProviderInput");

const IdentityProviderSchema = z
  .object({ jwksUrl: z.string(), issuer: z.string(), audience: z.string().nullable(), userIdClaim: z.string(), updatedAt: z.string() })
  .openapi("IdentityProvider");
export type IdentityProviderBody = z.infer<typeof IdentityProviderSchema>;

const putAuth = adminRoute({
  method: "put",
  path: "/admin/project/auth",
  operationId: "putIdentityProvider",
  scope: "admin",
  summary: "Accept the tokens of the project's own identity provider",
  description:
    "Tokens (RS256/ES256) whose `iss` is `issuer` (and whose `aud` names `audience`, when set) are verified against `jwksUrl` and act in this project as user tokens for the user in `userIdClaim`. The key set is fetched with a 5 s timeout and a 64 KiB bound and cached for 10 minutes. An issuer belongs to one project, and never the deployment's own (JWT_ISSUER, JWKS_URL). Changes reach every isolate within 30 seconds.",
  request: { body: jsonBody(IdentityProviderInputSchema) },
  responses: { 200: jsonResponse(IdentityProviderSchema, "Saved"), ...errorResponses(400, 401, 403, 409) },
});

const getAuth = adminRoute({
  method: "get",
  path: "/admin/project/auth",
  operationId: "getIdentityProvider",
  scope: "admin",
  summary: "The project's identity provider",
  responses: { 200: jsonResponse(IdentityProviderSchema, "The configuration"), ...errorResponses(401, 403, 404) },
});

const deleteAuth = adminRoute({
  method: "delete",
  path: "/admin/project/auth",
  operationId: "deleteIdentityProvider",
  scope: "admin",
  summary: "Stop accepting the project's identity provider's tokens",
  responses: { 204: { description: "Removed" }, ...errorResponses(401, 403, 404) },
});

const asBody = ({
  projectKey: _p,
  audience,
  ...rest
}: {
  projectKey: string;
  audience: string;
  jwksUrl: string;
  issuer: string;
  userIdClaim: string;
  updatedAt: string;
}) => ({
  ...rest,
  audience: audience === "" ? null : audience,
});

export const projectAuthRoutes = createRouter()
  .openapi(putAuth, async (c) => {
    const { jwksUrl, issuer, audience = "", userIdClaim = "sub" } = c.req.valid("json");
    const principal = c.get("principal");
    mustBeUnboundCredential(principal);
    const saved = await setIdentityProvider(c.var.db, rootAuthConfig(c.env), { projectKey: principal.projectKey, jwksUrl, issuer, audience, userIdClaim });
    return c.json(asBody(saved), 200);
  })
  .openapi(getAuth, async (c) => {
    const config = await identityProviderOf(c.var.db, c.get("principal").projectKey);
    if (!config) throw new ApiError(404, "This project has no identity provider configured");
    return c.json(asBody(config), 200);
  })
  .openapi(deleteAuth, async (c) => {
    await removeIdentityProvider(c.var.db, c.get("principal").projectKey);
    return c.body(null, 204);
  });
