import { and, eq, sql } from "drizzle-orm";
import type { EventDefinition, EventDefinitionBody, VersionedDefinition } from "../domain/definition";
import type { Db } from "./client";
import { ensureProject } from "./projects";
import { eventDefinitions, projects } from "./schema";

/**
 * Per-isolate cache of a project's definitions. After CHECK_AFTER_MS the cache asks D1 only for the
 * project's definitions version (one tiny query) and reloads the definitions when it moved; writes made
 * through this isolate invalidate at once. So POST /v1/event reads D1 at most once per project per interval.
 */
const CHECK_AFTER_MS = 5_000;
type CachedProject = { version: number; checkedAt: number; definitions: Map<string, VersionedDefinition> };
const cache = new Map<string, CachedProject>();

async function projectVersion(db: Db, projectKey: string): Promise<number> {
  const row = await db.query.projects.findFirst({
    columns: { definitionsVersion: true },
    where: eq(projects.key, projectKey),
  });
  return row?.definitionsVersion ?? 0;
}

async function loadAll(db: Db, projectKey: string): Promise<Map<string, VersionedDefinition>> {
  const rows = await db
    .select({ eventId: eventDefinitions.eventId, version: eventDefinitions.version, document: eventDefinitions.document })
    .from(eventDefinitions)
    .where(eq(eventDefinitions.projectKey, projectKey))
    .orderBy(eventDefinitions.eventId);
  return new Map(rows.map((r) => [r.eventId, { ...(r.document as EventDefinition), version: r.version }]));
}

/** All definitions of a project, ordered by eventId, served from the isolate cache when fresh. */
export async function projectDefinitions(db: Db, projectKey: string): Promise<Map<string, VersionedDefinition>> {
  const now = Date.now();
  const cached = cache.get(projectKey);
  if (cached && now - cached.checkedAt < CHECK_AFTER_MS) return cached.definitions;
  const version = await projectVersion(db, projectKey);
  if (cached && cached.version === version) {
    cached.checkedAt = now;
    return cached.definitions;
  }
  const definitions = await loadAll(db, projectKey);
  cache.set(projectKey, { version, checkedAt: now, definitions });
  return definitions;
}

export async function findDefinition(db: Db, projectKey: string, eventId: string): Promise<VersionedDefinition | undefined> {
  return (await projectDefinitions(db, projectKey)).get(eventId);
}

/**
 * Creates or replaces a definition and bumps the project's definitions version in one D1 batch (a transaction).
 * Returns whether it was created.
 */
export async function putDefinition(
  db: Db,
  projectKey: string,
  eventId: string,
  body: EventDefinitionBody,
): Promise<{ created: boolean; definition: EventDefinition }> {
  await ensureProject(db, projectKey);
  const definition: EventDefinition = { eventId, ...body };
  const now = new Date().toISOString();
  const existing = await db.query.eventDefinitions.findFirst({
    columns: { version: true },
    where: and(eq(eventDefinitions.projectKey, projectKey), eq(eventDefinitions.eventId, eventId)),
  });
  await db.batch([
    db
      .insert(eventDefinitions)
      .values({ projectKey, eventId, version: 1, status: body.status, document: definition, updatedAt: now })
      .onConflictDoUpdate({
        target: [eventDefinitions.projectKey, eventDefinitions.eventId],
        set: {
          version: sql`${eventDefinitions.version} + 1`,
          status: body.status,
          document: sql`excluded.document`,
          updatedAt: now,
        },
      }),
    db
      .update(projects)
      .set({ definitionsVersion: sql`${projects.definitionsVersion} + 1` })
      .where(eq(projects.key, projectKey)),
  ]);
  cache.delete(projectKey);
  return { created: !existing, definition };
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
    db
      .update(projects)
      .set({ definitionsVersion: sql`${projects.definitionsVersion} + 1` })
      .where(eq(projects.key, projectKey)),
  ]);
  cache.delete(projectKey);
  const row = updated[0];
  return row ? (row.document as EventDefinition) : null;
}
