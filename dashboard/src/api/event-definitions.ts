import { answer, bodyOf, type ApiClient } from "./client";
import { definitionFromApi, type EventDefinition, type EventDefinitionInput } from "./types";

/** The event definition calls the dashboard makes, typed through the client. */

/** GET /v1/event?showAll=true; 204 (no definitions yet) is an empty list. */
export async function listEventDefinitions(client: ApiClient): Promise<EventDefinition[]> {
  const body = await bodyOf(client.v1.event.$get({ query: { showAll: "true" } }));
  return (body ?? []).map(definitionFromApi);
}

export const getEventDefinition = async (client: ApiClient, eventId: string): Promise<EventDefinition> =>
  definitionFromApi(await bodyOf(client.v1.event[":eventId"].$get({ param: { eventId } })));

/** PUT /v1/admin/events/{eventId}: 201 created, 200 replaced. */
export const putEventDefinition = async (client: ApiClient, eventId: string, input: EventDefinitionInput): Promise<EventDefinition> =>
  definitionFromApi(await bodyOf(client.v1.admin.events[":eventId"].$put({ param: { eventId }, json: input })));

/** DELETE /v1/admin/events/{eventId} sets it INACTIVE. */
export const deactivateEventDefinition = async (client: ApiClient, eventId: string): Promise<void> => {
  await answer(client.v1.admin.events[":eventId"].$delete({ param: { eventId } }));
};
