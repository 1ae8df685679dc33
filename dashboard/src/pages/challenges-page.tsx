import { useState } from "preact/hooks";
import { bodyOf } from "../api/client";
import { useApiClient } from "../api/context";
import type { ChallengeDefinition } from "../api/types";
import { Empty, ErrorNotice, Loading } from "../components/feedback";
import { ChallengeForm } from "../games/challenge-form";
import { useApi } from "../lib/use-api";

export function ChallengesPage() {
  const client = useApiClient();
  const challenges = useApi(() => bodyOf(client.v1.admin.challenges.$get()), [client]);
  const [editing, setEditing] = useState<{ challenge: ChallengeDefinition | null } | null>(null);

  return (
    <section>
      <div class="page-heading">
        <h1>Challenges</h1>
        <button type="button" onClick={() => setEditing({ challenge: null })}>
          New challenge
        </button>
      </div>
      {editing && (
        <ChallengeForm
          key={editing.challenge?.challengeId ?? "new"}
          challenge={editing.challenge}
          onCancel={() => setEditing(null)}
          onSaved={() => {
            setEditing(null);
            challenges.reload();
          }}
        />
      )}
      {challenges.failure && <ErrorNotice failure={challenges.failure} context="Could not load the challenges" />}
      {challenges.state === "loading" && !challenges.data && <Loading what="challenges" />}
      {challenges.data && challenges.data.length === 0 && <Empty>No challenges yet: a challenge rewards reaching a target within a period.</Empty>}
      {challenges.data && challenges.data.length > 0 && (
        <div class="table-scroll">
          <table data-testid="challenges-table">
            <caption class="visually-hidden">Challenges</caption>
            <thead>
              <tr>
                <th scope="col">Challenge</th>
                <th scope="col">Status</th>
                <th scope="col">Goal</th>
                <th scope="col">Events</th>
                <th scope="col">Bonus</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {challenges.data.map((c) => (
                <tr key={c.challengeId}>
                  <th scope="row">
                    {c.challengeId}
                    <div class="muted">{c.title}</div>
                  </th>
                  <td>
                    <span class={`badge ${c.status === "ACTIVE" ? "badge-ok" : "badge-off"}`}>{c.status}</span>
                  </td>
                  <td>
                    {c.metric === "count" ? `${c.target} logs` : `${c.field ?? "value"} sums to ${c.target}`} per {c.period === "once" ? "lifetime" : `${c.period} (${c.timezone})`}
                  </td>
                  <td>{c.eventIds.join(", ")}</td>
                  <td>{c.rewardPoints} points</td>
                  <td>
                    <button type="button" class="secondary" onClick={() => setEditing({ challenge: c })} aria-label={`Edit challenge ${c.challengeId}`}>
                      Edit
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
