import { getTableColumns } from "drizzle-orm";
import { LoggedEventSchema, type LoggedEvent } from "../domain/logged-event";
import { eventLog } from "./schema";

/**
 * The event log: one row per logged event, written by the queue consumer, read by the ledger.
 * The insert is derived from LoggedEventSchema and the drizzle table, so a logged event's fields are listed
 * once: every field of the schema must be a column of `event_log` (`columns[f]` does not compile otherwise).
 */
const columns = getTableColumns(eventLog);
const fields = Object.keys(LoggedEventSchema.shape) as Array<keyof LoggedEvent>;
/** JSON columns keep the value as JSON text (`->`); the others take the SQL value (`->>`). */
const INSERT_EVENTS = `
INSERT INTO event_log (${fields.map((f) => columns[f].name).join(", ")}, ingest_batch)
SELECT ${fields.map((f) => `value ${columns[f].dataType === "json" ? "->" : "->>"} '$.${f}'`).join(", ")}, ?2
FROM json_each(?1) WHERE true
ON CONFLICT (event_uid) DO NOTHING`;

/**
 * Inserts events (one JSON parameter carries them all), tagging the new rows with `batchToken`. Events already
 * in the log (a redelivery) are skipped and keep their old token, so whatever aggregates rows by the token
 * counts exactly the rows this statement added.
 */
export function insertEvents(d1: D1Database, events: readonly LoggedEvent[], batchToken: string): D1PreparedStatement {
  return d1.prepare(INSERT_EVENTS).bind(JSON.stringify(events), batchToken);
}
