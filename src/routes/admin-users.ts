import { z } from "@hono/zod-openapi";
import { boundedJsonObject } from "../domain/json";
import { UserIdParamSchema } from "../domain/user-id";
import { errorResponses, userNotFound } from "../http/errors";
import { adminRoute, jsonBody, jsonResponse } from "../http/openapi";
import { createRouter } from "../http/router";
import { readUser, registerUser, type UserWithBalance } from "../services/users";

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
export type UserBody = z.infer<typeof UserSchema>;

const UserBodySchema = z
  .strictObject({
    usergroups: z.array(z.string().min(1).max(100)).max(50).optional(),
    attributes: boundedJsonObject().optional(),
  })
  .openapi("UserInput");

const params = z.object({ userId: UserIdParamSchema });

const putUser = adminRoute({
  method: "put",
  path: "/admin/users/{userId}",
  operationId: "putUser",
  scope: "users:write",
  summary: "Register or update a user",
  request: { params, body: jsonBody(UserBodySchema) },
  responses: {
    200: jsonResponse(UserSchema, "Updated"),
    201: jsonResponse(UserSchema, "Registered"),
    ...errorResponses(400, 401, 403, 413),
  },
});

const getUser = adminRoute({
  method: "get",
  path: "/admin/users/{userId}",
  operationId: "getUser",
  scope: "users:read",
  summary: "Get a registered user",
  request: { params },
  responses: { 200: jsonResponse(UserSchema, "The user"), ...errorResponses(401, 403, 404) },
});

/** The API's view of a user: the D1 row without internal keys, plus the balance its object holds. */
function userBody({ user, balance }: UserWithBalance): z.infer<typeof UserSchema> {
  const { projectKey: _p, programId: _id, registrationVersion: _v, ...rest } = user;
  return { ...rest, balance };
}

export const adminUsersRoutes = createRouter()
  .openapi(putUser, async (c) => {
    const { userId } = c.req.valid("param");
    const registered = await registerUser(c.env, c.var.db, c.get("principal").projectKey, userId, c.req.valid("json"));
    return c.json(userBody(registered), registered.created ? 201 : 200);
  })
  .openapi(getUser, async (c) => {
    const { userId } = c.req.valid("param");
    const found = await readUser(c.env, c.var.db, c.get("principal").projectKey, userId);
    if (!found) throw userNotFound(userId);
    return c.json(userBody(found), 200);
  });
