import { and, eq, sql } from "drizzle-orm";
import type { EventDefinition, VersionedDefinition } from "../domain/definition";
import type { GameDefinitionKind } from "../domain/game-definitions";
import type { Db } from "./client";
import { eventDefinitions, gameDefinitions, projects } from "./schema";

/** The project's definitions version: it grows on every definition change, so caches can tell they are stale. */
export async function definitionsVersion(db: Db, projectKey: string): Promise<number> {
  const row = await db.query.projects.findFirst({
    columns: { definitionsVersion: true },
    where: eq(projects.key, projectKey),
  });
  return row?.definitionsVersion ?? 0;
}

/** A streak, challenge or leaderboard document as stored; the caller knows its shape by `kind`. */
export type StoredGameDefinition = { kind: GameDefinitionKind; definitionId: string; version: number; document: unknown };

/**
 * Every definition of the project in one D1 round trip (one transaction): event definitions by eventId, the
 * others by kind and id, and the definitions version they are the state of.
 */
export async function loadDefinitions(db: Db, projectKey: string): Promise<{ version: number; events: VersionedDefinition[]; games: StoredGameDefinition[] }> {
  const [versions, events, games] = await db.batch([
    db.select({ version: projects.definitionsVersion }).from(projects).where(eq(projects.key, projectKey)),
    db
      .select({ eventId: eventDefinitions.eventId, version: eventDefinitions.version, ruleId: eventDefinitions.ruleId, document: eventDefinitions.document })
      .from(eventDefinitions)
      .where(eq(eventDefinitions.projectKey, projectKey))
      .orderBy(eventDefinitions.eventId),
    db
      .select({ kind: gameDefinitions.kind, definitionId: gameDefinitions.definitionId, version: gameDefinitions.version, document: gameDefinitions.document })
      .from(gameDefinitions)
      .where(eq(gameDefinitions.projectKey, projectKey))
      .orderBy(gameDefinitions.kind, gameDefinitions.definitionId),
  ]);
  return {
    version: versions[0]?.version ?? 0,
    events: events.map((r) => ({ ...(r.document as EventDefinition), version: r.version, ruleId: r.ruleId })),
    games: games.map((r) => ({ ...r, kind: r.kind as GameDefinitionKind })),
  };
}

const bumpDefinitionsVersion = (db: Db, projectKey: string) =>
  db
    .update(projects)
    .set({ definitionsVersion: sql`${projects.definitionsVersion} + 1` })
    .where(eq(projects.key, projectKey));

/** How many definitions a project may have (of the kind written) and how many bytes all its documents may take. */
export type CatalogueBounds = { maxDefinitions: number; maxCatalogueBytes: number };

/**
 * What a write did: `created` or `replaced`, or nothing because the project already has `maxDefinitions` of
 * the kind (`tooMany`, never for a replace) or the catalogue would exceed `maxCatalogueBytes` (`tooLarge`,
 * with the bytes it would have taken).
 */
export type DefinitionWrite =
  | { outcome: "created" | "replaced" }
  | { outcome: "tooMany"; definitions: number }
  | { outcome: "tooLarge"; catalogueBytes: number };

/** Bytes of a stored document (its JSON text as UTF-8). */
const bytes = (value: string) => `length(CAST(${value} AS BLOB))`;

/**
 * The placeholders of a bounded write: ?1 project key, ?2 the document (JSON), ?3 updated_at, ?4 the
 * definitions limit, ?5 the catalogue's bytes limit, ?6 status, ?7 the definition's id, ?8 its kind (streaks,
 * challenges and leaderboards only).
 */
type Table = {
  name: "event_definitions" | "game_definitions";
  /** The row written. */
  self: string;
  /** The rows its count limit counts. */
  sameKind: string;
  /** INSERT … SELECT … WHERE `fits` ON CONFLICT DO UPDATE, for this table. */
  upsert: (fits: string) => string;
};

const EVENTS: Table = {
  name: "event_definitions",
  self: "project_key = ?1 AND event_id = ?7",
  sameKind: "project_key = ?1",
  // rule_id is assigned once, on creation: the replace keeps it.
  upsert: (fits) => `INSERT INTO event_definitions (project_key, event_id, version, status, document, updated_at, rule_id)
    SELECT ?1, ?7, 1, ?6, ?2, ?3, (SELECT COALESCE(MAX(rule_id), 0) + 1 FROM event_definitions)
    WHERE ${fits}
    ON CONFLICT (project_key, event_id) DO UPDATE
      SET version = version + 1, status = excluded.status, document = excluded.document, updated_at = excluded.updated_at`,
};

const GAMES: Table = {
  name: "game_definitions",
  self: "project_key = ?1 AND kind = ?8 AND definition_id = ?7",
  sameKind: "project_key = ?1 AND kind = ?8",
  upsert: (fits) => `INSERT INTO game_definitions (project_key, kind, definition_id, version, status, document, updated_at)
    SELECT ?1, ?8, ?7, 1, ?6, ?2, ?3
    WHERE ${fits}
    ON CONFLICT (project_key, kind, definition_id) DO UPDATE
      SET version = version + 1, status = excluded.status, document = excluded.document, updated_at = excluded.updated_at`,
};

/**
 * One definition's write within its bounds, as three statements of one D1 batch (a transaction: nothing runs
 * between them): what the bounds see (for the answer when refused), the conditional upsert, and the bump of
 * the definitions version if the upsert wrote. The upsert is a single INSERT … SELECT … WHERE, so the count
 * and the bytes are checked by the statement that inserts and concurrent writes cannot pass the bounds
 * together. A replace always passes the count, and passes the bytes when total - old + new fits or the
 * document does not grow (a project over the bound, e.g. from before it, can still shrink).
 */
async function boundedUpsert(
  db: Db,
  table: Table,
  write: { projectKey: string; document: unknown; status: string; id: string; kind?: string },
  bounds: CatalogueBounds,
): Promise<DefinitionWrite> {
  const values = [
    write.projectKey,
    JSON.stringify(write.document),
    new Date().toISOString(),
    bounds.maxDefinitions,
    bounds.maxCatalogueBytes,
    write.status,
    write.id,
    ...(write.kind === undefined ? [] : [write.kind]),
  ];
  const catalogueBytes = `(SELECT COALESCE(SUM(${bytes("document")}), 0) FROM event_definitions WHERE project_key = ?1)
    + (SELECT COALESCE(SUM(${bytes("document")}), 0) FROM game_definitions WHERE project_key = ?1)`;
  const present = `EXISTS (SELECT 1 FROM ${table.name} WHERE ${table.self})`;
  const count = `(SELECT count(*) FROM ${table.name} WHERE ${table.sameKind})`;
  const oldBytes = `COALESCE((SELECT ${bytes("document")} FROM ${table.name} WHERE ${table.self}), 0)`;
  const newTotal = `(${catalogueBytes}) - ${oldBytes} + ${bytes("?2")}`;
  const fits = `(${present} OR ${count} < ?4) AND (${newTotal} <= ?5 OR ${bytes("?2")} <= ${oldBytes})`;
  // Each statement binds the placeholders up to the highest it uses (SQLite counts parameters by that).
  const statement = (query: string) => {
    const highest = Math.max(...[...query.matchAll(/\?(\d+)/g)].map((m) => Number(m[1])));
    return db.$client.prepare(query).bind(...values.slice(0, highest));
  };
  const [seen, written] = await db.$client.batch([
    statement(`SELECT ${present} AS present, ${count} AS definitions, ${newTotal} AS catalogueBytes`),
    statement(`${table.upsert(fits)} RETURNING version`),
    // Only when the upsert wrote, i.e. the row carries this write's updated_at: a refused write changes nothing.
    statement(`UPDATE projects SET definitions_version = definitions_version + 1
      WHERE key = ?1 AND EXISTS (SELECT 1 FROM ${table.name} WHERE ${table.self} AND updated_at = ?3)`),
  ]);
  const row = (written!.results as Array<{ version: number }>)[0];
  if (row) return { outcome: row.version === 1 ? "created" : "replaced" };
  const bounded = (seen!.results as Array<{ present: number; definitions: number; catalogueBytes: number }>)[0]!;
  if (!bounded.present && bounded.definitions >= bounds.maxDefinitions) return { outcome: "tooMany", definitions: bounded.definitions };
  return { outcome: "tooLarge", catalogueBytes: bounded.catalogueBytes };
}

/**
 * Creates or replaces an event definition within the project's bounds and bumps the definitions version, in
 * one D1 transaction. The project row must exist.
 */
export function upsertDefinition(db: Db, projectKey: string, definition: EventDefinition, bounds: CatalogueBounds): Promise<DefinitionWrite> {
  return boundedUpsert(db, EVENTS, { projectKey, document: definition, status: definition.status, id: definition.eventId }, bounds);
}

/** Sets a definition INACTIVE; logged history keeps pointing at it. Returns null when it does not exist. */
export async function deactivateDefinition(db: Db, projectKey: string, eventId: string): Promise<EventDefinition | null> {
  const now = new Date().toISOString();
  const [updated] = await db.batch([
    db
      .update(eventDefinitions)
      .set({
        status: "INACTIVE",
        document: sql`json_set(${eventDefinitions.document}, '$.status', 'INACTIVE')`,
        version: sql`${eventDefinitions.version} + 1`,
        updatedAt: now,
      })
      .where(and(eq(eventDefinitions.projectKey, projectKey), eq(eventDefinitions.eventId, eventId)))
      .returning({ document: eventDefinitions.document }),
    bumpDefinitionsVersion(db, projectKey),
  ]);
  const row = updated[0];
  return row ? (row.document as EventDefinition) : null;
}

/** Creates or replaces a streak/challenge/leaderboard definition within the project's bounds (one transaction, as above). */
export function upsertGameDefinition(
  db: Db,
  projectKey: string,
  kind: GameDefinitionKind,
  definitionId: string,
  document: { status: "ACTIVE" | "INACTIVE" },
  bounds: CatalogueBounds,
): Promise<DefinitionWrite> {
  return boundedUpsert(db, GAMES, { projectKey, document, status: document.status, id: definitionId, kind }, bounds);
}

/** Sets a streak/challenge/leaderboard definition INACTIVE; null when it does not exist. */
export async function deactivateGameDefinition(db: Db, projectKey: string, kind: GameDefinitionKind, definitionId: string): Promise<unknown> {
  const [updated] = await db.batch([
    db
      .update(gameDefinitions)
      .set({
        status: "INACTIVE",
        document: sql`json_set(${gameDefinitions.document}, '$.status', 'INACTIVE')`,
        version: sql`${gameDefinitions.version} + 1`,
        updatedAt: new Date().toISOString(),
      })
      .where(and(eq(gameDefinitions.projectKey, projectKey), eq(gameDefinitions.kind, kind), eq(gameDefinitions.definitionId, definitionId)))
      .returning({ document: gameDefinitions.document }),
    bumpDefinitionsVersion(db, projectKey),
  ]);
  return updated[0]?.document ?? null;
}
