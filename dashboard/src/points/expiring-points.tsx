import type { ExpiringPoints } from "../api/types";
import { Empty } from "../components/feedback";
import { formatNumber } from "../components/stat-card";

/** An instant as the wall clock of `timeZone` shows it, `2027-01-01 00:00` (expiries fall on local midnights). */
export function wallClock(iso: string, timeZone: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).formatToParts(date);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? "";
  return `${part("year")}-${part("month")}-${part("day")} ${part("hour")}:${part("minute")}`;
}

/** The next (at most three) dates on which points expire, in the project's time zone. */
export function ExpiringPointsList({ expiring, timeZone }: { expiring: ExpiringPoints[]; timeZone: string }) {
  return (
    <section aria-labelledby="user-expiring-heading">
      <h2 id="user-expiring-heading">Expiring points</h2>
      {expiring.length === 0 ? (
        <Empty>No points are due to expire.</Empty>
      ) : (
        <ul class="expiring-list" data-testid="user-expiring">
          {expiring.map((item) => (
            <li key={item.expiresAt}>
              <strong>{formatNumber(item.points)} points</strong> expire at <time dateTime={item.expiresAt}>{wallClock(item.expiresAt, timeZone)}</time>{" "}
              <span class="muted">({timeZone})</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
