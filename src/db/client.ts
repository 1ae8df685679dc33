import { drizzle } from "drizzle-orm/d1";
import * as schema from "./schema";

const create = (d1: D1Database) => drizzle(d1, { schema });
export type Db = ReturnType<typeof create>;

/** One drizzle instance per D1 binding: building one reads the whole schema, too costly for every request. */
const instances = new WeakMap<D1Database, Db>();

export function getDb(d1: D1Database): Db {
  let db = instances.get(d1);
  if (!db) {
    db = create(d1);
    instances.set(d1, db);
  }
  return db;
}
