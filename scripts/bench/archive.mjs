// The R2 archive of the raw log (src/services/archive.ts): the cron's scheduled work run until every event of
// the log is archived, then what R2 holds read back: bytes per event, exactly one copy of each, and a month's
// stats recounted from the archive against GET /v1/stats/event. The files are also written under
// .bench/archive/ (the bucket's layout), for the DuckDB query of README "The archive".
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { gunzipSync } from "node:zlib";

/** Runs the scheduled work until the archive holds every event-log row (at most `maxRuns` runs). */
async function archiveEverything(mf, db, maxRuns = 200) {
  const worker = await mf.getWorker();
  const { id: newest } = await db.prepare("SELECT COALESCE(MAX(id), 0) AS id FROM event_log").first();
  let runs = 0;
  const started = performance.now();
  for (;;) {
    const done = await db.prepare("SELECT COALESCE(MAX(last_id), 0) AS id FROM archive_batches WHERE kind = 'events' AND done_at IS NOT NULL").first();
    if (done.id >= newest) return { runs, seconds: (performance.now() - started) / 1000 };
    if (runs++ >= maxRuns) throw new Error(`the archive did not catch up in ${maxRuns} scheduled runs (${done.id} of ${newest})`);
    await worker.scheduled({ cron: "*/10 * * * *" });
  }
}

/** Every object under `prefix`: key, size and, for .ndjson.gz files, their lines parsed. */
async function readObjects(bucket, prefix) {
  const objects = [];
  let cursor;
  do {
    const page = await bucket.list({ prefix, cursor });
    for (const object of page.objects) {
      const body = Buffer.from(await (await bucket.get(object.key)).arrayBuffer());
      objects.push({ key: object.key, size: object.size, body });
    }
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return objects;
}

export async function benchArchive({ mf, db, base, token, project, root, log }) {
  const { runs, seconds } = await archiveEverything(mf, db);
  log(`  archive: ${runs} scheduled runs, ${Math.round(seconds)} s`);
  const { id: programId } = await db.prepare("SELECT id FROM projects WHERE key = ?").bind(project).first();
  const bucket = await mf.getR2Bucket("ARCHIVE");
  const objects = await readObjects(bucket, `archive/project=${programId}/`);
  // Keys start with archive/: the files land in .bench/archive/project=…/day=…/.
  rmSync(`${root}.bench/archive`, { recursive: true, force: true });
  for (const object of objects) {
    mkdirSync(dirname(`${root}.bench/${object.key}`), { recursive: true });
    writeFileSync(`${root}.bench/${object.key}`, object.body);
  }

  const eventFiles = objects.filter((o) => /\/events-\d+-\d+\.ndjson\.gz$/.test(o.key));
  const lines = eventFiles.flatMap((o) =>
    gunzipSync(o.body)
      .toString("utf8")
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line)),
  );
  const logged = (await db.prepare("SELECT id FROM event_log WHERE program_id = ?").bind(programId).all()).results.map((r) => r.id);
  const copies = new Map();
  for (const line of lines) copies.set(line.logId, (copies.get(line.logId) ?? 0) + 1);
  const exactlyOnce = logged.length === lines.length && logged.every((id) => copies.get(id) === 1);
  const bytes = eventFiles.reduce((sum, o) => sum + o.size, 0);
  const manifests = objects.filter((o) => o.key.endsWith("/manifest.json")).map((o) => JSON.parse(o.body.toString("utf8")));
  const manifestRows = manifests.reduce((sum, m) => sum + m.rows.events, 0);

  // A month's stats recounted from the archive (the month 45 days back: whole, within the dataset's 90 days).
  const month = new Date(Date.now() - 45 * 86_400_000).toISOString().slice(0, 7);
  const inMonth = lines.filter((line) => line.occurredAt.startsWith(month));
  const recount = { totalEvents: inMonth.length, uniqueUsers: new Set(inMonth.map((l) => l.member)).size, totalPoints: 0, eventBreakdown: {} };
  const usersPerEvent = new Map();
  for (const line of inMonth) {
    recount.totalPoints += line.points;
    const entry = (recount.eventBreakdown[line.eventId] ??= { count: 0, users: 0, points: 0 });
    entry.count += 1;
    entry.points += line.points;
    if (!usersPerEvent.has(line.eventId)) usersPerEvent.set(line.eventId, new Set());
    usersPerEvent.get(line.eventId).add(line.member);
  }
  for (const [eventId, members] of usersPerEvent) recount.eventBreakdown[eventId].users = members.size;
  const stats = await (await fetch(`${base}/v1/stats/event?timeframe=month&month=${month}`, { headers: { authorization: `Bearer ${token}` } })).json();
  const served = {
    totalEvents: stats.data.totalEvents,
    uniqueUsers: stats.data.uniqueUsers,
    totalPoints: stats.data.totalPoints,
    eventBreakdown: stats.data.eventBreakdown,
  };
  const sorted = (value) =>
    JSON.stringify(value, (_key, v) => (v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort()) : v));
  const statsMatch = sorted(recount) === sorted(served);
  return {
    events: logged.length,
    files: eventFiles.length,
    days: manifests.length,
    bytesPerEvent: bytes / Math.max(1, lines.length),
    exactlyOnce,
    manifestsMatch: manifestRows === lines.length,
    month,
    statsMatch,
    recount,
    served,
    seconds,
  };
}
