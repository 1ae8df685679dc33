import { createRoute, z } from "@hono/zod-openapi";
import { requireServerRights } from "../auth/middleware";
import { getDb } from "../db/client";
import { deactivateDefinition, putDefinition } from "../db/definitions";
import { EventDefinitionBodySchema, EventDefinitionSchema, EventIdSchema } from "../domain/definition";
import { ApiError, errorResponses } from "../http/errors";
import { anyCredential, createRouter } from "../http/router";

const params = z.object({ eventId: EventIdSchema });
const definitionResponse = (description: string) => ({
  description,
  content: { "application/json": { schema: EventDefinitionSchema } },
});

const putEvent = createRoute({
  method: "put",
  path: "/admin/events/{eventId}",
  summary: "Create or replace an event definition",
  tags: ["Admin"],
  security: anyCredential,
  middleware: [requireServerRights] as const,
  request: {
    params,
    body: { required: true, content: { "application/json": { schema: EventDefinitionBodySchema } } },
  },
  responses: {
    200: definitionResponse("Replaced"),
    201: definitionResponse("Created"),
    ...errorResponses(400, 401, 403, 413),
  },
});

const deleteEvent = createRoute({
  method: "delete",
  path: "/admin/events/{eventId}",
  summary: "Deactivate an event definition (history stays valid)",
  tags: ["Admin"],
  security: anyCredential,
  middleware: [requireServerRights] as const,
  request: { params },
  responses: { 200: definitionResponse("Now INACTIVE"), ...errorResponses(401, 403, 404) },
});

export const adminEventsRoutes = createRouter()
  .openapi(putEvent, async (c) => {
    const { eventId } = c.req.valid("param");
    const { created, definition } = await putDefinition(getDb(c.env.DB), c.get("principal").projectKey, eventId, c.req.valid("json"));
    return created ? c.json(definition, 201) : c.json(definition, 200);
  })
  .openapi(deleteEvent, async (c) => {
    const { eventId } = c.req.valid("param");
    const definition = await deactivateDefinition(getDb(c.env.DB), c.get("principal").projectKey, eventId);
    if (!definition) throw new ApiError(404, `Event ${eventId} does not exist in this project`);
    return c.json(definition, 200);
  });
