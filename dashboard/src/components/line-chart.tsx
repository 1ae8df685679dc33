import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export type DailySeries = { label: string; color: string; values: number[] };

/** Days (YYYY-MM-DD, UTC) as uPlot's x values: seconds since the epoch at UTC midnight. */
const toSeconds = (day: string) => Date.parse(`${day}T00:00:00Z`) / 1000;

/**
 * A line chart of one value per UTC day (uPlot, canvas). It follows its container's width; the numbers are
 * also in the table below the chart for screen readers and for checking.
 */
export function LineChart({ title, days, series, testId }: { title: string; days: string[]; series: DailySeries[]; testId?: string }) {
  const container = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const element = container.current;
    if (!element) return;
    const width = () => Math.max(240, element.clientWidth);
    const chart = new uPlot(
      {
        width: width(),
        height: 200,
        tzDate: (seconds) => uPlot.tzDate(new Date(seconds * 1000), "Etc/UTC"),
        legend: { show: true, live: false },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
        axes: [{}, { size: 50 }],
        series: [{ label: "Day" }, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2, points: { show: days.length < 40 } }))],
      },
      [days.map(toSeconds), ...series.map((s) => s.values)],
      element,
    );
    const resize = new ResizeObserver(() => chart.setSize({ width: width(), height: 200 }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      chart.destroy();
    };
  }, [days, series]);

  return (
    <figure class="chart" data-testid={testId}>
      <figcaption>{title}</figcaption>
      <div ref={container} class="chart-canvas" role="img" aria-label={`${title}, per UTC day`} />
    </figure>
  );
}
