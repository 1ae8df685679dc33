import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { findLedgerEntry, insertEvents, legacyLedgerAccount, legacyLedgerRows } from "../../src/db/event-log";
import { LEDGER_ID_SPAN } from "../../src/domain/ledger";
import { loggedEvent } from "../fixtures";

const MIGRATION = "0012_ledger_in_user_objects.sql";
const db = () => env.LEDGER_MIGRATION_DB;

/** A row as the consumer before this migration wrote it (D1 numbers it; no loyalty id column yet). */
const oldRow = (projectKey: string, accountId: number, i: number) =>
  db()
    .prepare(
      `INSERT INTO event_log (event_uid, project_key, program_id, user_id, account_id, event_id, definition_version, event_type,
         metadata, occurred_at, recorded_at, points, balance_before, balance_after, user_group_id, condition_reached,
         limit_reached, reward, ingest_batch, reward_amount)
       VALUES (?, ?, 1, ?, ?, 'login', 1, 'STANDARD', '{}', ?, ?, 5, 0, 5, 'default', 1, 0, '{}', 'old', 5)`,
    )
    .bind(crypto.randomUUID(), projectKey, `u${accountId}`, accountId, `2026-06-0${i}T10:00:00.000Z`, `2026-06-0${i}T10:00:00.000Z`);

describe("D1 migration 0012 (the ledger in the users' objects)", () => {
  it("gives every row from before its id as loyalty id, notes its account, and numbers later rows without one after them", async () => {
    // A database made with today's schema (every migration before 0012), holding rows of two accounts.
    await applyD1Migrations(
      db(),
      env.TEST_MIGRATIONS.filter((m) => m.name < MIGRATION),
    );
    const projectKey = "p-ledger-migration";
    for (let i = 1; i <= 3; i++) await oldRow(projectKey, 7, i).run();
    await oldRow(projectKey, 8, 4).run();
    const before = (await db().prepare("SELECT id, account_id AS accountId FROM event_log ORDER BY id").all<{ id: number; accountId: number }>()).results;

    const mine = env.TEST_MIGRATIONS.find((m) => m.name === MIGRATION);
    expect(mine).toBeDefined();
    await applyD1Migrations(db(), [mine!]);

    const rows = async () =>
      (await db().prepare("SELECT id, ledger_id AS ledgerId FROM event_log ORDER BY id").all<{ id: number; ledgerId: number }>()).results;
    expect(await rows()).toEqual(before.map((r) => ({ id: r.id, ledgerId: r.id })));
    const legacy = (await db().prepare("SELECT id, account_id AS accountId FROM ledger_legacy_ids ORDER BY id").all()).results;
    expect(legacy).toEqual(before);
    expect(await legacyLedgerAccount(db(), before[3]!.id)).toBe(8);
    // The ledger's indexes end with the loyalty id; the project's is unique.
    const columns = async (index: string) =>
      (await db().prepare(`SELECT name FROM pragma_index_info('${index}') ORDER BY seqno`).all<{ name: string }>()).results.map((c) => c.name);
    expect(await columns("event_log_project_time")).toEqual(["project_key", "occurred_at", "ledger_id"]);
    expect(await columns("event_log_project_account")).toEqual(["project_key", "account_id", "ledger_id"]);
    const unique = await db().prepare("SELECT \"unique\" AS u FROM pragma_index_list('event_log') WHERE name = 'event_log_project_id'").first<{ u: number }>();
    expect(unique).toEqual({ u: 1 });

    // A row written by code from before (while 0012 deploys) takes its log id and is noted.
    await oldRow(projectKey, 8, 5).run();
    const written = (await rows()).at(-1)!;
    expect(written.ledgerId).toBe(written.id);
    expect(await legacyLedgerAccount(db(), written.id)).toBe(8);

    // Then the raw log's slim row (migration 0013) and today's consumer: an object's id is kept; a message without
    // one (queued before) is numbered after every id from before and noted.
    await applyD1Migrations(
      db(),
      env.TEST_MIGRATIONS.filter((m) => m.name > MIGRATION),
    );
    const fromObject = loggedEvent(projectKey, { accountId: 7, ledgerId: 7 * LEDGER_ID_SPAN + 1 });
    const queuedBefore = [loggedEvent(projectKey, { accountId: 8 }), loggedEvent(projectKey, { accountId: 7 })];
    await db().batch(insertEvents(db(), [fromObject, ...queuedBefore], "new"));
    const after = (await rows()).slice(before.length + 1);
    const top = written.id;
    expect(after.map((r) => r.ledgerId)).toEqual([7 * LEDGER_ID_SPAN + 1, top + 2, top + 3]);
    expect(await legacyLedgerAccount(db(), top + 2)).toBe(8);
    expect(await legacyLedgerAccount(db(), top + 3)).toBe(7);
    expect(await legacyLedgerAccount(db(), 7 * LEDGER_ID_SPAN + 1)).toBeNull();
    // The ledger reads loyalty ids: an item by its id, an account's rows from before for its object to copy.
    expect((await findLedgerEntry(db(), projectKey, 7 * LEDGER_ID_SPAN + 1))?.eventUid).toBe(fromObject.eventUid);
    expect((await legacyLedgerRows(db(), projectKey, 7, 0, 10)).map((r) => r.id)).toEqual([before[0]!.id, before[1]!.id, before[2]!.id, top + 3]);
  });
});
