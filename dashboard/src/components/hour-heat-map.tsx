const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const HOURS = Array.from({ length: 24 }, (_, hour) => hour);

/** Events per (UTC weekday, UTC hour) summed over the days of a window. */
export function weekdayHourCounts(days: Array<{ day: string; hourlyDistribution: number[] }>): number[][] {
  const grid = WEEKDAYS.map(() => HOURS.map(() => 0));
  for (const { day, hourlyDistribution } of days) {
    const weekday = (new Date(`${day}T00:00:00Z`).getUTCDay() + 6) % 7;
    hourlyDistribution.forEach((count, hour) => {
      grid[weekday]![hour]! += count;
    });
  }
  return grid;
}

/** A weekday × hour-of-day heat map (UTC) as a table: darker cells had more events; each cell states its count. */
export function HourHeatMap({ counts }: { counts: number[][] }) {
  const max = Math.max(1, ...counts.flat());
  return (
    <div class="table-scroll">
      <table class="heat-map" data-testid="hour-heat-map">
        <caption>Events by weekday and hour of day (UTC)</caption>
        <thead>
          <tr>
            <th scope="col">
              <span class="visually-hidden">Weekday</span>
            </th>
            {HOURS.map((hour) => (
              <th scope="col" key={hour}>
                {hour}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {counts.map((row, weekday) => (
            <tr key={WEEKDAYS[weekday]}>
              <th scope="row">{WEEKDAYS[weekday]}</th>
              {row.map((count, hour) => (
                <td
                  key={hour}
                  title={`${WEEKDAYS[weekday]} ${hour}:00–${hour}:59 UTC: ${count} events`}
                  style={{ "--heat": String(count / max) }}
                  data-count={count}
                >
                  <span class="visually-hidden">{count}</span>
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
