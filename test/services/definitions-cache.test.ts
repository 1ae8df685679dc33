import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { getDb } from "../../src/db/client";
import { projectCatalogue } from "../../src/services/definitions";
import { api, loginDefinition, setupProject } from "../helpers";

/** A D1 whose batches run at once but answer only when `release` is called: a slow reader holding old state. */
function slowBatches() {
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  const db = new Proxy(env.DB, {
    get(target, property) {
      const value = Reflect.get(target, property);
      if (property === "batch") {
        return async (statements: D1PreparedStatement[]) => {
          const result = await target.batch(statements);
          await gate;
          return result;
        };
      }
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { db, release };
}

describe("the definitions catalogue cache", () => {
  it("never puts back a catalogue older than a write this isolate made", async () => {
    const { admin, projectId } = await setupProject();
    const slow = slowBatches();
    // A reader loads the catalogue as it is before the write, and answers only after the write.
    const reading = projectCatalogue(getDb(slow.db), projectId);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await api("PUT", "/v1/admin/events/daily_login", { auth: admin, body: loginDefinition })).status).toBe(201);
    slow.release();
    const before = await reading;
    expect(before.events.has("daily_login")).toBe(false);
    // The write is seen at once, not after the 5 s re-check.
    expect((await projectCatalogue(getDb(env.DB), projectId)).events.has("daily_login")).toBe(true);
    expect((await api("POST", "/v1/event", { auth: admin, body: { eventId: "daily_login", userId: "alice" } })).status).toBe(200);
  });
});
