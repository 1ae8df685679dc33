import type { ComponentChildren, ComponentType } from "preact";
import { useState } from "preact/hooks";
import type { ApiClient } from "../api/client";
import { useApiClient } from "../api/context";
import { Empty, ErrorNotice, Loading } from "../components/feedback";
import { useApi } from "../lib/use-api";
import type { DefinitionFormProps } from "./definition-form";

/**
 * The page of one kind of definition (streaks, challenges, leaderboards): the heading with its New button, the
 * form (reloading the list once saved), the list's loading, failure and empty states, and the list as `list` draws
 * it, with an Edit action per definition. `children` follow the list (a leaderboard's standings).
 */
export function DefinitionsPage<D>(props: {
  /** Singular and lower case (`streak`): the heading, button and messages say it. */
  kind: string;
  load: (client: ApiClient) => Promise<D[]>;
  idOf: (definition: D) => string;
  Form: ComponentType<DefinitionFormProps<D>>;
  empty: ComponentChildren;
  list: (definitions: D[], edit: (definition: D) => void) => ComponentChildren;
  children?: (definitions: D[] | null) => ComponentChildren;
}) {
  const { kind, idOf, Form } = props;
  const client = useApiClient();
  const definitions = useApi(() => props.load(client), [client]);
  const [editing, setEditing] = useState<{ definition: D | null } | null>(null);
  const plural = `${kind}s`;

  return (
    <section>
      <div class="page-heading">
        <h1>{`${plural[0]!.toUpperCase()}${plural.slice(1)}`}</h1>
        <button type="button" onClick={() => setEditing({ definition: null })}>
          {`New ${kind}`}
        </button>
      </div>
      {editing && (
        <Form
          key={editing.definition ? idOf(editing.definition) : "new"}
          definition={editing.definition}
          onCancel={() => setEditing(null)}
          onSaved={() => {
            setEditing(null);
            definitions.reload();
          }}
        />
      )}
      {definitions.failure && <ErrorNotice failure={definitions.failure} context={`Could not load the ${plural}`} />}
      {definitions.state === "loading" && !definitions.data && <Loading what={plural} />}
      {definitions.data && definitions.data.length === 0 && <Empty>{props.empty}</Empty>}
      {definitions.data && definitions.data.length > 0 && props.list(definitions.data, (definition) => setEditing({ definition }))}
      {props.children?.(definitions.data)}
    </section>
  );
}
