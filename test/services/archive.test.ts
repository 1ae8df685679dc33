import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { ErrorEnvelope } from "../../src/http/errors";
import type { LoyaltyEvent } from "../../src/domain/ledger";
import type { ArchiveListBody, ProjectSettingsBody } from "../../src/routes/archive";
import type { UsageBody } from "../../src/routes/quotas";
import { EVENT_ROW_OVERHEAD_BYTES } from "../../src/db/quotas";
import { archiveRawLog, type Manifest } from "../../src/services/archive";
import { trimLogWindows, WINDOW_DELETE_GUARD_MS } from "../../src/services/log-window";
import { api, apiKeyWith, loginDefinition, POLL, setupProject, userToken, type Credential } from "../helpers";
import { OF_PROJECT } from "../log-rows";

const DAY = 86_400_000;
const daysAgo = (days: number, hour = 10) => new Date(Math.floor(Date.now() / DAY) * DAY - days * DAY + hour * 3_600_000).toISOString();

type EventLine = Record<string, unknown> & { id: number; logId: number; eventUid: string; member: string | null; occurredAt: string };
type AdjustmentLine = Record<string, unknown> & { adjustmentUid: string; eventUid: string; pointsDelta: number };

const log = (auth: Credential, userId: string, timestamp: string) =>
  api("POST", "/v1/event", { auth, body: { eventId: "daily_login", userId, metadata: {}, timestamp } });

/** A project with a login definition, two members and their events (admin backfills), all in D1. */
async function projectWithEvents(events: Array<[string, string]>) {
  const project = await setupProject({ definitions: { daily_login: loginDefinition }, users: { alice: [], bob: [] } });
  for (const [userId, timestamp] of events) {
    const res = await log(project.admin, userId, timestamp);
    expect(res.status, res.text).toBe(200);
  }
  await expect.poll(() => loggedIds(project.projectId).then((ids) => ids.length), POLL).toBe(events.length);
  const programId = (await env.DB.prepare("SELECT id FROM projects WHERE key = ?").bind(project.projectId).first<{ id: number }>())!.id;
  return { ...project, programId };
}

/** The loyalty event id (the ledger's) of a log row. */
const loyaltyId = async (logId: number) => (await env.DB.prepare("SELECT ledger_id AS id FROM event_log WHERE id = ?").bind(logId).first<{ id: number }>())!.id;

const loggedIds = async (projectKey: string) =>
  (await env.DB.prepare(`SELECT id FROM event_log WHERE ${OF_PROJECT} ORDER BY id`).bind(projectKey).all<{ id: number }>()).results.map((r) => r.id);

/** Runs the archive until it has nothing left. */
async function archiveAll() {
  for (let run = 0; run < 20; run++) if (!(await archiveRawLog(env)).more) return;
  throw new Error("the archive did not catch up");
}

const gunzipText = async (body: ReadableStream) => new Response(body.pipeThrough(new DecompressionStream("gzip"))).text();

/** Every object of a project's archive: the keys, and the lines of its events and adjustments files. */
async function readArchive(programId: number) {
  const keys: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await env.ARCHIVE.list({ prefix: `archive/project=${programId}/`, cursor });
    keys.push(...page.objects.map((o) => o.key));
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  const lines = async (kind: string) => {
    const out: unknown[] = [];
    for (const key of keys.filter((k) => k.split("/").at(-1)!.startsWith(`${kind}-`))) {
      const text = await gunzipText((await env.ARCHIVE.get(key))!.body);
      expect(text.endsWith("\n"), key).toBe(true);
      out.push(
        ...text
          .trimEnd()
          .split("\n")
          .map((line) => JSON.parse(line)),
      );
    }
    return out;
  };
  return { keys, events: (await lines("events")) as EventLine[], adjustments: (await lines("adjustments")) as AdjustmentLine[] };
}

const manifestOf = async (programId: number, day: string) =>
  JSON.parse(await (await env.ARCHIVE.get(`archive/project=${programId}/day=${day}/manifest.json`))!.text()) as Manifest;

/** env.DB whose statement marking a batch done fails once (a crash between writing to R2 and the mark). */
function failingMarkOnce() {
  let failures = 0;
  const marks = new WeakSet<object>();
  const fail = () => {
    failures += 1;
    return Promise.reject(new Error("D1_ERROR: network connection lost"));
  };
  const wrap = (statement: D1PreparedStatement): D1PreparedStatement => {
    const proxy = new Proxy(statement, {
      get(target, property) {
        if (property === "bind") return (...args: unknown[]) => wrap(target.bind(...args));
        if (property === "run" && failures === 0) return fail;
        const value = Reflect.get(target, property) as unknown;
        return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    marks.add(proxy);
    return proxy;
  };
  const db = new Proxy(env.DB, {
    get(target, property) {
      if (property === "prepare") return (sql: string) => (sql.includes("SET done_at") ? wrap(target.prepare(sql)) : target.prepare(sql));
      // The mark also goes in a batch (with the deletion of the archived events' details).
      if (property === "batch") {
        return (statements: D1PreparedStatement[]) => (failures === 0 && statements.some((s) => marks.has(s)) ? fail() : target.batch(statements));
      }
      const value = Reflect.get(target, property) as unknown;
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { db, failures: () => failures };
}

describe("the R2 archive of the raw log", () => {
  it("holds every event and adjustment exactly once, by project and UTC day, pseudonymous, with a manifest per day, however often it runs", async () => {
    const { admin, projectId, programId } = await projectWithEvents([
      ["alice", daysAgo(3, 9)],
      ["alice", daysAgo(3, 20)],
      ["bob", daysAgo(1)],
    ]);
    const ids = await loggedIds(projectId);
    const refund = await api<LoyaltyEvent>("POST", `/v1/loyalty-events/${await loyaltyId(ids[0]!)}/adjustments`, {
      auth: admin,
      body: { rewardAmount: 0, reason: "refund" },
    });
    expect(refund.status, refund.text).toBe(200);
    await expect
      .poll(
        async () => (await env.DB.prepare("SELECT COUNT(*) AS n FROM ledger_adjustments WHERE project_key = ?").bind(projectId).first<{ n: number }>())!.n,
        POLL,
      )
      .toBe(1);

    for (let run = 0; run < 3; run++) await archiveAll();
    const archive = await readArchive(programId);
    expect(archive.events.map((line) => line.logId).sort((a, b) => a - b)).toEqual(ids);
    expect(archive.adjustments).toHaveLength(1);
    expect(archive.adjustments[0]).toMatchObject({
      eventUid: archive.events.find((e) => e.logId === ids[0])!.eventUid,
      pointsDelta: -5,
      reason: "refund",
      programId,
    });
    // Partitioned by the event's UTC day; the adjustment by its own day (today).
    const day = (days: number) => daysAgo(days).slice(0, 10);
    const today = new Date().toISOString().slice(0, 10);
    const adjustmentsKey = archive.keys.find((key) => key.includes("/adjustments-"))!;
    expect(adjustmentsKey).toMatch(new RegExp(`^archive/project=${programId}/day=${today}/adjustments-\\d{12}\\.ndjson\\.gz$`));
    expect(archive.keys.filter((key) => key !== adjustmentsKey).sort()).toEqual(
      [
        `archive/project=${programId}/day=${day(3)}/events-${String(ids[0]).padStart(12, "0")}-${String(ids[1]).padStart(12, "0")}.ndjson.gz`,
        `archive/project=${programId}/day=${day(3)}/manifest.json`,
        `archive/project=${programId}/day=${day(1)}/events-${String(ids[2]).padStart(12, "0")}-${String(ids[2]).padStart(12, "0")}.ndjson.gz`,
        `archive/project=${programId}/day=${day(1)}/manifest.json`,
        `archive/project=${programId}/day=${today}/manifest.json`,
      ].sort(),
    );

    // What was logged, with the member's key instead of the userId and the accountId; the same key for the same member.
    const first = archive.events.find((e) => e.logId === ids[0])!;
    expect(first).toMatchObject({ programId, eventId: "daily_login", points: 5, rewardAmount: 5, conditionReached: true, limitReached: false, metadata: {} });
    expect(first.occurredAt).toBe(daysAgo(3, 9));
    expect(first.id).toBe(await loyaltyId(ids[0]!)); // the loyalty event id, as the ledger shows it
    for (const line of archive.events) {
      expect(Object.keys(line)).not.toContain("userId");
      expect(Object.keys(line)).not.toContain("accountId");
      expect(JSON.stringify(line)).not.toMatch(/alice|bob/);
    }
    const keys = Object.fromEntries(
      (
        await env.DB.prepare("SELECT user_id AS userId, member_key AS memberKey FROM users WHERE project_key = ?")
          .bind(projectId)
          .all<{ userId: string; memberKey: string }>()
      ).results.map((r) => [r.userId, r.memberKey]),
    );
    expect(keys.alice).toMatch(/^[0-9a-f]{32}$/);
    expect(archive.events.map((e) => e.member)).toEqual(archive.events.map((e) => (e.logId === ids[2] ? keys.bob : keys.alice)));
    expect(keys.alice).not.toBe(keys.bob);

    // The manifests list each day's files with their rows and bytes.
    const manifest = await manifestOf(programId, day(3));
    const object = (await env.ARCHIVE.head(manifest.files[0]!.key))!;
    expect(manifest).toMatchObject({ programId, day: day(3), format: "ndjson+gzip", rows: { events: 2, adjustments: 0 }, bytes: object.size });
    expect(manifest.files).toEqual([{ key: object.key, kind: "events", rows: 2, bytes: object.size, firstId: ids[0], lastId: ids[1] }]);
    expect((await manifestOf(programId, today)).rows).toEqual({ events: 0, adjustments: 1 });

    // A later event goes into a new object; the earlier ones are not written again.
    const before = new Map(await Promise.all(archive.keys.map(async (key) => [key, (await env.ARCHIVE.head(key))!.uploaded.getTime()] as const)));
    expect((await log(admin, "bob", daysAgo(3, 22))).status).toBe(200);
    await expect.poll(() => loggedIds(projectId).then((all) => all.length), POLL).toBe(4);
    await archiveAll();
    const after = await readArchive(programId);
    expect(after.events.map((line) => line.logId).sort((a, b) => a - b)).toEqual(await loggedIds(projectId));
    for (const key of archive.keys.filter((k) => k.endsWith(".ndjson.gz")))
      expect((await env.ARCHIVE.head(key))!.uploaded.getTime(), key).toBe(before.get(key));
    expect((await manifestOf(programId, day(3))).rows.events).toBe(3);
  });

  it("writes the same objects again after a crash between the write and the mark, never a second copy", async () => {
    await archiveAll();
    const { projectId, programId } = await projectWithEvents([
      ["alice", daysAgo(5)],
      ["bob", daysAgo(5, 11)],
      ["alice", daysAgo(4)],
    ]);
    const failing = failingMarkOnce();
    await expect(archiveRawLog({ DB: failing.db, ARCHIVE: env.ARCHIVE })).rejects.toThrow("network connection lost");
    expect(failing.failures()).toBe(1);
    // Written to R2, not marked: the batch is still pending (and given back at once).
    const written = await readArchive(programId);
    expect(written.events).toHaveLength(3);
    const pending = await env.DB.prepare(
      "SELECT first_id AS firstId, last_id AS lastId, leased_until AS leasedUntil FROM archive_batches WHERE done_at IS NULL",
    ).all();
    expect(pending.results).toEqual([{ firstId: expect.any(Number), lastId: expect.any(Number), leasedUntil: 0 }]);

    const report = await archiveRawLog(env);
    expect(report.rows.events).toBe(3);
    const archive = await readArchive(programId);
    expect(archive.keys.sort()).toEqual(written.keys.sort());
    expect(archive.events.map((line) => line.logId).sort((a, b) => a - b)).toEqual(await loggedIds(projectId));
    expect((await manifestOf(programId, daysAgo(5).slice(0, 10))).rows.events).toBe(2);
    // And again: nothing left to write.
    expect((await archiveRawLog(env)).rows).toEqual({ events: 0, adjustments: 0 });
    expect((await readArchive(programId)).keys.sort()).toEqual(written.keys.sort());
  });

  it("lists the project's files of a range of days with download links, and serves only the project's own", async () => {
    const { admin, projectId, programId } = await projectWithEvents([
      ["alice", daysAgo(10)],
      ["alice", daysAgo(9)],
      ["bob", daysAgo(8)],
    ]);
    await archiveAll();
    const list = (auth: Credential, query: string) => api<ArchiveListBody>("GET", `/v1/admin/archive?${query}`, { auth });

    const range = await list(admin, `from=${daysAgo(10).slice(0, 10)}&to=${daysAgo(9).slice(0, 10)}`);
    expect(range.status, range.text).toBe(200);
    expect(range.json).toMatchObject({ programId, from: daysAgo(10).slice(0, 10), to: daysAgo(9).slice(0, 10), window: { days: 90 }, next: null });
    expect(range.json.files.map((f) => [f.day, f.kind, f.rows])).toEqual([
      [daysAgo(10).slice(0, 10), "events", 1],
      [daysAgo(10).slice(0, 10), "manifest", null],
      [daysAgo(9).slice(0, 10), "events", 1],
      [daysAgo(9).slice(0, 10), "manifest", null],
    ]);

    // Each link downloads the object, with an API key holding ledger:read too.
    const reader = await apiKeyWith(admin, ["ledger:read"]);
    const file = range.json.files[0]!;
    const download = await fetchFile(reader, file.url);
    expect(download.status).toBe(200);
    expect(download.headers.get("content-type")).toBe("application/gzip");
    expect(Number(download.headers.get("content-length"))).toBe(file.bytes);
    const line = JSON.parse((await gunzipText(download.body!)).trim()) as EventLine;
    expect(line).toMatchObject({ programId, occurredAt: daysAgo(10) });
    const manifest = await fetchFile(admin, range.json.files[1]!.url);
    expect(((await manifest.json()) as Manifest).files.map((f) => f.key)).toEqual([file.key]);

    // Pages follow `next`.
    const first = await list(admin, "limit=2");
    expect(first.json.files).toHaveLength(2);
    const second = await list(admin, `limit=2&cursor=${encodeURIComponent(first.json.next!)}`);
    const third = await list(admin, `limit=2&cursor=${encodeURIComponent(second.json.next!)}`);
    expect([...first.json.files, ...second.json.files, ...third.json.files].map((f) => f.key)).toEqual((await list(admin, "")).json.files.map((f) => f.key));
    expect((await list(admin, "")).json.files).toHaveLength(6);

    // Another project: 404 for this project's keys (whatever its credentials), its own list empty; users and other scopes 403.
    const other = await setupProject();
    const foreign = await fetchFile(other.admin, file.url);
    expect(foreign.status).toBe(404);
    expect(((await foreign.json()) as ErrorEnvelope).message).toBe(`No archive file ${file.key} in this project`);
    expect((await list(other.admin, "")).json.files).toEqual([]);
    expect((await list(other.admin, `cursor=${encodeURIComponent(file.key)}`)).status).toBe(400);
    for (const key of [
      `archive/project=${programId}/day=2026-01-01/../../x`,
      "dead-letters/x",
      `archive/project=${programId}/day=2026-01-01/events-1-2.ndjson.gz`,
    ]) {
      expect((await fetchFile(admin, `/v1/admin/archive/file?key=${encodeURIComponent(key)}`)).status, key).toBe(404);
    }
    expect((await fetchFile({ bearer: await userToken(projectId, "alice") }, file.url)).status).toBe(403);
    expect((await fetchFile(await apiKeyWith(admin, ["events:log"]), file.url)).status).toBe(403);
    expect((await list(await apiKeyWith(admin, ["stats:read"]), "")).status).toBe(403);
    // Bad ranges name the field.
    expect((await list(admin, "from=2026-02-01&to=2026-01-01")).json).toMatchObject({ statusCode: 400, errors: [{ path: "from" }] });
    expect((await list(admin, "to=yesterday")).json).toMatchObject({ statusCode: 400, errors: [{ path: "to" }] });
  });
});

/** GET of a download link, the body left unread. */
function fetchFile(auth: Credential, url: string): Promise<Response> {
  const headers: Record<string, string> =
    auth && "bearer" in auth ? { authorization: `Bearer ${auth.bearer}` } : auth && "apiKey" in auth ? { "x-api-key": auth.apiKey } : {};
  return exports.default.fetch(new Request(`http://api.test${url}`, { headers }));
}

describe("the raw log's window in D1", () => {
  const usage = async (auth: Credential) => (await api<UsageBody>("GET", "/v1/admin/usage", { auth })).json.storedBytes;
  const setWindow = (auth: Credential, projectKey: string, body: unknown) =>
    api<ProjectSettingsBody>("PUT", `/v1/operator/projects/${projectKey}/settings`, { auth, body });

  it("deletes archived rows older than the project's window, never one not archived yet, and takes them off the stored bytes", async () => {
    const { admin, projectId } = await projectWithEvents([
      ["alice", daysAgo(40)],
      ["bob", daysAgo(35)],
      ["alice", daysAgo(5)],
    ]);
    expect((await setWindow(admin, projectId, { logWindowDays: 30 })).status).toBe(200);
    const [oldA, oldB, recent] = await loggedIds(projectId);
    // Refund an old event: its adjustment is old too once the clock has moved on.
    expect(
      (await api("POST", `/v1/loyalty-events/${await loyaltyId(oldA!)}/adjustments`, { auth: admin, body: { rewardAmount: 0, reason: "refund" } })).status,
    ).toBe(200);
    const adjustments = () =>
      env.DB.prepare("SELECT COUNT(*) AS n FROM ledger_adjustments WHERE project_key = ?")
        .bind(projectId)
        .first<{ n: number }>()
        .then((r) => r!.n);
    await expect.poll(adjustments, POLL).toBe(1);
    await archiveAll();
    // Logged after the archive ran: old, but not archived yet.
    expect((await log(admin, "bob", daysAgo(45))).status).toBe(200);
    await expect.poll(() => loggedIds(projectId).then((ids) => ids.length), POLL).toBe(4);
    const unarchived = (await loggedIds(projectId)).at(-1)!;
    const bytesOf = async (ids: number[]) =>
      (await env.DB.prepare(
        `SELECT SUM(${EVENT_ROW_OVERHEAD_BYTES} + length(CAST(COALESCE(metadata, '{}') AS BLOB)) + COALESCE(length(CAST(customer_message AS BLOB)), 0)) AS n
         FROM event_log WHERE id IN (SELECT value FROM json_each(?))`,
      )
        .bind(JSON.stringify(ids))
        .first<{ n: number }>())!.n;
    const deletedBytes = await bytesOf([oldA!, oldB!]);
    await expect.poll(async () => (await usage(admin)).events, POLL).toBe(4);
    const before = await usage(admin);

    // Rows ingested within the reconciliation's reach stay, however old their time.
    expect(await trimLogWindows(env.DB)).toMatchObject({ events: 0, adjustments: 0 });
    // Sixteen days on, past that reach: the archived rows older than 30 days go.
    const later = Date.now() + WINDOW_DELETE_GUARD_MS + DAY;
    expect(await trimLogWindows(env.DB, { now: later })).toEqual({ events: 2, adjustments: 0, pointsChanges: 0, more: false });
    expect(await loggedIds(projectId)).toEqual([recent, unarchived]);
    expect(await usage(admin)).toEqual({ ...before, used: before.used - deletedBytes, events: 2 });
    // Once archived, the last old one goes too; the recent one and the adjustment (made today) stay.
    await archiveAll();
    expect(await trimLogWindows(env.DB, { now: later })).toEqual({ events: 1, adjustments: 0, pointsChanges: 0, more: false });
    expect(await loggedIds(projectId)).toEqual([recent]);
    expect((await usage(admin)).events).toBe(1);
    expect(await adjustments()).toBe(1);
    // 40 days on, the adjustment is out of the window too, and so is the last event.
    expect(await trimLogWindows(env.DB, { now: Date.now() + 40 * DAY })).toEqual({ events: 1, adjustments: 1, pointsChanges: 0, more: false });
    expect(await loggedIds(projectId)).toEqual([]);
    expect(await adjustments()).toBe(0);
    expect(await usage(admin)).toMatchObject({ used: 0, events: 0 });
    // The archive still holds every one of them.
    const programId = (await env.DB.prepare("SELECT id FROM projects WHERE key = ?").bind(projectId).first<{ id: number }>())!.id;
    const archive = await readArchive(programId);
    expect(archive.events.map((e) => e.logId).sort((a, b) => a - b)).toEqual([oldA, oldB, recent, unarchived]);
    expect(archive.adjustments).toHaveLength(1);
  });

  it("answers 400 naming timestampfrom for a ledger query across accounts reaching before the window, and the window by default", async () => {
    const { admin, projectId } = await projectWithEvents([
      ["alice", daysAgo(100)],
      ["alice", daysAgo(2)],
      ["bob", daysAgo(1)],
    ]);
    const ledger = (query: string) => api<LoyaltyEvent[]>("GET", `/v1/loyalty-events?${query}`, { auth: admin });
    const start = new Date(Math.floor(Date.now() / DAY) * DAY - 90 * DAY).toISOString();

    const before = await ledger(`timestampfrom=${encodeURIComponent(daysAgo(100, 0))}`);
    expect(before.status).toBe(400);
    expect(before.json).toMatchObject({
      statusCode: 400,
      errors: [{ path: "timestampfrom", message: expect.stringContaining(`must be on or after ${start}`) }],
    });
    expect((before.json as unknown as ErrorEnvelope).message).toContain("last 90 days");
    expect((before.json as unknown as ErrorEnvelope).message).toContain("GET /v1/admin/archive");
    expect((await ledger(`timestampto=${encodeURIComponent(daysAgo(95))}`)).json).toMatchObject({ errors: [{ path: "timestampto" }] });
    expect((await ledger(`timestampfrom=${encodeURIComponent(start)}`)).status).toBe(200);

    // Without a bound: the window (the old event is not listed, nor counted).
    const recent = await ledger("");
    expect(recent.status).toBe(200);
    expect(recent.json.map((e) => e.timestamp)).toEqual([daysAgo(1), daysAgo(2)]);
    expect(recent.headers.get("x-total-count")).toBe("2");
    // One account's ledger is not bounded by the window.
    const alice = (await api<{ accountId: number }>("GET", "/v1/admin/users/alice", { auth: admin })).json.accountId;
    const own = await ledger(`accountid=${alice}&timestampfrom=${encodeURIComponent(daysAgo(101))}`);
    expect(own.status).toBe(200);
    expect(own.json.map((e) => e.timestamp)).toEqual([daysAgo(2), daysAgo(100)]);

    // A longer window takes the old event in at once.
    expect((await setWindow(admin, projectId, { logWindowDays: 365 })).json.logWindowDays).toEqual({ days: 365, source: "project" });
    const longer = await ledger(`timestampfrom=${encodeURIComponent(daysAgo(101))}`);
    expect(longer.status).toBe(200);
    expect(longer.json).toHaveLength(3);
    expect((await api<ArchiveListBody>("GET", "/v1/admin/archive", { auth: admin })).json.window).toEqual({
      days: 365,
      from: new Date(Math.floor(Date.now() / DAY) * DAY - 365 * DAY).toISOString(),
    });
  });

  it("lets only the deployment's root credentials set a project's window, naming bad values", async () => {
    const { admin, projectId } = await setupProject();
    const other = await setupProject();
    const path = `/v1/operator/projects/${projectId}/settings`;
    expect((await api<ProjectSettingsBody>("GET", path, { auth: admin })).json).toEqual({
      projectKey: projectId,
      logWindowDays: { days: 90, source: "default" },
      updatedAt: null,
    });
    // The root token of another project: the operator's credential.
    const set = await setWindow(other.admin, projectId, { logWindowDays: 7 });
    expect(set.json).toEqual({ projectKey: projectId, logWindowDays: { days: 7, source: "project" }, updatedAt: expect.any(String) });
    for (const auth of [await apiKeyWith(admin, ["admin"]), { bearer: await userToken(projectId, "alice") }]) {
      const res = await setWindow(auth, projectId, { logWindowDays: 3650 });
      expect(res.status).toBe(403);
      expect((res.json as unknown as ErrorEnvelope).message).toContain("root credentials");
    }
    for (const [body, field] of [
      [{ logWindowDays: 0 }, "logWindowDays"],
      [{ logWindowDays: 1.5 }, "logWindowDays"],
      [{ logWindowDays: 36_501 }, "logWindowDays"],
      [{ days: 3 }, "(root)"],
    ] as const) {
      const res = await setWindow(admin, projectId, body);
      expect([res.status, (res.json as unknown as ErrorEnvelope).errors?.[0]?.path]).toEqual([400, field]);
    }
    expect((await setWindow(admin, projectId, {})).json.logWindowDays).toEqual({ days: 90, source: "default" });
  });
});
