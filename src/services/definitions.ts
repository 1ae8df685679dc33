import type { Db } from "../db/client";
import { deactivateDefinition, definitionsVersion, loadDefinitions, upsertDefinition } from "../db/definitions";
import { ensureProject } from "../db/projects";
import type { EventDefinition, EventDefinitionBody, VersionedDefinition } from "../domain/definition";
import { TtlCache } from "../lib/ttl-cache";

/**
 * Per-isolate cache of a project's definitions. After CHECK_AFTER_MS the cache asks D1 only for the
 * project's definitions version (one tiny query) and reloads the definitions when it moved; writes made
 * through this isolate invalidate at once. So POST /v1/event reads D1 at most once per project per interval.
 */
const CHECK_AFTER_MS = 5_000;
type CachedProject = { version: number; checkedAt: number; definitions: Map<string, VersionedDefinition> };
/** Projects idle for 10 minutes are dropped; at most 1,000 are held. */
const cache = new TtlCache<string, CachedProject>(1_000, 600_000);

/** All definitions of a project, ordered by eventId, served from the isolate cache when fresh. */
export async function projectDefinitions(db: Db, projectKey: string): Promise<Map<string, VersionedDefinition>> {
  const now = Date.now();
  const cached = cache.get(projectKey, now);
  if (cached && now - cached.checkedAt < CHECK_AFTER_MS) return cached.definitions;
  const version = await definitionsVersion(db, projectKey);
  if (cached && cached.version === version) {
    cached.checkedAt = now;
    cache.set(projectKey, cached);
    return cached.definitions;
  }
  const definitions = new Map((await loadDefinitions(db, projectKey)).map((d) => [d.eventId, d]));
  cache.set(projectKey, { version, checkedAt: now, definitions });
  return definitions;
}

export async function findDefinition(db: Db, projectKey: string, eventId: string): Promise<VersionedDefinition | undefined> {
  return (await projectDefinitions(db, projectKey)).get(eventId);
}

/** Creates or replaces a definition (creating the project on its first admin write). */
export async function putDefinition(
  db: Db,
  projectKey: string,
  eventId: string,
  body: EventDefinitionBody,
): Promise<{ created: boolean; definition: EventDefinition }> {
  await ensureProject(db, projectKey);
  const definition: EventDefinition = { eventId, ...body };
  const { created } = await upsertDefinition(db, projectKey, definition);
  cache.delete(projectKey);
  return { created, definition };
}

/** Sets a definition INACTIVE; null when it does not exist. */
export async function deactivate(db: Db, projectKey: string, eventId: string): Promise<EventDefinition | null> {
  const definition = await deactivateDefinition(db, projectKey, eventId);
  cache.delete(projectKey);
  return definition;
}
