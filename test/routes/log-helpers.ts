import { env } from "cloudflare:workers";
import { expect, vi } from "vitest";
import { POLL } from "../helpers";
import { LOGGED } from "../log-rows";

/** A POST /v1/event body for the `purchase_completed` definition. */
export const purchase = (userId: string, metadata: Record<string, unknown> = { amount: 49.99 }) => ({
  eventId: "purchase_completed",
  userId,
  metadata,
});

export async function logRows(projectId: string) {
  const { results } = await env.DB.prepare(`SELECT * FROM ${LOGGED} WHERE project_key = ? ORDER BY occurred_at, id`)
    .bind(projectId)
    .all<Record<string, unknown>>();
  return results;
}

/** The project's event-log rows once there are `count` of them (the queue writes them in the background). */
export const logRowsWhen = (projectId: string, count: number) =>
  vi.waitFor(async () => {
    const rows = await logRows(projectId);
    expect(rows).toHaveLength(count);
    return rows;
  }, POLL);

/** A JSON value nested `levels` arrays deep. */
export const nest = (levels: number): unknown => {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) value = [value];
  return value;
};
