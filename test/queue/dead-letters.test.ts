import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ApiError } from "../../src/http/errors";
import { DEAD_LETTER_QUEUE, EVENTS_QUEUE } from "../../src/queue/consumer";
import type { DeadLetterBody } from "../../src/routes/admin-dead-letters";
import { replayDeadLetter, setAsideDeadLetters } from "../../src/services/dead-letters";
import { loggedEvent } from "../fixtures";
import { api, setupProject, type Credential } from "../helpers";
import { archivedKeys, brokenR2, d1Letters, deliverAt, outageD1 } from "./outage";
import { OF_PROJECT } from "../log-rows";

type Page = { items: DeadLetterBody[]; nextCursor: string | null };

const logCount = async (projectId: string) =>
  (await env.DB.prepare(`SELECT COUNT(*) AS n FROM event_log WHERE ${OF_PROJECT}`).bind(projectId).first<{ n: number }>())!.n;

const list = (admin: Credential, query = "") => api<Page>("GET", `/v1/admin/dead-letters${query}`, { auth: admin });
const replay = (admin: Credential, id: string) => api<DeadLetterBody>("POST", `/v1/admin/dead-letters/${id}/replay`, { auth: admin });
const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe("dead letters while D1 cannot take them", () => {
  it("keeps them in R2; admins list them beside D1's, and a replay writes the event into the log once and moves the letter to D1", async () => {
    const { projectId, admin } = await setupProject();
    const inD1 = loggedEvent(projectId, { points: 3 });
    const inR2 = loggedEvent(projectId, { points: 7 });
    const first = await deliverAt([inD1], { queue: DEAD_LETTER_QUEUE });
    expect(first.explicitAcks).toHaveLength(1);
    await tick();
    // D1 is down when the dead-letter queue delivers the second: it lands in R2, and the message is acked.
    const second = await deliverAt([inR2], { queue: DEAD_LETTER_QUEUE, attempts: 2, environment: { ...env, DB: outageD1().db } });
    expect(second.explicitAcks).toEqual([second.messages[0]!.id]);
    expect(second.retryMessages).toEqual([]);
    expect(await archivedKeys(projectId)).toHaveLength(1);
    expect((await d1Letters(projectId)).map((l) => l.message_id)).toEqual([first.messages[0]!.id]);

    const listed = await list(admin);
    expect(listed.status).toBe(200);
    expect(listed.json.nextCursor).toBeNull();
    const [newest, older] = listed.json.items;
    expect(listed.json.items).toHaveLength(2);
    expect(newest).toMatchObject({ store: "r2", queue: DEAD_LETTER_QUEUE, messageId: second.messages[0]!.id, attempts: 2, replayedAt: null, body: inR2 });
    expect(newest!.id).toMatch(/^r2-\d{13}-/);
    expect(older).toMatchObject({ store: "d1", messageId: first.messages[0]!.id, replayedAt: null, body: inD1 });
    expect(older!.id).toMatch(/^d1-\d+$/);

    // Another project's admin neither sees nor replays it.
    const other = await setupProject();
    expect((await list(other.admin)).json.items).toEqual([]);
    expect((await replay(other.admin, newest!.id)).status).toBe(404);

    // Replayed twice: the event is in the log once; the letter now lives in D1 as replayed, its R2 object is gone.
    const replayed = await replay(admin, newest!.id);
    expect(replayed.status).toBe(200);
    expect(replayed.json).toMatchObject({ store: "d1", messageId: second.messages[0]!.id, body: inR2, replayedAt: expect.any(String) });
    expect(replayed.json.receivedAt).toBe(newest!.receivedAt);
    const again = await replay(admin, newest!.id);
    expect(again.status).toBe(200);
    expect(again.json.id).toBe(replayed.json.id);
    expect(await logCount(projectId)).toBe(1);
    expect(await archivedKeys(projectId)).toEqual([]);
    const points = await env.DB.prepare("SELECT SUM(points) AS p FROM stats_daily WHERE project_key = ? AND event_id = '*'")
      .bind(projectId)
      .first<{ p: number }>();
    expect(points!.p).toBe(7);

    const after = await list(admin);
    expect(after.json.items.map((item) => [item.store, item.messageId, item.replayedAt !== null])).toEqual([
      ["d1", second.messages[0]!.id, true],
      ["d1", first.messages[0]!.id, false],
    ]);
    expect((await list(admin, "?pending=true")).json.items.map((item) => item.id)).toEqual([older!.id]);
  });

  it("parks in R2 what the events queue cannot store while D1 is down, and the outbox's set-aside rows too", async () => {
    const { projectId, admin } = await setupProject();
    const down = { ...env, DB: outageD1().db };
    const malformed = await deliverAt([{ projectKey: projectId, not: "an event" }], { queue: EVENTS_QUEUE, environment: down });
    expect(malformed.explicitAcks).toHaveLength(1);
    await tick();
    const row = loggedEvent(projectId, { points: 4 });
    await setAsideDeadLetters(down, "outbox", [
      { messageId: row.eventUid, projectKey: projectId, body: JSON.stringify(row), attempts: 5, error: "message refused" },
    ]);
    const items = (await list(admin)).json.items;
    expect(items.map((item) => [item.store, item.queue])).toEqual([
      ["r2", "outbox"],
      ["r2", EVENTS_QUEUE],
    ]);
    expect((await replay(admin, items[1]!.id)).status).toBe(422);
    expect((await replay(admin, items[0]!.id)).status).toBe(200);
    expect(await logCount(projectId)).toBe(1);
    // Neither store: the outbox is told (and keeps its rows).
    await expect(
      setAsideDeadLetters({ DB: down.DB, ARCHIVE: brokenR2() }, "outbox", [
        { messageId: crypto.randomUUID(), projectKey: projectId, body: "{}", attempts: 5, error: null },
      ]),
    ).rejects.toThrow(/neither in D1 nor in R2/);
  });

  it("keeps an R2 letter while D1 cannot take its replay (503), and replays it once D1 is back", async () => {
    const { projectId, admin } = await setupProject();
    const down = { ...env, DB: outageD1().db };
    await deliverAt([loggedEvent(projectId)], { queue: DEAD_LETTER_QUEUE, environment: down });
    const [letter] = (await list(admin)).json.items;
    const failed = await replayDeadLetter(down, projectId, letter!.id).catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(ApiError);
    expect((failed as ApiError).status).toBe(503);
    expect(await archivedKeys(projectId)).toHaveLength(1);
    expect((await replay(admin, letter!.id)).status).toBe(200);
    expect(await logCount(projectId)).toBe(1);
  });

  it("pages through both stores newest first, a bounded page at a time", async () => {
    const { projectId, admin } = await setupProject();
    const down = { ...env, DB: outageD1().db };
    const created: string[] = [];
    for (let i = 0; i < 7; i++) {
      const result = await deliverAt([loggedEvent(projectId)], { queue: DEAD_LETTER_QUEUE, environment: i % 3 === 1 ? env : down });
      created.push(result.messages[0]!.id);
      await tick();
    }
    expect(await archivedKeys(projectId)).toHaveLength(5);
    const seen: DeadLetterBody[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: Awaited<ReturnType<typeof list>> = await list(admin, `?limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      expect(page.status).toBe(200);
      expect(page.json.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.json.items);
      cursor = page.json.nextCursor;
      pages += 1;
    } while (cursor !== null && pages < 10);
    expect(cursor).toBeNull();
    expect(seen.map((item) => item.messageId)).toEqual([...created].reverse());
    expect(seen.map((item) => item.store)).toEqual(["r2", "r2", "d1", "r2", "r2", "d1", "r2"]);
  });

  it("answers 400 for an id or cursor that is not one, and 404 for an id of nothing", async () => {
    const { admin } = await setupProject();
    expect((await replay(admin, "x1")).status).toBe(400);
    expect((await replay(admin, "r2-123")).status).toBe(400);
    expect((await list(admin, "?cursor=bm9wZQ")).status).toBe(400);
    expect((await replay(admin, "d1-999999999")).status).toBe(404);
    expect((await replay(admin, "999999999")).status).toBe(404);
    expect((await replay(admin, `r2-1234567890123-${crypto.randomUUID()}`)).status).toBe(404);
  });
});
