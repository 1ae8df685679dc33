import { createRoute, z } from "@hono/zod-openapi";
import { requireServerRights } from "../auth/middleware";
import { getDb } from "../db/client";
import { findUser, upsertUser, type RegisteredUser } from "../db/users";
import { boundedJsonObject } from "../domain/json";
import { userStateStub } from "../durable/stub";
import { ApiError, errorResponses } from "../http/errors";
import { anyCredential, createRouter } from "../http/router";

export const UserIdSchema = z.string().min(1).max(255).openapi({ example: "user-123" });

const UserSchema = z
  .object({
    userId: z.string(),
    accountId: z.number().int().describe("Numeric id, assigned once; the ledger's loyaltyAccountId"),
    usergroups: z.array(z.string()),
    attributes: z.record(z.string(), z.unknown()),
    balance: z.number().int().describe("Points balance"),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("User");

const UserBodySchema = z
  .strictObject({
    usergroups: z.array(z.string().min(1).max(100)).max(50).optional(),
    attributes: boundedJsonObject().optional(),
  })
  .openapi("UserInput");

const params = z.object({ userId: UserIdSchema });
const userResponse = (description: string) => ({ description, content: { "application/json": { schema: UserSchema } } });

const putUser = createRoute({
  method: "put",
  path: "/admin/users/{userId}",
  summary: "Register or update a user",
  tags: ["Admin"],
  security: anyCredential,
  middleware: [requireServerRights] as const,
  request: { params, body: { required: true, content: { "application/json": { schema: UserBodySchema } } } },
  responses: { 200: userResponse("Updated"), 201: userResponse("Registered"), ...errorResponses(400, 401, 403, 413) },
});

const getUser = createRoute({
  method: "get",
  path: "/admin/users/{userId}",
  summary: "Get a registered user",
  tags: ["Admin"],
  security: anyCredential,
  middleware: [requireServerRights] as const,
  request: { params },
  responses: { 200: userResponse("The user"), ...errorResponses(401, 403, 404) },
});

/** The API's view of a user: the D1 row without internal keys, plus the balance its object holds. */
function userBody(user: RegisteredUser, balance: number) {
  const { projectKey: _p, programId: _id, ...rest } = user;
  return { ...rest, balance };
}

export const adminUsersRoutes = createRouter()
  .openapi(putUser, async (c) => {
    const { userId } = c.req.valid("param");
    const projectKey = c.get("principal").projectKey;
    // D1 first (it assigns accountId), then the user's object; a lost second write heals on the next log.
    const { created, user } = await upsertUser(getDb(c.env.DB), projectKey, userId, c.req.valid("json"));
    const balance = await userStateStub(c.env, projectKey, userId).register(user);
    const body = userBody(user, balance);
    return created ? c.json(body, 201) : c.json(body, 200);
  })
  .openapi(getUser, async (c) => {
    const { userId } = c.req.valid("param");
    const user = await findUser(getDb(c.env.DB), c.get("principal").projectKey, userId);
    if (!user) throw new ApiError(404, `User ${userId} is not registered in this project`);
    const { balance } = await userStateStub(c.env, user.projectKey, userId).snapshot();
    return c.json(userBody(user, balance), 200);
  });
