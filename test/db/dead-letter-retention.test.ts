import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { insertDeadLetters } from "../../src/db/dead-letters";
import { REPLAYED_DEAD_LETTER_RETENTION_MS, removeReplayedDeadLetters } from "../../src/services/dead-letters";

const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();

describe("dead letters' retention", () => {
  it("removes letters replayed more than 30 days ago, and keeps recent replays and letters not replayed", async () => {
    const now = Date.UTC(2026, 10, 28, 12);
    const letter = (messageId: string, replayedAt: string | null) => ({
      messageId,
      projectKey: "retention-project",
      body: `{"m":"${messageId}"}`,
      attempts: 1,
      error: "test",
      receivedAt: iso(now - 40 * DAY),
      replayedAt,
    });
    await insertDeadLetters(env.DB, "loyalty-events", [
      letter("retention-old-replay", iso(now - REPLAYED_DEAD_LETTER_RETENTION_MS - DAY)),
      letter("retention-recent-replay", iso(now - REPLAYED_DEAD_LETTER_RETENTION_MS + DAY)),
      letter("retention-waiting", null),
    ]);

    expect(await removeReplayedDeadLetters(env.DB, now)).toBe(1);
    const left = await env.DB.prepare("SELECT message_id AS id FROM dead_letters WHERE project_key = ? ORDER BY message_id")
      .bind("retention-project")
      .all<{ id: string }>();
    expect(left.results.map((row) => row.id)).toEqual(["retention-recent-replay", "retention-waiting"]);
    // A second run has nothing more to remove.
    expect(await removeReplayedDeadLetters(env.DB, now)).toBe(0);
  });
});
