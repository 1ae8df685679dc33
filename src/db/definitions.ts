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

/** Every definition of the project in one D1 round trip: event definitions by eventId, the others by kind and id. */
export async function loadDefinitions(db: Db, projectKey: string): Promise<{ events: VersionedDefinition[]; games: StoredGameDefinition[] }> {
  const [events, games] = await db.batch([
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
    events: events.map((r) => ({ ...(r.document as EventDefinition), version: r.version, ruleId: r.ruleId })),
    games: games.map((r) => ({ ...r, kind: r.kind as GameDefinitionKind })),
  };
}

const bumpDefinitionsVersion = (db: Db, projectKey: string) =>
  db
    .update(projects)
    .set({ definitionsVersion: sql`${projects.definitionsVersion} + 1` })
    .where(eq(projects.key, projectKey));

/**
 * Creates or replaces a definition and bumps the project's definitions version in one D1 batch (a transaction).
 * Returns whether it was created. The project row must exist.
 */
export async function upsertDefinition(db: Db, projectKey: string, definition: EventDefinition): Promise<{ created: boolean }> {
  const { eventId, status } = definition;
  const now = new Date().toISOString();
  const existing = await db.query.eventDefinitions.findFirst({
    columns: { version: true },
    where: and(eq(eventDefinitions.projectKey, projectKey), eq(eventDefinitions.eventId, eventId)),
  });
  await db.batch([
    db
      .insert(eventDefinitions)
      .values({
        projectKey,
        eventId,
        version: 1,
        status,
        document: definition,
        updatedAt: now,
        // Assigned once, on creation: the replace below keeps it.
        ruleId: sql`(SELECT COALESCE(MAX(${eventDefinitions.ruleId}), 0) + 1 FROM ${eventDefinitions})`,
      })
      .onConflictDoUpdate({
        target: [eventDefinitions.projectKey, eventDefinitions.eventId],
        set: {
          version: sql`${eventDefinitions.version} + 1`,
          status,
          document: sql`excluded.document`,
          updatedAt: now,
        },
      }),
    bumpDefinitionsVersion(db, projectKey),
  ]);
  return { created: !existing };
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

/** Creates or replaces a streak/challenge/leaderboard definition and bumps the definitions version (one transaction). */
export async function upsertGameDefinition(
  db: Db,
  projectKey: string,
  kind: GameDefinitionKind,
  definitionId: string,
  document: { status: "ACTIVE" | "INACTIVE" },
): Promise<{ created: boolean }> {
  const now = new Date().toISOString();
  const key = and(eq(gameDefinitions.projectKey, projectKey), eq(gameDefinitions.kind, kind), eq(gameDefinitions.definitionId, definitionId));
  const existing = await db.query.gameDefinitions.findFirst({ columns: { version: true }, where: key });
  await db.batch([
    db
      .insert(gameDefinitions)
      .values({ projectKey, kind, definitionId, version: 1, status: document.status, document, updatedAt: now })
      .onConflictDoUpdate({
        target: [gameDefinitions.projectKey, gameDefinitions.kind, gameDefinitions.definitionId],
        set: { version: sql`${gameDefinitions.version} + 1`, status: document.status, document: sql`excluded.document`, updatedAt: now },
      }),
    bumpDefinitionsVersion(db, projectKey),
  ]);
  return { created: !existing };
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
