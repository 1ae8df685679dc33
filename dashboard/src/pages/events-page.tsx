import { useState } from "preact/hooks";
import { useApiClient } from "../api/context";
import { deactivateEventDefinition, listEventDefinitions, putEventDefinition } from "../api/event-definitions";
import { asFailure, type ApiFailure } from "../api/errors";
import type { EventDefinition } from "../api/types";
import { Empty, ErrorNotice, Loading } from "../components/feedback";
import { Link } from "../components/link";
import { withStatus } from "../events/definition-draft";
import { useApi } from "../lib/use-api";

/** "default 1 · gold 2" plus the unit: points, percent of the value field, or an amount of a currency. */
export function describeReward(definition: EventDefinition): string {
  const rates = Object.entries(definition.reward)
    .map(([group, rate]) => `${group} ${rate}`)
    .join(" · ");
  const unit =
    definition.rewardType === "PERCENTAGE"
      ? `% of ${definition.rewardValueField ?? "value"}`
      : definition.rewardType === "FLAT_AMOUNT"
        ? (definition.rewardCurrency ?? "")
        : definition.type === "TRANSACTION"
          ? `points per ${definition.rewardValueField ?? "unit"}`
          : "points";
  return `${rates} ${unit}`.trim();
}

const describeLimit = (definition: EventDefinition) => (definition.limit === undefined ? "no limit" : `${definition.limit} per ${definition.limitPeriod}`);

/** GET /v1/event answers 204 when a project has no definitions yet. */
export function useEventDefinitions() {
  const client = useApiClient();
  return useApi(() => listEventDefinitions(client), [client]);
}

export function EventsPage() {
  const definitions = useEventDefinitions();
  return (
    <section>
      <div class="page-heading">
        <h1>Events</h1>
        <Link to="/events/new" class="button">
          New event
        </Link>
      </div>
      {definitions.failure && <ErrorNotice failure={definitions.failure} context="Could not load the event definitions" />}
      {definitions.state === "loading" && !definitions.data && <Loading what="event definitions" />}
      {definitions.data && definitions.data.length === 0 && (
        <Empty>
          No events are defined yet. <Link to="/events/new">Define the first one</Link>.
        </Empty>
      )}
      {definitions.data && definitions.data.length > 0 && <DefinitionsTable definitions={definitions.data} onChanged={definitions.reload} />}
    </section>
  );
}

function DefinitionsTable({ definitions, onChanged }: { definitions: EventDefinition[]; onChanged: () => void }) {
  return (
    <div class="table-scroll">
      <table data-testid="events-table">
        <caption class="visually-hidden">Event definitions</caption>
        <thead>
          <tr>
            <th scope="col">Event</th>
            <th scope="col">Status</th>
            <th scope="col">Type</th>
            <th scope="col">Reward per group</th>
            <th scope="col">Limit</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {definitions.map((definition) => (
            <DefinitionRow key={definition.eventId} definition={definition} onChanged={onChanged} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function DefinitionRow({ definition, onChanged }: { definition: EventDefinition; onChanged: () => void }) {
  const client = useApiClient();
  const [pending, setPending] = useState(false);
  const [failure, setFailure] = useState<ApiFailure | null>(null);
  const active = definition.status === "ACTIVE";

  async function toggle() {
    setPending(true);
    setFailure(null);
    try {
      if (active) await deactivateEventDefinition(client, definition.eventId);
      else await putEventDefinition(client, definition.eventId, withStatus(definition, "ACTIVE"));
      onChanged();
    } catch (error) {
      setFailure(asFailure(error));
    } finally {
      setPending(false);
    }
  }

  return (
    <tr data-event-id={definition.eventId}>
      <th scope="row">
        <Link to={`/events/${encodeURIComponent(definition.eventId)}`}>{definition.eventId}</Link>
        <div class="muted">{definition.title}</div>
      </th>
      <td>
        <span class={`badge ${active ? "badge-ok" : "badge-off"}`}>{definition.status}</span>
      </td>
      <td>
        {definition.type}
        {definition.rewardType && definition.rewardType !== "LOYALTY_POINTS" && <div class="muted">{definition.rewardType}</div>}
      </td>
      <td>{describeReward(definition)}</td>
      <td>{describeLimit(definition)}</td>
      <td>
        <button
          type="button"
          class="secondary"
          disabled={pending}
          onClick={() => void toggle()}
          aria-label={`${active ? "Deactivate" : "Activate"} ${definition.eventId}`}
        >
          {active ? "Deactivate" : "Activate"}
        </button>
        {failure && <ErrorNotice failure={failure} context={`Could not ${active ? "deactivate" : "activate"} ${definition.eventId}`} />}
      </td>
    </tr>
  );
}
