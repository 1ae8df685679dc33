import { describe, expect, it } from "vitest";
import { DELIVERY_RETRY_WINDOW_MS, endpointStreaks, nextAttemptAt, RETRY_DELAYS_MS } from "../../src/domain/webhook-delivery";

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

describe("webhook retry schedule", () => {
  it("waits 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, then 12 h after each failed attempt", () => {
    expect(RETRY_DELAYS_MS).toEqual([5 * SECOND, 5 * MINUTE, 30 * MINUTE, 2 * HOUR, 5 * HOUR, 10 * HOUR, 10 * HOUR, 12 * HOUR]);
    const first = 1_000_000;
    expect(nextAttemptAt(first, 1, first)).toBe(first + 5 * SECOND);
    expect(nextAttemptAt(first, 2, first + 10 * SECOND)).toBe(first + 10 * SECOND + 5 * MINUTE);
    expect(nextAttemptAt(first, 9, first + 2 * HOUR)).toBe(first + 14 * HOUR);
  });

  it("gives up when the next attempt would come more than 3 days after the first one", () => {
    const first = 0;
    // Following the schedule from the first attempt: attempts at 0, 5 s, ... while within 3 days.
    let now = first;
    let attempts = 1;
    const times = [now];
    for (;;) {
      const next = nextAttemptAt(first, attempts, now);
      if (next === null) break;
      now = next;
      attempts += 1;
      times.push(now);
    }
    expect(times.at(-1)!).toBeLessThanOrEqual(DELIVERY_RETRY_WINDOW_MS);
    expect(times.at(-1)! + 12 * HOUR).toBeGreaterThan(DELIVERY_RETRY_WINDOW_MS);
    expect(attempts).toBe(11);
  });
});

describe("endpoint failing streaks", () => {
  it("ends the streak of an endpoint with a success, runs it for one with only failures, and disables a 410 at once", () => {
    const outcome = (endpointId: string, status: string, disableReason: string | null = null) => ({ endpointId, status, disableReason });
    const { recovered, failing } = endpointStreaks([
      outcome("a", "failed"),
      outcome("a", "succeeded"),
      outcome("b", "pending"),
      outcome("b", "failed"),
      outcome("c", "succeeded"),
      outcome("c", "failed", "410 Gone"),
    ]);
    expect(recovered).toEqual(["a"]);
    expect(failing).toEqual([
      { id: "b", reason: null },
      { id: "c", reason: "410 Gone" },
    ]);
  });
});
