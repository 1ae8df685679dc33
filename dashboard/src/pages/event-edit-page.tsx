import { useApiClient } from "../api/context";
import { getEventDefinition, putEventDefinition } from "../api/event-definitions";
import type { EventDefinitionInput } from "../api/types";
import { ErrorNotice, Loading } from "../components/feedback";
import { Link } from "../components/link";
import { definitionToDraft, emptyDraft } from "../events/definition-draft";
import { EventForm } from "../events/event-form";
import { navigate } from "../lib/router";
import { useApi } from "../lib/use-api";

/** /events/new and /events/{eventId}: the definition form; saving returns to the table. */
export function EventEditPage({ eventId }: { eventId: string | null }) {
  const client = useApiClient();
  const existing = useApi(async () => (eventId === null ? null : getEventDefinition(client, eventId)), [client, eventId]);

  const save = async (id: string, input: EventDefinitionInput) => {
    // The path's id is checked by the API too (400 naming eventId), like every field of the body.
    await putEventDefinition(client, id, input);
    navigate("/events");
  };

  return (
    <section>
      <p>
        <Link to="/events">← Events</Link>
      </p>
      <h1>{eventId === null ? "New event" : `Edit ${eventId}`}</h1>
      {existing.failure && <ErrorNotice failure={existing.failure} context={`Could not load ${eventId}`} />}
      {existing.state === "loading" && <Loading what="the definition" />}
      {existing.state === "ready" && (
        <EventForm key={eventId ?? "new"} creating={eventId === null} initial={existing.data ? definitionToDraft(existing.data) : emptyDraft()} onSave={save} />
      )}
    </section>
  );
}
