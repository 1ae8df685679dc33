import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { getDb } from "../../src/db/client";
import { definitionsVersion, loadDefinitions, upsertDefinition, upsertGameDefinition, type DefinitionWrite } from "../../src/db/definitions";
import { ensureProject } from "../../src/db/projects";
import type { EventDefinition } from "../../src/domain/definition";
import { newProject } from "../helpers";

/** The bounds are parameters of the write, so a test can lower them and race many writes against them. */
const db = () => getDb(env.DB);

const eventDefinition = (eventId: string, title = "Login"): EventDefinition =>
  ({
    eventId,
    title,
    description: "",
    status: "ACTIVE",
    type: "STANDARD",
    reward: { default: 1 },
    limitPeriod: "lifetime",
    metadataFields: [],
    requiresApiKey: false,
  }) as EventDefinition;

const outcomes = (writes: DefinitionWrite[]) =>
  writes.reduce<Record<string, number>>((counts, w) => {
    counts[w.outcome] = (counts[w.outcome] ?? 0) + 1;
    return counts;
  }, {});

describe("bounded definition writes", () => {
  it("create exactly the event definition limit under 40 concurrent creates, and still replace at it", async () => {
    const projectKey = newProject();
    await ensureProject(db(), projectKey);
    const bounds = { maxDefinitions: 7, maxCatalogueBytes: 1_000_000 };
    const writes = await Promise.all(Array.from({ length: 40 }, (_, n) => upsertDefinition(db(), projectKey, eventDefinition(`e${n}`), bounds)));
    expect(outcomes(writes)).toEqual({ created: 7, tooMany: 33 });
    const { events } = await loadDefinitions(db(), projectKey);
    expect(events).toHaveLength(7);
    // Every created definition got its own rule id; replacing one at the limit keeps it and bumps its version.
    expect(new Set(events.map((e) => e.ruleId)).size).toBe(7);
    const kept = events[0]!;
    expect(await upsertDefinition(db(), projectKey, eventDefinition(kept.eventId, "Renamed"), bounds)).toEqual({ outcome: "replaced" });
    const after = (await loadDefinitions(db(), projectKey)).events.find((e) => e.eventId === kept.eventId)!;
    expect([after.title, after.version, after.ruleId]).toEqual(["Renamed", 2, kept.ruleId]);
  });

  it("count each kind of game definition on its own under concurrency", async () => {
    const projectKey = newProject();
    await ensureProject(db(), projectKey);
    const bounds = { maxDefinitions: 5, maxCatalogueBytes: 1_000_000 };
    const writes = await Promise.all(
      (["streak", "challenge", "leaderboard"] as const).flatMap((kind) =>
        Array.from({ length: 20 }, (_, n) => upsertGameDefinition(db(), projectKey, kind, `${kind}${n}`, { status: "ACTIVE" }, bounds)),
      ),
    );
    expect(outcomes(writes)).toEqual({ created: 15, tooMany: 45 });
    const { games } = await loadDefinitions(db(), projectKey);
    expect(games.filter((g) => g.kind === "streak")).toHaveLength(5);
    expect(games.filter((g) => g.kind === "challenge")).toHaveLength(5);
    expect(games.filter((g) => g.kind === "leaderboard")).toHaveLength(5);
  });

  it("hold the catalogue's bytes under concurrent creates, over events and game definitions together", async () => {
    const projectKey = newProject();
    await ensureProject(db(), projectKey);
    const document = { status: "ACTIVE" as const, note: "x".repeat(975) };
    const size = JSON.stringify(document).length; // 1,000 bytes
    const bounds = { maxDefinitions: 1_000, maxCatalogueBytes: 10 * size + 100 };
    const writes = await Promise.all([
      ...Array.from({ length: 15 }, (_, n) => upsertGameDefinition(db(), projectKey, "streak", `s${n}`, document, bounds)),
      ...Array.from({ length: 15 }, (_, n) => upsertGameDefinition(db(), projectKey, "leaderboard", `b${n}`, document, bounds)),
    ]);
    expect(outcomes(writes)).toEqual({ created: 10, tooLarge: 20 });
    const refused = writes.find((w) => w.outcome === "tooLarge");
    expect(refused).toEqual({ outcome: "tooLarge", catalogueBytes: 11 * size });
    // An event definition (about 170 bytes) counts against the same bytes.
    expect((await upsertDefinition(db(), projectKey, eventDefinition("e1"), bounds)).outcome).toBe("tooLarge");
  });

  it("bump the definitions version for writes, not for refused ones", async () => {
    const projectKey = newProject();
    await ensureProject(db(), projectKey);
    const bounds = { maxDefinitions: 1, maxCatalogueBytes: 1_000_000 };
    const before = await definitionsVersion(db(), projectKey);
    expect(await upsertGameDefinition(db(), projectKey, "streak", "s1", { status: "ACTIVE" }, bounds)).toEqual({ outcome: "created" });
    expect(await definitionsVersion(db(), projectKey)).toBe(before + 1);
    expect((await upsertGameDefinition(db(), projectKey, "streak", "s2", { status: "ACTIVE" }, bounds)).outcome).toBe("tooMany");
    expect(await definitionsVersion(db(), projectKey)).toBe(before + 1);
    expect(await upsertGameDefinition(db(), projectKey, "streak", "s1", { status: "INACTIVE" }, bounds)).toEqual({ outcome: "replaced" });
    expect(await definitionsVersion(db(), projectKey)).toBe(before + 2);
  });
});
