import { z } from "@hono/zod-openapi";
import {
  ChallengeDefinitionBodySchema,
  ChallengeDefinitionSchema,
  DefinitionIdSchema,
  LeaderboardDefinitionBodySchema,
  LeaderboardDefinitionSchema,
  StreakDefinitionBodySchema,
  StreakDefinitionSchema,
  type GameDefinitionKind,
} from "../domain/game-definitions";
import { ApiError, errorResponses } from "../http/errors";
import { adminRoute, jsonBody, jsonResponse } from "../http/openapi";
import { createRouter } from "../http/router";
import { deactivateGame, projectCatalogue, putGameDefinition } from "../services/definitions";

/** A PUT's validated input, as every kind has it (`Body` is generic, so the route's own types stay unresolved here). */
type PutInput = { valid(target: "param"): Record<string, string>; valid(target: "json"): { status: "ACTIVE" | "INACTIVE" } };

/** A catalogue entry as the API shows it: the catalogue's internal version stays internal. */
function withoutVersion(stored: object): object {
  const { version: _version, ...document } = stored as { version?: number };
  return document;
}

/**
 * PUT (201/200), GET one, GET all, DELETE (sets INACTIVE) for one kind of definition, all admin-only: what the
 * kind's definitions take and answer, the rest follows from its name (path segment `streaks`, parameter `streakId`,
 * `catalogue.streaks`, operation ids, texts).
 */
function definitionRoutes<Kind extends GameDefinitionKind, Body extends z.ZodType<object>, Document extends z.ZodType>(
  kind: Kind,
  body: Body,
  document: Document,
) {
  // Literal types keep AppType's paths exact (`/admin/streaks/{streakId}`).
  const collection = `${kind}s` as const;
  const idName = `${kind}Id` as const;
  // Stable operation ids (the typed client's method names): putStreak, getStreak, deactivateStreak, listStreaks…
  const Kind = `${kind[0]!.toUpperCase()}${kind.slice(1)}`;
  const params = z.object({ [idName]: DefinitionIdSchema });
  const one = `/admin/${collection}/{${idName}}` as const;
  const notFound = (id: string) => new ApiError(404, `${Kind} ${id} does not exist in this project`);

  const put = adminRoute({
    method: "put",
    path: one,
    operationId: `put${Kind}`,
    scope: "definitions:write",
    summary: `Create or replace a ${kind}`,
    request: { params, body: jsonBody(body) },
    responses: {
      200: jsonResponse(document, "Replaced"),
      201: jsonResponse(document, "Created"),
      ...errorResponses(400, 401, 403, 413),
    },
  });
  const list = adminRoute({
    method: "get",
    path: `/admin/${collection}` as const,
    operationId: `list${Kind}s`,
    scope: "events:read",
    summary: `List the project's ${kind}s`,
    responses: { 200: jsonResponse(z.array(document), `All ${kind}s, by id`), ...errorResponses(401, 403) },
  });
  const get = adminRoute({
    method: "get",
    path: one,
    operationId: `get${Kind}`,
    scope: "events:read",
    summary: `Get a ${kind}`,
    request: { params },
    responses: { 200: jsonResponse(document, `The ${kind}`), ...errorResponses(401, 403, 404) },
  });
  const remove = adminRoute({
    method: "delete",
    path: one,
    operationId: `deactivate${Kind}`,
    scope: "definitions:write",
    summary: `Deactivate a ${kind} (its history stays)`,
    request: { params },
    responses: { 200: jsonResponse(document, "Now INACTIVE"), ...errorResponses(401, 403, 404) },
  });

  // D1 and the catalogue hold every kind's documents alike, untyped by kind: typed as this kind's answer here, once.
  const answer = (stored: object) => stored as z.infer<Document>;

  // Every handler's id is there: `params` requires it.
  return createRouter()
    .openapi(put, async (c) => {
      const input = c.req as unknown as PutInput;
      const id = input.valid("param")[idName]!;
      const stored = { [idName]: id, ...input.valid("json") };
      const { created } = await putGameDefinition(c.var.db, c.get("principal").projectKey, kind, id, stored);
      return c.json(answer(stored), created ? 201 : 200);
    })
    .openapi(list, async (c) => {
      const catalogue = await projectCatalogue(c.var.db, c.get("principal").projectKey);
      return c.json(
        [...catalogue[collection].values()].map((stored) => answer(withoutVersion(stored))),
        200,
      );
    })
    .openapi(get, async (c) => {
      const id = c.req.valid("param")[idName]!;
      const found = (await projectCatalogue(c.var.db, c.get("principal").projectKey))[collection].get(id);
      if (found === undefined) throw notFound(id);
      return c.json(answer(withoutVersion(found)), 200);
    })
    .openapi(remove, async (c) => {
      const id = c.req.valid("param")[idName]!;
      const deactivated = await deactivateGame(c.var.db, c.get("principal").projectKey, kind, id);
      if (deactivated === null) throw notFound(id);
      return c.json(answer(deactivated as object), 200);
    });
}

export const adminStreaksRoutes = definitionRoutes("streak", StreakDefinitionBodySchema, StreakDefinitionSchema);
export const adminChallengesRoutes = definitionRoutes("challenge", ChallengeDefinitionBodySchema, ChallengeDefinitionSchema);
export const adminLeaderboardsRoutes = definitionRoutes("leaderboard", LeaderboardDefinitionBodySchema, LeaderboardDefinitionSchema);
