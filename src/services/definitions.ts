import type { Db } from "../db/client";
import {
  deactivateDefinition,
  deactivateGameDefinition,
  definitionsVersion,
  loadDefinitions,
  upsertDefinition,
  upsertGameDefinition,
  type DefinitionWrite,
  type StoredGameDefinition,
} from "../db/definitions";
import { readPointsSettings, type StoredPointsSettings } from "../db/points";
import { ensureProject } from "../db/projects";
import type { EventDefinition, EventDefinitionBody, VersionedDefinition } from "../domain/definition";
import {
  ChallengeDefinitionSchema,
  LeaderboardDefinitionSchema,
  StreakDefinitionSchema,
  type ChallengeDefinition,
  type GameDefinitionKind,
  type LeaderboardDefinition,
  type StreakDefinition,
} from "../domain/game-definitions";
import { MAX_CATALOGUE_BYTES, MAX_EVENT_DEFINITIONS, MAX_GAME_DEFINITIONS_PER_KIND } from "../domain/limits";
import type { PointsPolicy, PointsSettings, TierLadder } from "../domain/points-lifecycle";
import { pointsPolicy } from "../domain/points-settings";
import { ApiError, invalidFields, isStorageOutage } from "../http/errors";
import { TtlCache } from "../lib/ttl-cache";

/** Everything a project defines, as the write path needs it: read once per isolate and version-checked. */
export type Catalogue = {
  events: Map<string, VersionedDefinition>;
  streaks: Map<string, StreakDefinition>;
  /** Active streaks by the events they list. */
  activeStreaksByEvent: Map<string, StreakDefinition[]>;
  challenges: Map<string, ChallengeDefinition>;
  activeChallengesByEvent: Map<string, ChallengeDefinition[]>;
  leaderboards: Map<string, LeaderboardDefinition>;
  /** Active count leaderboards by the events they list. */
  activeCountBoardsByEvent: Map<string, LeaderboardDefinition[]>;
  /** Active points leaderboards: every log with points (or a challenge bonus) moves them. */
  activePointsBoards: LeaderboardDefinition[];
  /** The points lifecycle's settings and tier ladder, and the policy every log, adjustment and redemption carries. */
  points: { settings: PointsSettings; tiers: TierLadder | null; updatedAt: string | null; policy: PointsPolicy };
};

/**
 * Per-isolate cache of a project's catalogue. After CHECK_AFTER_MS the cache asks D1 only for the project's
 * definitions version (one tiny query) and reloads the catalogue when it moved; writes made through this
 * isolate invalidate at once. So POST /v1/event reads D1 at most once per project per interval.
 */
const CHECK_AFTER_MS = 5_000;
type CachedProject = { version: number; checkedAt: number; catalogue: Catalogue };
/** Projects idle for 10 minutes are dropped; at most 1,000 are held. */
const cache = new TtlCache<string, CachedProject>(1_000, 600_000);

function byEvent<T extends { eventIds?: string[]; status: string }>(definitions: Iterable<T>): Map<string, T[]> {
  const index = new Map<string, T[]>();
  for (const definition of definitions) {
    if (definition.status !== "ACTIVE") continue;
    for (const eventId of definition.eventIds ?? []) index.set(eventId, [...(index.get(eventId) ?? []), definition]);
  }
  return index;
}

function buildCatalogue(events: VersionedDefinition[], games: StoredGameDefinition[], points: StoredPointsSettings): Catalogue {
  const streaks = new Map<string, StreakDefinition>();
  const challenges = new Map<string, ChallengeDefinition>();
  const leaderboards = new Map<string, LeaderboardDefinition>();
  for (const { kind, definitionId, version, document } of games) {
    // Documents were validated when written; parsing again applies defaults added since.
    if (kind === "streak") streaks.set(definitionId, StreakDefinitionSchema.parse(document));
    if (kind === "challenge") challenges.set(definitionId, { ...ChallengeDefinitionSchema.parse(document), version });
    if (kind === "leaderboard") leaderboards.set(definitionId, { ...LeaderboardDefinitionSchema.parse(document), version });
  }
  const activeBoards = [...leaderboards.values()].filter((b) => b.status === "ACTIVE");
  return {
    events: new Map(events.map((d) => [d.eventId, d])),
    streaks,
    activeStreaksByEvent: byEvent(streaks.values()),
    challenges,
    activeChallengesByEvent: byEvent(challenges.values()),
    leaderboards,
    activeCountBoardsByEvent: byEvent(activeBoards.filter((b) => b.metric === "count")),
    activePointsBoards: activeBoards.filter((b) => b.metric === "points"),
    points: {
      settings: points.settings,
      tiers: points.tiers,
      updatedAt: points.updatedAt,
      // The definitions version grows with every change of the settings or the ladder too (src/db/points.ts).
      policy: pointsPolicy(points.version, points.settings, points.tiers),
    },
  };
}

/**
 * Writes made through this isolate, per project. A catalogue load that began before a write finished may hold
 * the state before it: it serves the request that asked, but is not cached (the isolate that wrote must see its
 * write at once). Bounded like the cache.
 */
const writeCounts = new TtlCache<string, number>(1_000, 600_000);
/** A write of the project's catalogue through this isolate (a definition, the points settings, the ladder): seen here at once. */
export function noteCatalogueWrite(projectKey: string): void {
  writeCounts.set(projectKey, (writeCounts.get(projectKey) ?? 0) + 1);
  cache.delete(projectKey);
}

/**
 * The project's catalogue, served from the isolate cache when fresh. The cache never goes back to an older
 * definitions version than it holds (a slow reader's result, or a lagging replica, is not cached over a newer one).
 */
export async function projectCatalogue(db: Db, projectKey: string): Promise<Catalogue> {
  const now = Date.now();
  const cached = cache.get(projectKey, now);
  if (cached && now - cached.checkedAt < CHECK_AFTER_MS) return cached.catalogue;
  const writesBefore = writeCounts.get(projectKey) ?? 0;
  let version: number;
  try {
    version = await definitionsVersion(db, projectKey);
  } catch (error) {
    // D1 unavailable: logging goes on with the catalogue this isolate holds (checked again in CHECK_AFTER_MS).
    if (!cached || !isStorageOutage(error)) throw error;
    cached.checkedAt = now;
    return cached.catalogue;
  }
  if (cached && cached.version >= version) {
    cached.checkedAt = now;
    cache.set(projectKey, cached);
    return cached.catalogue;
  }
  const loaded = await loadDefinitions(db, projectKey);
  // Read after the version loadDefinitions saw, so the settings are at least that new (a change made between
  // the two is the next version's and reloads once more).
  const points = await readPointsSettings(db.$client, projectKey, loaded.version);
  const catalogue = buildCatalogue(loaded.events, loaded.games, points);
  const current = cache.get(projectKey);
  const unchanged = (writeCounts.get(projectKey) ?? 0) === writesBefore;
  if (unchanged && !(current && current.version > loaded.version)) cache.set(projectKey, { version: loaded.version, checkedAt: now, catalogue });
  return catalogue;
}

/** All event definitions of a project, ordered by eventId. */
export async function projectDefinitions(db: Db, projectKey: string): Promise<Map<string, VersionedDefinition>> {
  return (await projectCatalogue(db, projectKey)).events;
}

export async function findDefinition(db: Db, projectKey: string, eventId: string): Promise<VersionedDefinition | undefined> {
  return (await projectDefinitions(db, projectKey)).get(eventId);
}

/**
 * The answer to a write the bounds refused: 400 naming the id when the project has as many definitions of the
 * kind as it may, 413 when the catalogue would outgrow MAX_CATALOGUE_BYTES.
 */
function refused(write: Exclude<DefinitionWrite, { outcome: "created" | "replaced" }>, idName: string, limit: number, things: string): ApiError {
  if (write.outcome === "tooMany") {
    return invalidFields("path", [{ path: idName, message: `a project may define at most ${limit} ${things}` }]);
  }
  const message = `the project's definitions would take ${write.catalogueBytes} bytes; all of a project's definitions together may take at most ${MAX_CATALOGUE_BYTES} bytes`;
  return new ApiError(413, `Definitions catalogue full: ${message}`, [{ path: "(root)", message }]);
}

/**
 * Creates or replaces an event definition (creating the project on its first admin write). The count and
 * catalogue bounds are checked by the statement that writes it (src/db/definitions.ts), so they hold under
 * concurrent writes.
 */
export async function putDefinition(
  db: Db,
  projectKey: string,
  eventId: string,
  body: EventDefinitionBody,
): Promise<{ created: boolean; definition: EventDefinition }> {
  await ensureProject(db, projectKey);
  const definition: EventDefinition = { eventId, ...body };
  const write = await upsertDefinition(db, projectKey, definition, { maxDefinitions: MAX_EVENT_DEFINITIONS, maxCatalogueBytes: MAX_CATALOGUE_BYTES });
  if (write.outcome === "tooMany" || write.outcome === "tooLarge") throw refused(write, "eventId", MAX_EVENT_DEFINITIONS, "events");
  noteCatalogueWrite(projectKey);
  return { created: write.outcome === "created", definition };
}

/** Sets an event definition INACTIVE; null when it does not exist. */
export async function deactivate(db: Db, projectKey: string, eventId: string): Promise<EventDefinition | null> {
  const definition = await deactivateDefinition(db, projectKey, eventId);
  noteCatalogueWrite(projectKey);
  return definition;
}

/** Creates or replaces a streak/challenge/leaderboard definition, within the same bounds (see putDefinition). */
export async function putGameDefinition(
  db: Db,
  projectKey: string,
  kind: GameDefinitionKind,
  definitionId: string,
  document: { status: "ACTIVE" | "INACTIVE" },
): Promise<{ created: boolean }> {
  await ensureProject(db, projectKey);
  const bounds = { maxDefinitions: MAX_GAME_DEFINITIONS_PER_KIND, maxCatalogueBytes: MAX_CATALOGUE_BYTES };
  const write = await upsertGameDefinition(db, projectKey, kind, definitionId, document, bounds);
  if (write.outcome === "tooMany" || write.outcome === "tooLarge") throw refused(write, `${kind}Id`, MAX_GAME_DEFINITIONS_PER_KIND, `${kind}s`);
  noteCatalogueWrite(projectKey);
  return { created: write.outcome === "created" };
}

/** Sets a streak/challenge/leaderboard definition INACTIVE; returns its document, null when it does not exist. */
export async function deactivateGame(db: Db, projectKey: string, kind: GameDefinitionKind, definitionId: string): Promise<unknown> {
  const document = await deactivateGameDefinition(db, projectKey, kind, definitionId);
  noteCatalogueWrite(projectKey);
  return document;
}
