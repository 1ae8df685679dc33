import { and, eq, sql } from "drizzle-orm";
import type { EventDefinition, VersionedDefinition } from "../domain/definition";
import type { Db } from "./client";
import { eventDefinitions, projects } from "./schema";

/** The project's definitions version: it grows on every definition change, so caches can tell they are stale. */
export async function definitionsVersion(db: Db, projectKey: string): Promise<number> {
  const row = await db.query.projects.findFirst({
    columns: { definitionsVersion: true },
    where: eq(projects.key, projectKey),
  });
  return row?.definitionsVersion ?? 0;
}

/** Every definition of the project, ordered by eventId. */
export async function loadDefinitions(db: Db, projectKey: string): Promise<VersionedDefinition[]> {
  const rows = await db
    .select({ eventId: eventDefinitions.eventId, version: eventDefinitions.version, document: eventDefinitions.document })
    .from(eventDefinitions)
    .where(eq(eventDefinitions.projectKey, projectKey))
    .orderBy(eventDefinitions.eventId);
  return rows.map((r) => ({ ...(r.document as EventDefinition), version: r.version }));
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
      .values({ projectKey, eventId, version: 1, status, document: definition, updatedAt: now })
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
