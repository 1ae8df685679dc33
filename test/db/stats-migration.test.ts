import { applyD1Migrations, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { dayNumber } from "../../src/domain/active-days";
import { USER_STATE_MIGRATIONS } from "../../src/durable/migrations";
import { moveStatsSeeds } from "../../src/services/stats-seeds";
import { api, newProject, setupProject, userObject } from "../helpers";

const MIGRATION = "0009_stats_without_user_rows.sql";
const db = () => env.STATS_MIGRATION_DB;
const tables = async () => (await db().prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all<{ name: string }>()).results.map((r) => r.name);

/** The per-user rows today's consumer writes, for one user active on `days` per event id ('*': any). */
async function activeRows(projectKey: string, userId: string, days: Record<string, string[]>) {
  for (const [eventId, list] of Object.entries(days)) {
    for (const day of list) {
      await db()
        .prepare("INSERT INTO stats_daily_users (project_key, event_id, day, user_id, ingest_batch) VALUES (?, ?, ?, ?, 'b')")
        .bind(projectKey, eventId, day, userId)
        .run();
      await db()
        .prepare("INSERT OR IGNORE INTO stats_monthly_users (project_key, event_id, month, user_id, ingest_batch) VALUES (?, ?, ?, ?, 'b')")
        .bind(projectKey, eventId, day.slice(0, 7), userId)
        .run();
    }
    await db()
      .prepare("INSERT INTO stats_last_active (project_key, event_id, user_id, day) VALUES (?, ?, ?, ?)")
      .bind(projectKey, eventId, userId, [...list].sort().at(-1))
      .run();
  }
}

describe("D1 migration 0009 (stats without per-user rows)", () => {
  it("moves each user's rows into one seed, drops the per-user tables, keeps the aggregates, and the seeds reach the objects", async () => {
    // A database made with today's schema (every migration before 0009), holding per-user rows and aggregates.
    const before = env.TEST_MIGRATIONS.filter((m) => m.name < MIGRATION);
    const mine = env.TEST_MIGRATIONS.find((m) => m.name === MIGRATION);
    expect(mine).toBeDefined();
    await applyD1Migrations(db(), before);
    expect(await tables()).toEqual(expect.arrayContaining(["stats_daily_users", "stats_monthly_users", "stats_last_active", "streak_participants"]));

    const { projectId, admin } = await setupProject({ users: { alice: [], bob: [] } });
    await activeRows(projectId, "alice", {
      "*": ["2025-07-30", "2025-07-31", "2025-08-01", "2025-08-03"],
      login: ["2025-07-30", "2025-07-31"],
      purchase_completed: ["2025-08-01", "2025-08-03"],
    });
    await activeRows(projectId, "bob", { "*": ["2025-08-02"], login: ["2025-08-02"] });
    // Another project's user of the same name stays apart.
    const other = newProject();
    await activeRows(other, "alice", { "*": ["2025-08-05"], login: ["2025-08-05"] });
    await db()
      .prepare(
        `INSERT INTO streak_participants (project_key, streak_id, user_id, seq, current, longest, alive_until) VALUES
           (?1, 'login_streak', 'alice', 7, 2, 3, 1754265600000), (?1, 'weekly', 'alice', 5, 1, 1, 1754870400000),
           (?1, 'login_streak', 'carol', 2, 1, 1, 1754179200000)`,
      )
      .bind(projectId)
      .run();
    await db()
      .prepare(
        `INSERT INTO stats_users_by_last_day (project_key, event_id, day, users) VALUES (?1, '*', '2025-08-03', 1), (?1, '*', '2025-08-02', 1);
         `,
      )
      .bind(projectId)
      .run();
    await db()
      .prepare(
        "INSERT INTO streak_longest_counts (project_key, streak_id, longest, participants) VALUES (?1, 'login_streak', 3, 1), (?1, 'login_streak', 1, 1)",
      )
      .bind(projectId)
      .run();
    const aggregates = async () =>
      (
        await db()
          .prepare(
            `SELECT 'last' AS t, event_id || ' ' || day || ' ' || users AS v FROM stats_users_by_last_day WHERE project_key = ?1
             UNION ALL SELECT 'longest', streak_id || ' ' || longest || ' ' || participants FROM streak_longest_counts WHERE project_key = ?1 ORDER BY 1, 2`,
          )
          .bind(projectId)
          .all()
      ).results;
    const aggregatesBefore = await aggregates();

    await applyD1Migrations(db(), [mine!]);

    const names = await tables();
    for (const gone of ["stats_daily_users", "stats_monthly_users", "stats_last_active", "streak_participants"]) expect(names).not.toContain(gone);
    expect(names).toEqual(
      expect.arrayContaining(["stats_user_seeds", "stats_users_by_last_day", "streak_alive_buckets", "streak_longest_counts", "stats_daily"]),
    );
    expect(await aggregates()).toEqual(aggregatesBefore);

    const seeds = await db()
      .prepare("SELECT project_key, user_id, active, streaks FROM stats_user_seeds ORDER BY project_key = ?1 DESC, user_id")
      .bind(projectId)
      .all<{ project_key: string; user_id: string; active: string; streaks: string }>();
    const byUser = Object.fromEntries(
      seeds.results.map((r) => [
        `${r.project_key === projectId ? "" : "other:"}${r.user_id}`,
        { active: (JSON.parse(r.active) as unknown[]).map(String).sort(), streaks: (JSON.parse(r.streaks) as unknown[]).map(String).sort() },
      ]),
    );
    const d = dayNumber;
    const range = (eventId: string, first: string, last: string) => String([eventId, d(first), d(last)]);
    expect(byUser).toEqual({
      alice: {
        // Consecutive days become one range.
        active: [
          range("*", "2025-07-30", "2025-08-01"),
          range("*", "2025-08-03", "2025-08-03"),
          range("login", "2025-07-30", "2025-07-31"),
          range("purchase_completed", "2025-08-01", "2025-08-01"),
          range("purchase_completed", "2025-08-03", "2025-08-03"),
        ].sort(),
        streaks: [String(["login_streak", 7, 2, 3, 1754265600000]), String(["weekly", 5, 1, 1, 1754870400000])].sort(),
      },
      bob: { active: [range("*", "2025-08-02", "2025-08-02"), range("login", "2025-08-02", "2025-08-02")].sort(), streaks: [] },
      // A participant without active-day rows still gets its streak states.
      carol: { active: [], streaks: [String(["login_streak", 2, 1, 1, 1754179200000])] },
      "other:alice": { active: [range("*", "2025-08-05", "2025-08-05"), range("login", "2025-08-05", "2025-08-05")].sort(), streaks: [] },
    });

    // alice's and bob's objects are from before the flags (the object migration marks such objects: see below);
    // the cron moves their seeds in and deletes them. carol has no object: her seed goes without creating one.
    for (const userId of ["alice", "bob"]) {
      const stub = userObject(projectId, userId);
      await runInDurableObject(stub, (_instance, state) => void state.storage.sql.exec("UPDATE stats_seed SET pending = 1"));
      await evictDurableObject(stub);
    }
    const moved = await moveStatsSeeds({ DB: db(), USER_STATE: env.USER_STATE }, 3);
    expect(moved).toEqual({ moved: 3, failed: 0 });
    expect(await moveStatsSeeds({ DB: db(), USER_STATE: env.USER_STATE })).toEqual({ moved: 1, failed: 0 });
    expect(await moveStatsSeeds({ DB: db(), USER_STATE: env.USER_STATE })).toEqual({ moved: 0, failed: 0 });
    const alice = await runInDurableObject(userObject(projectId, "alice"), (_instance, state) => ({
      active: state.storage.sql.exec("SELECT event_id, first_day, last_day FROM active_days ORDER BY event_id, first_day").toArray(),
      streaks: state.storage.sql.exec("SELECT streak_id, seq, current, longest, alive_until FROM streak_reports ORDER BY streak_id").toArray(),
      pending: state.storage.sql.exec<{ p: number }>("SELECT pending AS p FROM stats_seed").one().p,
    }));
    expect(alice).toEqual({
      active: [
        { event_id: "*", first_day: d("2025-07-30"), last_day: d("2025-08-01") },
        { event_id: "*", first_day: d("2025-08-03"), last_day: d("2025-08-03") },
        { event_id: "login", first_day: d("2025-07-30"), last_day: d("2025-07-31") },
        { event_id: "purchase_completed", first_day: d("2025-08-01"), last_day: d("2025-08-01") },
        { event_id: "purchase_completed", first_day: d("2025-08-03"), last_day: d("2025-08-03") },
      ],
      streaks: [
        { streak_id: "login_streak", seq: 7, current: 2, longest: 3, alive_until: 1754265600000 },
        { streak_id: "weekly", seq: 5, current: 1, longest: 1, alive_until: 1754870400000 },
      ],
      pending: 0,
    });
    // An object that has its seed already ignores another copy.
    await userObject(projectId, "alice").importStatsSeed({ active: [["*", 1, 1]], streaks: [] });
    expect(
      await runInDurableObject(userObject(projectId, "alice"), (_i, state) =>
        state.storage.sql.exec("SELECT * FROM active_days WHERE first_day = 1").toArray(),
      ),
    ).toEqual([]);
    // carol's object was never created.
    expect(await runInDurableObject(userObject(projectId, "carol"), (_i, state) => state.storage.sql.exec("SELECT name FROM sqlite_master").toArray())).toEqual(
      [],
    );
    expect((await api("GET", "/v1/users/alice", { auth: admin })).status).toBe(200);
  });
});

describe("user object migration (stats flags)", () => {
  it("marks an object that already had a user as needing its seed, and a new one as not", async () => {
    const version = USER_STATE_MIGRATIONS.findIndex((sql) => sql.includes("CREATE TABLE active_days")) + 1;
    expect(version).toBeGreaterThan(0);
    const projectKey = newProject();
    const stub = userObject(projectKey, "old");
    // An object as the code before this migration left it: every earlier migration and a registered user.
    await runInDurableObject(stub, (_instance, state) => {
      const sql = state.storage.sql;
      sql.exec("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)");
      for (let v = 1; v < version; v++) {
        sql.exec(USER_STATE_MIGRATIONS[v - 1]!);
        sql.exec("INSERT INTO schema_version VALUES (?, 0)", v);
      }
      sql.exec("INSERT INTO profile (id, project_key, program_id, user_id, account_id, usergroups) VALUES (1, ?, 1, 'old', 1, '[]')", projectKey);
    });
    await evictDurableObject(stub);
    await stub.snapshot(); // the constructor migrates
    expect(await runInDurableObject(stub, (_i, state) => state.storage.sql.exec<{ p: number }>("SELECT pending AS p FROM stats_seed").one().p)).toBe(1);

    const { projectId } = await setupProject({ users: { fresh: [] } });
    expect(
      await runInDurableObject(
        userObject(projectId, "fresh"),
        (_i, state) => state.storage.sql.exec<{ p: number }>("SELECT pending AS p FROM stats_seed").one().p,
      ),
    ).toBe(0);
  });
});
