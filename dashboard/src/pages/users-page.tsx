import { useState } from "preact/hooks";
import { answer, bodyOf, type ApiClient } from "../api/client";
import { useApiClient } from "../api/context";
import type { PointsProfile } from "../api/types";
import { Empty, ErrorNotice, Loading } from "../components/feedback";
import { describedBy, Field } from "../components/fields";
import { formatNumber, StatCard } from "../components/stat-card";
import { LedgerTable } from "../ledger/ledger-table";
import { navigate } from "../lib/router";
import { useApi } from "../lib/use-api";

const RECENT_ENTRIES = 10;

/** A user's profile (balance, usergroups, streaks, challenges) and latest ledger entries. */
async function loadUser(client: ApiClient, userId: string) {
  const [profile, registered] = await Promise.all([
    bodyOf(client.v1.users[":userId"].$get({ param: { userId } })),
    bodyOf(client.v1.admin.users[":userId"].$get({ param: { userId } })),
  ]);
  const recent = await answer(
    client.v1["loyalty-events"].$get(
      { query: { accountid: String(registered.accountId), size: String(RECENT_ENTRIES), sort: "timestamp,desc" } },
      { headers: { accept: "application/json" } },
    ),
  );
  return { profile, registered, recent: recent.body, total: Number(recent.headers.get("X-Total-Count") ?? recent.body.length) };
}

export function UsersPage({ userId }: { userId: string | null }) {
  const [typed, setTyped] = useState(userId ?? "");
  return (
    <section>
      <h1>Users</h1>
      <form
        class="inline-fields card"
        aria-label="Look up a user"
        onSubmit={(e) => {
          e.preventDefault();
          if (typed.trim()) navigate(`/users/${encodeURIComponent(typed.trim())}`);
        }}
      >
        <Field id="user-lookup" label="User id">
          <input {...describedBy("user-lookup")} value={typed} placeholder="alice" onInput={(e) => setTyped(e.currentTarget.value)} />
        </Field>
        <button type="submit">Look up</button>
      </form>
      {userId === null ? <Empty>Enter a user id to see the balance, usergroups, streaks, challenges and recent ledger entries.</Empty> : <UserDetails key={userId} userId={userId} />}
    </section>
  );
}

function UserDetails({ userId }: { userId: string }) {
  const client = useApiClient();
  const user = useApi(() => loadUser(client, userId), [client, userId]);
  if (user.failure) return <ErrorNotice failure={user.failure} context={`Could not look up ${userId}`} />;
  if (!user.data) return <Loading what={userId} />;
  const { profile, registered, recent, total } = user.data;
  return (
    <>
      <div class="stat-grid">
        <StatCard label="Balance" value={formatNumber(profile.balance)} note="points" testId="user-balance" />
        <StatCard label="Account id" value={String(registered.accountId)} />
        <StatCard label="Usergroups" value={profile.usergroups.length > 0 ? profile.usergroups.join(", ") : "none"} testId="user-groups" />
        <StatCard label="Registered" value={registered.createdAt.slice(0, 10)} />
      </div>
      <StreakProgress profile={profile} />
      <ChallengeProgress profile={profile} />
      <section aria-labelledby="recent-heading">
        <h2 id="recent-heading">Recent ledger entries</h2>
        {recent.length === 0 ? (
          <Empty>No logged events yet.</Empty>
        ) : (
          <>
            <LedgerTable entries={recent} onAdjusted={() => user.reload()} />
            <p class="muted">
              The latest {recent.length} of {total}.
            </p>
          </>
        )}
      </section>
    </>
  );
}

function StreakProgress({ profile }: { profile: PointsProfile }) {
  return (
    <section aria-labelledby="user-streaks-heading">
      <h2 id="user-streaks-heading">Streaks</h2>
      {profile.streaks.length === 0 ? (
        <Empty>No active streaks in this project.</Empty>
      ) : (
        <div class="table-scroll">
          <table data-testid="user-streaks">
            <thead>
              <tr>
                <th scope="col">Streak</th>
                <th scope="col">Current</th>
                <th scope="col">Longest</th>
                <th scope="col">Alive</th>
                <th scope="col">Last period</th>
              </tr>
            </thead>
            <tbody>
              {profile.streaks.map((s) => (
                <tr key={s.streakId}>
                  <th scope="row">{s.streakId}</th>
                  <td>{s.current}</td>
                  <td>{s.longest}</td>
                  <td>{s.alive ? "yes" : "no"}</td>
                  <td>{s.lastPeriod ?? "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function ChallengeProgress({ profile }: { profile: PointsProfile }) {
  return (
    <section aria-labelledby="user-challenges-heading">
      <h2 id="user-challenges-heading">Challenges</h2>
      {profile.challenges.length === 0 ? (
        <Empty>No active challenges in this project.</Empty>
      ) : (
        <ul class="progress-list" data-testid="user-challenges">
          {profile.challenges.map((c) => (
            <li key={c.challengeId}>
              <label for={`challenge-progress-${c.challengeId}`}>
                {c.challengeId}: {formatNumber(c.progress)} of {formatNumber(c.target)}
                {c.completed ? " · completed" : ""}
                {c.periodStart ? ` (since ${c.periodStart})` : ""}
              </label>
              <progress id={`challenge-progress-${c.challengeId}`} max={c.target} value={Math.min(c.progress, c.target)} />
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
