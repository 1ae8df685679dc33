import { useMemo, useState } from "preact/hooks";
import { bodyOf } from "../api/client";
import { useApiClient } from "../api/context";
import type { EventStats, GlobalStats, StatsAnswer } from "../api/types";
import { Empty, ErrorNotice, Loading } from "../components/feedback";
import { describedBy, Field } from "../components/fields";
import { Funnel } from "../components/funnel";
import { HourHeatMap, weekdayHourCounts } from "../components/hour-heat-map";
import { LineChart, type DailySeries } from "../components/line-chart";
import { currentMonth, PeriodPicker, statsQuery, type StatsSelection } from "../components/period-picker";
import { formatNumber, StatCard } from "../components/stat-card";
import { useApi } from "../lib/use-api";
import { useEventDefinitions } from "./events-page";

const isGlobal = (data: StatsAnswer["data"]): data is GlobalStats => "totalEvents" in data;
const isPerEvent = (data: StatsAnswer["data"]): data is EventStats => "totalCount" in data;

export function AnalyticsPage() {
  const client = useApiClient();
  const [selection, setSelection] = useState<StatsSelection>({ period: "7d", month: currentMonth() });
  const stats = useApi(() => bodyOf(client.v1.stats.event.$get({ query: statsQuery(selection) })), [client, selection.period, selection.month]);
  const global = stats.data && isGlobal(stats.data.data) ? stats.data.data : null;

  return (
    <section>
      <h1>Analytics</h1>
      <PeriodPicker value={selection} onChange={setSelection} />
      {stats.failure && <ErrorNotice failure={stats.failure} context="Could not load the statistics" />}
      {stats.state === "loading" && <Loading what="statistics" />}
      {stats.data && global && (
        <>
          <p class="muted" data-testid="stats-window">
            {stats.data.startDate} to {stats.data.endDate} (UTC)
          </p>
          <GlobalTotals stats={global} />
          {global.totalEvents === 0 ? <Empty>No events were logged in this period.</Empty> : <GlobalCharts stats={global} />}
        </>
      )}
      <EventFunnel selection={selection} busiestEventId={global?.topEvents[0] ?? null} />
    </section>
  );
}

function GlobalTotals({ stats }: { stats: GlobalStats }) {
  return (
    <div class="stat-grid">
      <StatCard label="Events" value={formatNumber(stats.totalEvents)} testId="total-events" />
      <StatCard label="Users" value={formatNumber(stats.uniqueUsers)} note="unique, exact" testId="unique-users" />
      <StatCard label="Points" value={formatNumber(stats.totalPoints)} testId="total-points" />
    </div>
  );
}

function GlobalCharts({ stats }: { stats: GlobalStats }) {
  const days = useMemo(() => Object.keys(stats.dailyData).sort(), [stats]);
  const series = useMemo(() => {
    const values = (pick: (d: GlobalStats["dailyData"][string]) => number) => days.map((day) => pick(stats.dailyData[day]!));
    return {
      events: [{ label: "Events", color: "#2563eb", values: values((d) => d.events) }] satisfies DailySeries[],
      users: [{ label: "Users", color: "#16a34a", values: values((d) => d.users) }] satisfies DailySeries[],
      points: [{ label: "Points", color: "#d97706", values: values((d) => d.points) }] satisfies DailySeries[],
    };
  }, [days, stats]);
  const heat = useMemo(() => weekdayHourCounts(days.map((day) => ({ day, hourlyDistribution: stats.dailyData[day]!.hourlyDistribution }))), [days, stats]);

  return (
    <>
      <div class="chart-grid">
        <LineChart title="Events per day" days={days} series={series.events} testId="chart-events" />
        <LineChart title="Users per day" days={days} series={series.users} testId="chart-users" />
        <LineChart title="Points per day" days={days} series={series.points} testId="chart-points" />
      </div>
      <HourHeatMap counts={heat} />
      <TopEvents stats={stats} />
    </>
  );
}

function TopEvents({ stats }: { stats: GlobalStats }) {
  return (
    <div class="table-scroll">
      <table data-testid="top-events">
        <caption>Top events</caption>
        <thead>
          <tr>
            <th scope="col">Event</th>
            <th scope="col">Logs</th>
            <th scope="col">Users</th>
            <th scope="col">Points</th>
          </tr>
        </thead>
        <tbody>
          {stats.topEvents.map((eventId) => {
            const row = stats.eventBreakdown[eventId];
            return (
              <tr key={eventId} data-event-id={eventId}>
                <th scope="row">{eventId}</th>
                <td>{formatNumber(row?.count ?? 0)}</td>
                <td>{formatNumber(row?.users ?? 0)}</td>
                <td>{formatNumber(row?.points ?? 0)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** The per-event funnel for the same period. */
function EventFunnel({ selection, busiestEventId }: { selection: StatsSelection; busiestEventId: string | null }) {
  const client = useApiClient();
  const definitions = useEventDefinitions();
  const [eventId, setEventId] = useState("");
  // Until one is picked: the period's busiest event, else the first definition.
  const chosen = eventId || busiestEventId || definitions.data?.[0]?.eventId || "";
  const stats = useApi(
    async () => (chosen ? bodyOf(client.v1.stats.event.$get({ query: statsQuery(selection, chosen) })) : null),
    [client, chosen, selection.period, selection.month],
  );
  const perEvent = stats.data && isPerEvent(stats.data.data) ? stats.data.data : null;
  return (
    <section class="card" aria-labelledby="funnel-heading">
      <h2 id="funnel-heading">Funnel of one event</h2>
      {definitions.failure && <ErrorNotice failure={definitions.failure} context="Could not load the events" />}
      {definitions.data && definitions.data.length === 0 && <Empty>No events are defined yet.</Empty>}
      {definitions.data && definitions.data.length > 0 && (
        <Field id="funnel-event" label="Event">
          <select {...describedBy("funnel-event")} value={chosen} onChange={(e) => setEventId(e.currentTarget.value)}>
            {definitions.data.map((d) => (
              <option key={d.eventId} value={d.eventId}>
                {d.eventId}
              </option>
            ))}
          </select>
        </Field>
      )}
      {stats.failure && <ErrorNotice failure={stats.failure} context={`Could not load the statistics of ${chosen}`} />}
      {stats.state === "loading" && chosen && <Loading what={`the funnel of ${chosen}`} />}
      {perEvent && <Funnel stats={perEvent} />}
    </section>
  );
}
