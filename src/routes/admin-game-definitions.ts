import { z } from "@hono/zod-openapi";
import { getDb } from "../db/client";
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
import { deactivateGame, projectCatalogue, putGameDefinition, type Catalogue } from "../services/definitions";

/** What differs between the definition resources beside event definitions (streaks; challenges and leaderboards later). */
type Resource<Body extends z.ZodType, Document extends z.ZodType, Collection extends string, IdName extends string> = {
  kind: GameDefinitionKind;
  /** The path segment (`streaks`) and the path parameter naming one (`streakId`); literal types keep AppType's paths exact. */
  collection: Collection;
  idName: IdName;
  label: string;
  body: Body;
  document: Document;
  inCatalogue: (catalogue: Catalogue) => Map<string, z.infer<Document> & { version?: number }>;
};

/** The document as the API shows it: the catalogue's internal version stays internal. */
const asDocument = <T extends { version?: number }>({ version: _version, ...document }: T) => document;

/** PUT (201/200), GET one, GET all, DELETE (sets INACTIVE) for one kind of definition, all admin-only. */
function definitionRoutes<Body extends z.ZodType, Document extends z.ZodType, Collection extends string, IdName extends string>(
  resource: Resource<Body, Document, Collection, IdName>,
) {
  const { collection, idName, label, kind } = resource;
  // Stable operation ids (the typed client's method names): putStreak, getStreak, deactivateStreak, listStreaks…
  const Kind = `${kind[0]!.toUpperCase()}${kind.slice(1)}`;
  const params = z.object({ [idName]: DefinitionIdSchema });
  const one = `/admin/${collection}/{${idName}}` as const;
  const notFound = (id: string) => new ApiError(404, `${label[0]!.toUpperCase()}${label.slice(1)} ${id} does not exist in this project`);
  // Generic over the resource, so the validated inputs are read untyped and typed here.
  const validated = (c: { req: unknown }, target: "param" | "json") => (c.req as { valid: (t: string) => unknown }).valid(target);
  const idOf = (c: { req: unknown }) => (validated(c, "param") as Record<string, string>)[idName]!;

  const put = adminRoute({
    method: "put",
    path: one,
    operationId: `put${Kind}`,
    scope: "definitions:write",
    summary: `Create or replace a ${label}`,
    request: { params, body: jsonBody(resource.body) },
    responses: {
      200: jsonResponse(resource.document, "Replaced"),
      201: jsonResponse(resource.document, "Created"),
      ...errorResponses(400, 401, 403, 413),
    },
  });
  const list = adminRoute({
    method: "get",
    path: `/admin/${collection}` as const,
    operationId: `list${Kind}s`,
    scope: "events:read",
    summary: `List the project's ${label}s`,
    responses: { 200: jsonResponse(z.array(resource.document), `All ${label}s, by id`), ...errorResponses(401, 403) },
  });
  const get = adminRoute({
    method: "get",
    path: one,
    operationId: `get${Kind}`,
    scope: "events:read",
    summary: `Get a ${label}`,
    request: { params },
    responses: { 200: jsonResponse(resource.document, `The ${label}`), ...errorResponses(401, 403, 404) },
  });
  const remove = adminRoute({
    method: "delete",
    path: one,
    operationId: `deactivate${Kind}`,
    scope: "definitions:write",
    summary: `Deactivate a ${label} (its history stays)`,
    request: { params },
    responses: { 200: jsonResponse(resource.document, "Now INACTIVE"), ...errorResponses(401, 403, 404) },
  });

  return createRouter()
    .openapi(put, async (c) => {
      const id = idOf(c);
      const document = { [idName]: id, ...(validated(c, "json") as object) } as { status: "ACTIVE" | "INACTIVE" };
      const { created } = await putGameDefinition(getDb(c.env.DB), c.get("principal").projectKey, kind, id, document);
      return c.json(document as z.infer<Document>, created ? 201 : 200);
    })
    .openapi(list, async (c) => {
      const catalogue = await projectCatalogue(getDb(c.env.DB), c.get("principal").projectKey);
      return c.json([...resource.inCatalogue(catalogue).values()].map(asDocument) as z.infer<Document>[], 200);
    })
    .openapi(get, async (c) => {
      const id = idOf(c);
      const found = resource.inCatalogue(await projectCatalogue(getDb(c.env.DB), c.get("principal").projectKey)).get(id);
      if (found === undefined) throw notFound(id);
      return c.json(asDocument(found) as z.infer<Document>, 200);
    })
    .openapi(remove, async (c) => {
      const id = idOf(c);
      const document = await deactivateGame(getDb(c.env.DB), c.get("principal").projectKey, kind, id);
      if (document === null) throw notFound(id);
      return c.json(document as z.infer<Document>, 200);
    });
}

export const adminStreaksRoutes = definitionRoutes({
  kind: "streak",
  collection: "streaks",
  idName: "streakId",
  label: "streak",
  body: StreakDefinitionBodySchema,
  document: StreakDefinitionSchema,
  inCatalogue: (catalogue) => catalogue.streaks,
});

export const adminChallengesRoutes = definitionRoutes({
  kind: "challenge",
  collection: "challenges",
  idName: "challengeId",
  label: "challenge",
  body: ChallengeDefinitionBodySchema,
  document: ChallengeDefinitionSchema,
  inCatalogue: (catalogue) => catalogue.challenges,
});

export const adminLeaderboardsRoutes = definitionRoutes({
  kind: "leaderboard",
  collection: "leaderboards",
  idName: "leaderboardId",
  label: "leaderboard",
  body: LeaderboardDefinitionBodySchema,
  document: LeaderboardDefinitionSchema,
  inCatalogue: (catalogue) => catalogue.leaderboards,
});
