import { z } from "@hono/zod-openapi";
import { boundedJsonObject, fitsInBytes } from "../domain/json";
import { MAX_BODY_BYTES, MAX_IMPORT_BODY_BYTES, MAX_IMPORT_MEMBERS, MAX_OPENING_BALANCE } from "../domain/limits";
import { UserIdParamSchema, UserIdSchema } from "../domain/user-id";
import { ApiError, ErrorEnvelopeSchema, errorResponses, invalidFields, userNotFound, validationError, type ErrorEnvelope } from "../http/errors";
import { adminRoute, jsonBody, jsonResponse } from "../http/openapi";
import { createRouter } from "../http/router";
import { openingBalanceFailure } from "../http/user-object-errors";
import { importMembers, readUser, registerUser, type ImportedMemberResult, type MemberImport, type UserWithBalance } from "../services/users";

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

/** An import's member: the PUT's body with the member's userId and an opening balance. */
const MemberImportSchema = UserBodySchema.extend({
  userId: UserIdSchema,
  openingBalance: z
    .number()
    .int()
    .min(0)
    .max(MAX_OPENING_BALANCE)
    .optional()
    .openapi({ description: "Points brought over from a previous system, credited once per member (0: none)" }),
}).openapi("MemberImportInput");

const OpeningBalanceSchema = z
  .object({
    points: z.number().int(),
    loyaltyEventId: z.number().int().describe("Its entry in the member's ledger (eventType CARD_ASSIGNMENT)"),
    creditedAt: z.string(),
    replayed: z.boolean().describe("True when an earlier import named this opening balance first (nothing is credited twice)"),
  })
  .openapi("OpeningBalance");

const ImportedMemberSchema = z
  .object({
    statusCode: z.union([z.literal(200), z.literal(201)]).describe("201 registered, 200 updated"),
    message: z.enum(["Registered", "Updated"]),
    data: UserSchema.extend({ openingBalance: OpeningBalanceSchema.nullable().describe("null without one (or with 0)") }),
  })
  .openapi("ImportedMember");
type ImportedMemberBody = z.infer<typeof ImportedMemberSchema>;
export type MemberImportResponseBody = { results: Array<ImportedMemberBody | ErrorEnvelope> };

const importUsers = adminRoute({
  method: "post",
  path: "/admin/users/batch",
  operationId: "importUsers",
  scope: "users:write",
  summary: "Import up to 1000 members (registrations and opening balances) in one call",
  description:
    "Each member is registered as PUT /v1/admin/users/{userId} registers one (usergroups and attributes replaced when given), and an `openingBalance` is credited once per member: the same amount again is replayed, another amount is that item's 409 naming `openingBalance`. One result per item, in order; a userId repeated in the call is an error for its later items. Imports count toward no quota.",
  maxBodyBytes: MAX_IMPORT_BODY_BYTES,
  request: {
    body: jsonBody(
      z.object({
        users: z.array(z.unknown()).min(1).max(MAX_IMPORT_MEMBERS).openapi({ description: "MemberImportInput items, each userId once" }),
      }),
    ),
  },
  responses: {
    200: jsonResponse(
      z.object({ results: z.array(z.union([ImportedMemberSchema, ErrorEnvelopeSchema])) }),
      "One result per item, in order: the member as registered (with its opening balance) or an error envelope",
    ),
    ...errorResponses(400, 401, 403, 413, 415, 429),
  },
});

/** Validates one raw member; an invalid one keeps the error naming `users.<i>.<field>`. */
function parseMember(raw: unknown, index: number): MemberImport | ApiError {
  const parsed = MemberImportSchema.safeParse(raw);
  if (!parsed.success) return validationError(parsed.error, "member", `users.${index}`);
  const { userId: _u, openingBalance: _o, ...registration } = parsed.data;
  // What the PUT's body limit allows one user, each member may have here.
  if (!fitsInBytes(JSON.stringify(registration), MAX_BODY_BYTES)) {
    return new ApiError(413, `Member users.${index} is larger than ${MAX_BODY_BYTES} bytes`, [
      { path: `users.${index}`, message: `usergroups and attributes must stay under ${MAX_BODY_BYTES} bytes` },
    ]);
  }
  return parsed.data;
}

/** The API's view of a user: the D1 row without internal keys, plus the balance its object holds. */
function userBody({ user, balance }: UserWithBalance): z.infer<typeof UserSchema> {
  const { projectKey: _p, programId: _id, registrationVersion: _v, openingBalance: _o, openingBalanceAt: _oa, ...rest } = user;
  return { ...rest, balance };
}

/** One imported member's result: the member as registered with its opening balance, or its item error. */
function importedMember(outcome: ImportedMemberResult, index: number): ImportedMemberBody | ApiError {
  if ("failed" in outcome) return outcome.failed;
  const { opening } = outcome;
  let openingBalance: z.infer<typeof OpeningBalanceSchema> | null = null;
  if (opening !== null) {
    if (opening.kind !== "credited" && opening.kind !== "replayed") {
      return openingBalanceFailure(opening, outcome.user.userId, `users.${index}.openingBalance`);
    }
    const { points, loyaltyEventId, creditedAt } = opening;
    openingBalance = { points, loyaltyEventId, creditedAt, replayed: opening.kind === "replayed" };
  }
  return {
    statusCode: outcome.created ? 201 : 200,
    message: outcome.created ? "Registered" : "Updated",
    data: { ...userBody(outcome), openingBalance },
  };
}

export const adminUsersRoutes = createRouter()
  .openapi(putUser, async (c) => {
    const { userId } = c.req.valid("param");
    const registered = await registerUser(c.env, c.var.db, c.get("principal").projectKey, userId, c.req.valid("json"));
    return c.json(userBody(registered), registered.created ? 201 : 200);
  })
  .openapi(importUsers, async (c) => {
    const results: Array<ImportedMemberBody | ErrorEnvelope | undefined> = [];
    const members: Array<{ index: number; member: MemberImport }> = [];
    const firstIndex = new Map<string, number>();
    for (const [index, raw] of c.req.valid("json").users.entries()) {
      const member = parseMember(raw, index);
      const first = member instanceof ApiError ? undefined : firstIndex.get(member.userId);
      if (member instanceof ApiError) results[index] = member.toEnvelope();
      else if (first !== undefined) {
        const path = `users.${index}.userId`;
        results[index] = invalidFields("member", [{ path, message: `repeats users.${first}.userId: each member once per call` }]).toEnvelope();
      } else {
        firstIndex.set(member.userId, index);
        members.push({ index, member });
      }
    }
    const imported = await importMembers(
      c.env,
      c.var.db,
      c.get("principal").projectKey,
      members.map(({ member }) => member),
    );
    imported.forEach((outcome, k) => {
      const index = members[k]!.index;
      const result = importedMember(outcome, index);
      if (result instanceof ApiError) {
        const retryAfter = result.headers["Retry-After"];
        if (retryAfter) c.header("Retry-After", retryAfter);
        results[index] = result.toEnvelope();
      } else results[index] = result;
    });
    return c.json({ results: results as Array<ImportedMemberBody | ErrorEnvelope> }, 200);
  })
  .openapi(getUser, async (c) => {
    const { userId } = c.req.valid("param");
    const found = await readUser(c.env, c.var.db, c.get("principal").projectKey, userId);
    if (!found) throw userNotFound(userId);
    return c.json(userBody(found), 200);
  });
