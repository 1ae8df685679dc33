import { eq, sql } from "drizzle-orm";
import { TtlCache } from "../lib/ttl-cache";
import type { Db } from "./client";
import { projects } from "./schema";

/** Project numeric ids never change, so an isolate may keep them as long as it likes (bounded in number). */
const projectIds = new TtlCache<string, number>(10_000, 24 * 3_600_000);

/** Returns the project's numeric id, creating the project on first use (projects are implicit in the claims). */
export async function ensureProject(db: Db, projectKey: string): Promise<number> {
  const known = projectIds.get(projectKey);
  if (known !== undefined) return known;
  const [row] = await db
    .insert(projects)
    .values({ key: projectKey })
    .onConflictDoUpdate({ target: projects.key, set: { key: sql`excluded.key` } })
    .returning({ id: projects.id });
  if (!row) throw new Error(`project ${projectKey} could not be created`);
  projectIds.set(projectKey, row.id);
  return row.id;
}

/** The project's numeric id without creating it; null for a project that never had an admin write. */
export async function findProjectId(db: Db, projectKey: string): Promise<number | null> {
  const known = projectIds.get(projectKey);
  if (known !== undefined) return known;
  const row = await db.query.projects.findFirst({ columns: { id: true }, where: eq(projects.key, projectKey) });
  if (row) projectIds.set(projectKey, row.id);
  return row?.id ?? null;
}
