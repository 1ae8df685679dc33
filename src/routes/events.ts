import { z } from "@hono/zod-openapi";
import { EventDefinitionSchema, EventIdSchema, type VersionedDefinition } from "../domain/definition";
import { errorResponses, eventNotFound } from "../http/errors";
import { jsonResponse, principalRoute } from "../http/openapi";
import { createRouter } from "../http/router";
import { findDefinition, projectDefinitions } from "../services/definitions";
import { eventDefinitionExample, eventDefinitionListExample, withExamples } from "./examples";

/** The 200 bodies of GET /v1/event and GET /v1/event/{eventId}. */
export const EventDefinitionListSchema = z.array(EventDefinitionSchema);
export { EventDefinitionSchema };

const toDocument = ({ version: _version, ...document }: VersionedDefinition) => document;

const listEvents = principalRoute({
  method: "get",
  path: "/event",
  operationId: "listEventDefinitions",
  scope: "events:read",
  summary: "List event definitions",
  tags: ["Events"],
  request: {
    query: z.object({
      showAll: z.enum(["true", "false"]).default("true").openapi({ description: '"false" returns only ACTIVE events' }),
    }),
  },
  responses: {
    200: withExamples(jsonResponse(EventDefinitionListSchema, "The project's event definitions"), {
      definitions: { summary: "A project with one event (the seed's list)", value: eventDefinitionListExample },
    }),
    204: { description: "No events are configured for the project" },
    ...errorResponses(400, 401),
  },
});

const getEvent = principalRoute({
  method: "get",
  path: "/event/{eventId}",
  operationId: "getEventDefinition",
  scope: "events:read",
  summary: "Get one event definition",
  tags: ["Events"],
  request: { params: z.object({ eventId: EventIdSchema }) },
  responses: {
    200: withExamples(jsonResponse(EventDefinitionSchema, "The event definition"), {
      purchase: { summary: "A transactional event (the seed's definition)", value: eventDefinitionExample },
    }),
    ...errorResponses(400, 401, 404),
  },
});

export const eventsRoutes = createRouter()
  .openapi(listEvents, async (c) => {
    const { showAll } = c.req.valid("query");
    const definitions = [...(await projectDefinitions(c.var.db, c.get("principal").projectKey)).values()]
      .filter((d) => showAll === "true" || d.status === "ACTIVE")
      .map(toDocument);
    if (definitions.length === 0) return c.body(null, 204);
    return c.json(definitions, 200);
  })
  .openapi(getEvent, async (c) => {
    const { eventId } = c.req.valid("param");
    const definition = await findDefinition(c.var.db, c.get("principal").projectKey, eventId);
    if (!definition) throw eventNotFound(eventId);
    return c.json(toDocument(definition), 200);
  });
