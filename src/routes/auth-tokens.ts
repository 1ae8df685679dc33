import { z } from "@hono/zod-openapi";
import { rootAuthConfig } from "../auth/config";
import { UserIdParamSchema } from "../domain/user-id";
import { errorResponses } from "../http/errors";
import { jsonBody, jsonResponse, serverRoute } from "../http/openapi";
import { createRouter } from "../http/router";
import { DEFAULT_MINTED_TTL_SECONDS, MAX_MINTED_TTL_SECONDS, mintUserToken } from "../services/credentials";

const TokenRequestSchema = z
  .strictObject({
    userId: UserIdParamSchema,
    ttlSeconds: z
      .number()
      .int()
      .min(60)
      .max(MAX_MINTED_TTL_SECONDS)
      .optional()
      .describe(`Lifetime in seconds (default ${DEFAULT_MINTED_TTL_SECONDS}, at most ${MAX_MINTED_TTL_SECONDS}; JWT_MAX_TTL_SECONDS caps it further)`),
  })
  .openapi("UserTokenRequest");
const TokenSchema = z.object({ token: z.string(), expiresAt: z.string() }).openapi("UserToken");
export type UserTokenBody = z.infer<typeof TokenSchema>;

const mintToken = serverRoute({
  method: "post",
  path: "/auth/tokens",
  operationId: "mintUserToken",
  scope: "tokens:mint",
  tags: ["Auth"],
  summary: "Exchange an API key for a user token",
  description:
    "The recommended way to give an app its user's token: the tenant's backend calls this with its key and hands the token to the app, and never holds a signing secret. The token acts only for `userId` in the key's project.",
  request: { body: jsonBody(TokenRequestSchema) },
  responses: { 200: jsonResponse(TokenSchema, "A user token"), ...errorResponses(400, 401, 403) },
});

export const authTokensRoutes = createRouter().openapi(mintToken, async (c) => {
  const { userId, ttlSeconds } = c.req.valid("json");
  return c.json(await mintUserToken(rootAuthConfig(c.env), c.get("principal").projectKey, userId, ttlSeconds), 200);
});
