import {
  batchLines,
  claimBatch,
  leaseBatch,
  markBatchDone,
  nextCandidates,
  pendingBatch,
  releaseBatch,
  type ArchiveBatch,
  type ArchiveCandidate,
  type ArchiveKind,
  type ArchiveLine,
} from "../db/archive";

/**
 * The archive of the raw log in R2 (`ARCHIVE`): every logged event and every reward adjustment, once, as
 * gzip-compressed NDJSON partitioned by project and UTC day (Hive style, so DuckDB, ClickHouse and Spark read
 * the folders as columns), with a manifest per day:
 *
 *   archive/project=<programId>/day=<YYYY-MM-DD>/events-<firstId>-<lastId>.ndjson.gz   (by the event's time)
 *   archive/project=<programId>/day=<YYYY-MM-DD>/adjustments-<batch>.ndjson.gz        (by the adjustment's time)
 *   archive/project=<programId>/day=<YYYY-MM-DD>/manifest.json
 *
 * A scheduled task (src/services/scheduled.ts) takes the oldest rows not archived yet in batches. Each batch is
 * recorded in D1 (archive_batches: its range of ids) before anything is written, then its objects are written
 * under keys that depend only on that range, the touched days' manifests are rewritten from what R2 lists, and
 * the batch is marked done. A run that stops anywhere before the mark leaves the batch pending: the next run
 * writes the same rows to the same keys (an overwrite, not a second copy), so every row is in exactly one object.
 */

export const ARCHIVE_ROOT = "archive";
/** Rows per batch at most (one D1 read of about 3 MB). */
export const ARCHIVE_BATCH_ROWS = 5_000;
/**
 * (project, day) objects per batch at most: bounds a batch's R2 operations (per group a put, a list and the
 * manifest's put). Live traffic puts a batch in one or two groups; a backfill spread over many days in more.
 */
export const ARCHIVE_BATCH_GROUPS = 100;
/** How long a run holds a pending batch before another may take it over (a run's budget is far below it). */
const LEASE_MS = 5 * 60_000;
/**
 * One scheduled run archives batches for at most this long, this many, and while it has used fewer R2
 * operations than this (a Worker invocation may make 1,000 subrequests; a batch takes at most 3 per group).
 */
const RUN_BUDGET_MS = 20_000;
const MAX_BATCHES_PER_RUN = 25;
const R2_OPERATIONS_PER_RUN = 600;
/** R2 writes in flight at once. */
const PUT_CONCURRENCY = 8;

const pad = (n: number) => String(n).padStart(12, "0");
export const projectPrefix = (programId: number) => `${ARCHIVE_ROOT}/project=${programId}/`;
export const dayPrefix = (programId: number, day: string) => `${projectPrefix(programId)}day=${day}/`;
export const manifestKey = (programId: number, day: string) => `${dayPrefix(programId, day)}manifest.json`;

/** The object of a group of a batch: events by their id range, adjustments by their batch. */
function objectKey(batch: ArchiveBatch, group: Group): string {
  const name = batch.kind === "events" ? `events-${pad(group.rows[0]!.id)}-${pad(group.rows.at(-1)!.id)}` : `adjustments-${pad(batch.id)}`;
  return `${dayPrefix(group.programId, group.day)}${name}.ndjson.gz`;
}

/** What a key names: a file of the archive (its project, day and kind), or null for anything else. */
export function parseArchiveKey(key: string): { programId: number; day: string; kind: "events" | "adjustments" | "manifest" } | null {
  const match =
    /^archive\/project=(\d{1,15})\/day=(\d{4}-\d{2}-\d{2})\/(?:(events)-\d{12}-\d{12}\.ndjson\.gz|(adjustments)-\d{12}\.ndjson\.gz|(manifest)\.json)$/.exec(
      key,
    );
  if (!match) return null;
  return { programId: Number(match[1]), day: match[2]!, kind: (match[3] ?? match[4] ?? match[5]) as "events" | "adjustments" | "manifest" };
}

type Group = { programId: number; day: string; rows: ArchiveLine[] };

/** The rows of a batch by (project, day), in id order within each. */
function groupRows(rows: readonly ArchiveLine[]): Group[] {
  const groups = new Map<string, Group>();
  for (const row of rows) {
    const key = `${row.programId}/${row.day}`;
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { programId: row.programId, day: row.day, rows: [] }));
    group.rows.push(row);
  }
  return [...groups.values()];
}

/** The first candidates that fall into at most ARCHIVE_BATCH_GROUPS (project, day) groups (at least one row). */
export function cutAtGroups(candidates: readonly ArchiveCandidate[], maxGroups = ARCHIVE_BATCH_GROUPS): ArchiveCandidate[] {
  const seen = new Set<string>();
  let end = 0;
  for (const row of candidates) {
    const group = `${row.programId}/${row.day}`;
    if (!seen.has(group)) {
      if (seen.size === maxGroups) break;
      seen.add(group);
    }
    end += 1;
  }
  return candidates.slice(0, end);
}

export async function gzip(text: string): Promise<Uint8Array> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Runs `task` over `items` with at most `concurrency` in flight. */
async function eachLimited<T>(items: readonly T[], concurrency: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await task(items[next++]!);
    }),
  );
}

/** One file of a day's manifest. */
export type ManifestFile = {
  key: string;
  kind: "events" | "adjustments";
  rows: number;
  bytes: number;
  /** The first and last log id (events) or adjustment row (adjustments) in the file. */
  firstId: number;
  lastId: number;
};

/** A day's manifest: every file of the day in key order (events by id), with row counts and bytes. */
export type Manifest = {
  programId: number;
  day: string;
  format: "ndjson+gzip";
  files: ManifestFile[];
  rows: { events: number; adjustments: number };
  bytes: number;
  updatedAt: string;
};

/** Every archive file of a day, as R2 lists it with the metadata each was written with. */
async function listDay(bucket: R2Bucket, programId: number, day: string): Promise<{ files: ManifestFile[]; lists: number }> {
  const files: ManifestFile[] = [];
  let cursor: string | undefined;
  let lists = 0;
  do {
    lists += 1;
    const page = await bucket.list({ prefix: dayPrefix(programId, day), cursor, include: ["customMetadata"] });
    for (const object of page.objects) {
      const parsed = parseArchiveKey(object.key);
      if (!parsed || parsed.kind === "manifest") continue;
      const meta = object.customMetadata ?? {};
      files.push({
        key: object.key,
        kind: parsed.kind,
        rows: Number(meta.rows ?? 0),
        bytes: object.size,
        firstId: Number(meta.firstId ?? 0),
        lastId: Number(meta.lastId ?? 0),
      });
    }
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor !== undefined);
  return { files, lists };
}

/** Rewrites a day's manifest from what R2 holds for the day (so a rewrite after any failure is complete). */
export async function rewriteManifest(bucket: R2Bucket, programId: number, day: string, now: string): Promise<{ manifest: Manifest; r2Operations: number }> {
  const { files, lists } = await listDay(bucket, programId, day);
  const sum = (kind: ManifestFile["kind"]) => files.filter((f) => f.kind === kind).reduce((n, f) => n + f.rows, 0);
  const manifest: Manifest = {
    programId,
    day,
    format: "ndjson+gzip",
    files,
    rows: { events: sum("events"), adjustments: sum("adjustments") },
    bytes: files.reduce((n, f) => n + f.bytes, 0),
    updatedAt: now,
  };
  await bucket.put(manifestKey(programId, day), JSON.stringify(manifest, null, 2), { httpMetadata: { contentType: "application/json" } });
  return { manifest, r2Operations: lists + 1 };
}

/** Writes a batch's objects and the touched days' manifests; what it wrote, and the R2 operations it took. */
async function writeBatch(bucket: R2Bucket, batch: ArchiveBatch, rows: readonly ArchiveLine[], now: string) {
  const groups = groupRows(rows);
  let bytes = 0;
  await eachLimited(groups, PUT_CONCURRENCY, async (group) => {
    const body = await gzip(`${group.rows.map((row) => row.line).join("\n")}\n`);
    bytes += body.byteLength;
    await bucket.put(objectKey(batch, group), body, {
      httpMetadata: { contentType: "application/gzip" },
      customMetadata: {
        kind: batch.kind,
        rows: String(group.rows.length),
        firstId: String(group.rows[0]!.id),
        lastId: String(group.rows.at(-1)!.id),
        batch: String(batch.id),
      },
    });
  });
  let r2Operations = groups.length;
  await eachLimited(groups, PUT_CONCURRENCY, async (group) => {
    r2Operations += (await rewriteManifest(bucket, group.programId, group.day, now)).r2Operations;
  });
  return { rows: rows.length, files: groups.length, bytes, r2Operations };
}

export type ArchiveStores = { DB: D1Database; ARCHIVE: R2Bucket };

export type ArchiveReport = {
  /** Batches archived (marked done) by this run, per kind. */
  batches: Record<ArchiveKind, number>;
  /** Rows archived, per kind. */
  rows: Record<ArchiveKind, number>;
  /** Objects written (besides manifests) and their bytes. */
  files: number;
  bytes: number;
  /** R2 operations (puts and lists) the run made. */
  r2Operations: number;
  /** True when a kind had more to archive than this run took. */
  more: boolean;
};

/**
 * The next batch of `kind` this run may work on: the pending one (taken over once its lease ran out), or a new
 * one over the oldest rows not archived. Null when there is nothing to archive, or another run holds the batch.
 */
async function nextBatch(d1: D1Database, kind: ArchiveKind, now: number): Promise<ArchiveBatch | null> {
  const pending = await pendingBatch(d1, kind);
  if (pending) {
    if (pending.leasedUntil > now) return null;
    return (await leaseBatch(d1, pending, now + LEASE_MS)) ? { ...pending, leasedUntil: now + LEASE_MS } : null;
  }
  const candidates = cutAtGroups(await nextCandidates(d1, kind, ARCHIVE_BATCH_ROWS));
  if (candidates.length === 0) return null;
  return claimBatch(d1, kind, candidates, now + LEASE_MS, new Date(now).toISOString());
}

/**
 * Archives batches of the raw log (events, then adjustments) until none is left or the run's budget is spent.
 * A batch that fails is given back (its lease released) and the error thrown: the next run writes it again.
 */
export async function archiveRawLog(stores: ArchiveStores, options: { now?: () => number; maxBatches?: number } = {}): Promise<ArchiveReport> {
  const clock = options.now ?? Date.now;
  const started = clock();
  const maxBatches = options.maxBatches ?? MAX_BATCHES_PER_RUN;
  const report: ArchiveReport = {
    batches: { events: 0, adjustments: 0 },
    rows: { events: 0, adjustments: 0 },
    files: 0,
    bytes: 0,
    r2Operations: 0,
    more: false,
  };
  for (const kind of ["events", "adjustments"] as const) {
    for (;;) {
      const spent = report.batches.events + report.batches.adjustments >= maxBatches || clock() - started > RUN_BUDGET_MS;
      if (spent || report.r2Operations + 3 * ARCHIVE_BATCH_GROUPS > R2_OPERATIONS_PER_RUN) {
        report.more = true;
        return report;
      }
      const batch = await nextBatch(stores.DB, kind, clock());
      if (!batch) break;
      try {
        const rows = await batchLines(stores.DB, batch);
        const written = await writeBatch(stores.ARCHIVE, batch, rows, new Date(clock()).toISOString());
        report.r2Operations += written.r2Operations;
        // Another run may have finished it after our lease ran out: its files are the same, counted once (there).
        if (!(await markBatchDone(stores.DB, batch, written, new Date(clock()).toISOString()))) continue;
        report.batches[kind] += 1;
        report.rows[kind] += written.rows;
        report.files += written.files;
        report.bytes += written.bytes;
      } catch (error) {
        await releaseBatch(stores.DB, batch).catch(() => undefined);
        throw error;
      }
    }
  }
  return report;
}

/** One file of the archive as GET /v1/admin/archive lists it. */
export type ArchiveFileEntry = {
  key: string;
  day: string;
  kind: "events" | "adjustments" | "manifest";
  rows: number | null;
  bytes: number;
  uploadedAt: string;
  url: string;
};

/** The authenticated download link of a file (relative: never built from the request's Host). */
export const archiveFileUrl = (key: string) => `/v1/admin/archive/file?key=${encodeURIComponent(key)}`;

/**
 * A project's archive files of the days in [from, to] (either end open) in key order (by day, then events by
 * id, adjustments, the manifest), at most `limit`, continuing after `after` (the previous page's `next`).
 * One R2 list per 1,000 files.
 */
export async function listArchive(
  bucket: R2Bucket,
  programId: number,
  range: { from?: string; to?: string; after?: string; limit: number },
): Promise<{ files: ArchiveFileEntry[]; next: string | null }> {
  const prefix = projectPrefix(programId);
  const files: ArchiveFileEntry[] = [];
  let startAfter = range.after ?? (range.from === undefined ? undefined : `${prefix}day=${range.from}`);
  let cursor: string | undefined;
  while (files.length < range.limit) {
    const page = await bucket.list({
      prefix,
      limit: range.limit - files.length,
      include: ["customMetadata"],
      ...(cursor ? { cursor } : startAfter ? { startAfter } : {}),
    });
    for (const object of page.objects) {
      const parsed = parseArchiveKey(object.key);
      if (!parsed) continue;
      if (range.to !== undefined && parsed.day > range.to) return { files, next: null };
      const rows = object.customMetadata?.rows;
      files.push({
        key: object.key,
        day: parsed.day,
        kind: parsed.kind,
        rows: rows === undefined ? null : Number(rows),
        bytes: object.size,
        uploadedAt: object.uploaded.toISOString(),
        url: archiveFileUrl(object.key),
      });
    }
    if (!page.truncated) return { files, next: null };
    const last = page.objects.at(-1)?.key;
    if (last !== undefined) {
      startAfter = last;
      cursor = undefined;
    } else cursor = page.cursor;
  }
  return { files, next: files.at(-1)?.key ?? null };
}

/** A file of the project's archive, or null when the key names none of this project's files. */
export async function readArchiveFile(bucket: R2Bucket, programId: number, key: string): Promise<R2ObjectBody | null> {
  const parsed = parseArchiveKey(key);
  if (parsed === null || parsed.programId !== programId) return null;
  return bucket.get(key);
}
