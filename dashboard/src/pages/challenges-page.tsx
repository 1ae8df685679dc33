import { bodyOf } from "../api/client";
import { DefinitionsPage } from "../games/definitions-page";
import { ChallengeForm } from "../games/challenge-form";

export function ChallengesPage() {
  return (
    <DefinitionsPage
      kind="challenge"
      load={(client) => bodyOf(client.v1.admin.challenges.$get())}
      idOf={(challenge) => challenge.challengeId}
      Form={ChallengeForm}
      empty="No challenges yet: a challenge rewards reaching a target within a period."
      list={(challenges, edit) => (
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
              {challenges.map((c) => (
                <tr key={c.challengeId}>
                  <th scope="row">
                    {c.challengeId}
                    <div class="muted">{c.title}</div>
                  </th>
                  <td>
                    <span class={`badge ${c.status === "ACTIVE" ? "badge-ok" : "badge-off"}`}>{c.status}</span>
                  </td>
                  <td>
                    {c.metric === "count" ? `${c.target} logs` : `${c.field ?? "value"} sums to ${c.target}`} per{" "}
                    {c.period === "once" ? "lifetime" : `${c.period} (${c.timezone})`}
                  </td>
                  <td>{c.eventIds.join(", ")}</td>
                  <td>{c.rewardPoints} points</td>
                  <td>
                    <button type="button" class="secondary" onClick={() => edit(c)} aria-label={`Edit challenge ${c.challengeId}`}>
                      Edit
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    />
  );
}
