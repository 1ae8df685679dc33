import { z } from "@hono/zod-openapi";
import { EventDefinitionBodySchema, EventDefinitionSchema, EventIdSchema } from "../domain/definition";
import { COMPLETION_EVENT_PREFIX, COMPLETION_PREFIX_RULE } from "../domain/definition-vocabulary";
import { errorResponses, eventNotFound } from "../http/errors";
import { adminRoute, jsonBody, jsonResponse } from "../http/openapi";
import { createRouter } from "../http/router";
import { deactivate, putDefinition } from "../services/definitions";

const params = z.object({ eventId: EventIdSchema });
/** `challenge:<id>` is the event id of challenge completions in the log; definitions may not take it. */
const putParams = z.object({
  eventId: EventIdSchema.refine((id) => !id.startsWith(COMPLETION_EVENT_PREFIX), COMPLETION_PREFIX_RULE),
});

const putEvent = adminRoute({
  method: "put",
  path: "/admin/events/{eventId}",
  operationId: "putEventDefinition",
  scope: "definitions:write",
  summary: "Create or replace an event definition",
  request: { params: putParams, body: jsonBody(EventDefinitionBodySchema) },
  responses: {
    200: jsonResponse(EventDefinitionSchema, "Replaced"),
    201: jsonResponse(EventDefinitionSchema, "Created"),
    ...errorResponses(400, 401, 403, 413),
  },
});

const deleteEvent = adminRoute({
  method: "delete",
  path: "/admin/events/{eventId}",
  operationId: "deactivateEventDefinition",
  scope: "definitions:write",
  summary: "Deactivate an event definition (history stays valid)",
  request: { params },
  responses: { 200: jsonResponse(EventDefinitionSchema, "Now INACTIVE"), ...errorResponses(401, 403, 404) },
});

export const adminEventsRoutes = createRouter()
  .openapi(putEvent, async (c) => {
    const { eventId } = c.req.valid("param");
    const { created, definition } = await putDefinition(c.var.db, c.get("principal").projectKey, eventId, c.req.valid("json"));
    return c.json(definition, created ? 201 : 200);
  })
  .openapi(deleteEvent, async (c) => {
    const { eventId } = c.req.valid("param");
    const definition = await deactivate(c.var.db, c.get("principal").projectKey, eventId);
    if (!definition) throw eventNotFound(eventId);
    return c.json(definition, 200);
  });
