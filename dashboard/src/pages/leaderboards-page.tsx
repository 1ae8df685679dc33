import { useState } from "preact/hooks";
import { bodyOf } from "../api/client";
import { useApiClient } from "../api/context";
import type { Standings } from "../api/types";
import { Empty, ErrorNotice, Loading } from "../components/feedback";
import { describedBy, Field } from "../components/fields";
import { Link } from "../components/link";
import { formatNumber } from "../components/stat-card";
import { DefinitionsPage } from "../games/definitions-page";
import { LeaderboardForm } from "../games/leaderboard-form";
import { periodStartOf, shiftPeriod } from "../lib/periods";
import { useApi } from "../lib/use-api";

/** The leaderboards, and the standings of the one the path names (else the first). */
export function LeaderboardsPage({ leaderboardId }: { leaderboardId: string | null }) {
  const shownOf = (boards: Array<{ leaderboardId: string }> | null) => leaderboardId ?? boards?.[0]?.leaderboardId ?? null;
  return (
    <DefinitionsPage
      kind="leaderboard"
      load={(client) => bodyOf(client.v1.admin.leaderboards.$get())}
      idOf={(board) => board.leaderboardId}
      Form={LeaderboardForm}
      empty="No leaderboards yet: a leaderboard ranks users by points or by a count of logs."
      list={(boards, edit) => (
        <ul class="board-list">
          {boards.map((board) => (
            <li key={board.leaderboardId}>
              <Link to={`/leaderboards/${encodeURIComponent(board.leaderboardId)}`} current={board.leaderboardId === shownOf(boards)}>
                {board.title}
              </Link>{" "}
              <span class="muted">
                {board.metric} per {board.period} ({board.timezone}) · {board.status}
              </span>{" "}
              <button type="button" class="secondary small" onClick={() => edit(board)} aria-label={`Edit leaderboard ${board.leaderboardId}`}>
                Edit
              </button>
            </li>
          ))}
        </ul>
      )}
    >
      {(boards) => {
        const shown = shownOf(boards);
        return shown && <StandingsView key={shown} leaderboardId={shown} />;
      }}
    </DefinitionsPage>
  );
}

const PAGE_SIZE = 25;

/** A board's standings for the current period or a past one, with ranks (1, 2, 2, 4). */
function StandingsView({ leaderboardId }: { leaderboardId: string }) {
  const client = useApiClient();
  const [periodStart, setPeriodStart] = useState<string | null>(null);
  const [offset, setOffset] = useState(0);
  const standings = useApi(
    () =>
      bodyOf(
        client.v1.leaderboards[":leaderboardId"].$get({
          param: { leaderboardId },
          query: { limit: String(PAGE_SIZE), offset: String(offset), ...(periodStart ? { periodStart } : {}) },
        }),
      ),
    [client, leaderboardId, periodStart, offset],
  );
  const data = standings.data;
  const choosePeriod = (start: string | null) => {
    setPeriodStart(start);
    setOffset(0);
  };

  return (
    <section class="card" aria-labelledby="standings-heading" data-testid="standings">
      <h2 id="standings-heading">{data?.title ?? leaderboardId}</h2>
      {data && <PeriodNavigator standings={data} viewingCurrent={periodStart === null} onChoose={choosePeriod} />}
      {standings.failure && <ErrorNotice failure={standings.failure} context="Could not load the standings" />}
      {standings.state === "loading" && <Loading what="standings" />}
      {data && data.entries.length === 0 && <Empty>Nobody has a score in this period yet.</Empty>}
      {data && data.entries.length > 0 && (
        <div class="table-scroll">
          <table data-testid="standings-table">
            <caption>
              {data.totalParticipants} participant{data.totalParticipants === 1 ? "" : "s"}
            </caption>
            <thead>
              <tr>
                <th scope="col">Rank</th>
                <th scope="col">User</th>
                <th scope="col">Score</th>
              </tr>
            </thead>
            <tbody>
              {data.entries.map((entry) => (
                <tr key={entry.userId} data-user-id={entry.userId}>
                  <td data-testid="rank">{entry.rank}</td>
                  <th scope="row">
                    <Link to={`/users/${encodeURIComponent(entry.userId)}`}>{entry.userId}</Link>
                  </th>
                  <td data-testid="score">{formatNumber(entry.score)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {data && data.totalParticipants > PAGE_SIZE && (
        <div class="button-row">
          <button type="button" class="secondary" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE_SIZE))}>
            ← Higher ranks
          </button>
          <button type="button" class="secondary" disabled={offset + PAGE_SIZE >= data.totalParticipants} onClick={() => setOffset(offset + PAGE_SIZE)}>
            Lower ranks →
          </button>
        </div>
      )}
    </section>
  );
}

function PeriodNavigator({ standings, viewingCurrent, onChoose }: { standings: Standings; viewingCurrent: boolean; onChoose: (start: string | null) => void }) {
  const { period, periodStart, periodEnd } = standings;
  if (period === "all" || periodStart === null) return <p class="muted">All time</p>;
  const today = new Date().toISOString().slice(0, 10);
  const next = shiftPeriod(period, periodStart, 1);
  // The board's own time zone decides its current period; "today" here is the viewer's UTC date, close enough to
  // tell whether the next period is the current one (the API refuses one after it).
  const currentStart = periodStartOf(period, today);
  return (
    <div class="inline-fields period-navigator">
      <p data-testid="standings-period">
        {periodStart === periodEnd ? periodStart : `${periodStart} to ${periodEnd}`} {viewingCurrent && <span class="badge badge-ok">current</span>}
      </p>
      <button type="button" class="secondary" onClick={() => onChoose(shiftPeriod(period, periodStart, -1))}>
        ← Previous {period}
      </button>
      <button type="button" class="secondary" disabled={viewingCurrent} onClick={() => onChoose(next >= currentStart ? null : next)}>
        Next {period} →
      </button>
      <Field id="standings-date" label={`The ${period} containing`}>
        <input
          {...describedBy("standings-date")}
          type="date"
          max={today}
          value={periodStart}
          onChange={(e) => e.currentTarget.value && onChoose(periodStartOf(period, e.currentTarget.value))}
        />
      </Field>
      {!viewingCurrent && (
        <button type="button" class="secondary" onClick={() => onChoose(null)}>
          Current {period}
        </button>
      )}
    </div>
  );
}
