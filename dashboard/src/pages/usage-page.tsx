import { bodyOf } from "../api/client";
import { useApiClient } from "../api/context";
import type { Usage } from "../api/types";
import { ErrorNotice, Loading } from "../components/feedback";
import { formatNumber, StatCard } from "../components/stat-card";
import { useApi } from "../lib/use-api";

/** 1,536 → "1.5 KiB": binary units, as the storage quota counts. */
export function formatBytes(bytes: number): string {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${formatNumber(value)} bytes` : `${value.toLocaleString("en-US", { maximumFractionDigits: 1 })} ${units[unit]}`;
}

const share = (used: number, limit: number | null) => {
  if (limit === null) return "no quota";
  return limit === 0 ? "quota 0" : `${Math.min(100, Math.round((used / limit) * 100))} % of the quota`;
};

/** The project's use of its quotas (GET /v1/admin/usage): events today and stored bytes, against each quota. */
export function UsagePage() {
  const client = useApiClient();
  const usage = useApi(() => bodyOf(client.v1.admin.usage.$get()), [client]);

  return (
    <section>
      <h1>Usage</h1>
      {usage.failure && <ErrorNotice failure={usage.failure} context="Could not load the usage" />}
      {usage.state === "loading" && <Loading what="usage" />}
      {usage.data && <UsageCards usage={usage.data} />}
    </section>
  );
}

function UsageCards({ usage }: { usage: Usage }) {
  const { eventsPerDay: events, storedBytes: stored } = usage;
  const resetsAt = new Date(events.resetsAt);
  return (
    <>
      <div class="stat-grid">
        <StatCard label={`Events today (${usage.day}, UTC)`} value={formatNumber(events.used)} note={share(events.used, events.limit)} testId="usage-events" />
        <StatCard
          label="Stored in the log"
          value={formatBytes(stored.used)}
          note={`${formatNumber(stored.events)} events · ${share(stored.used, stored.limit)}`}
          testId="usage-stored"
        />
      </div>
      <section class="card" aria-labelledby="quotas-heading">
        <h2 id="quotas-heading">Quotas</h2>
        <ul class="progress-list" data-testid="usage-quotas">
          <li>
            <label for="quota-events">
              Events per day: {formatNumber(events.used)} of {events.limit === null ? "unlimited" : formatNumber(events.limit)}
              {events.source === "project" ? " (set for this project)" : " (default)"} · resets at {resetsAt.toLocaleString()}
            </label>
            {events.limit !== null && <progress id="quota-events" max={Math.max(events.limit, 1)} value={Math.min(events.used, events.limit)} />}
          </li>
          <li>
            <label for="quota-stored">
              Stored bytes: {formatBytes(stored.used)} of {stored.limit === null ? "unlimited" : formatBytes(stored.limit)}
              {stored.source === "project" ? " (set for this project)" : " (default)"}
            </label>
            {stored.limit !== null && <progress id="quota-stored" max={Math.max(stored.limit, 1)} value={Math.min(stored.used, stored.limit)} />}
          </li>
        </ul>
        <p class="muted">
          Past the events quota, logs answer 429 until the next UTC day; past the storage quota, 507. Logs are checked against usage at most{" "}
          {usage.refreshSeconds} seconds old plus the queue's delay, so a busy project may pass a quota by that much. Only the deployment's operator changes
          quotas.
        </p>
      </section>
    </>
  );
}
