import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { findLedgerEntry, insertEvents, legacyLedgerRows, readLedgerPage, storedUid, uidText, type LedgerFilter } from "../../src/db/event-log";
import { LEDGER_ID_SPAN, type LedgerRow, type LedgerSort } from "../../src/domain/ledger";
import { archiveRawLog } from "../../src/services/archive";
import { loggedEvent } from "../fixtures";

const MIGRATION = "0013_slim_event_log.sql";
const db = () => env.SLIM_LOG_MIGRATION_DB;

type OldRow = {
  uid: string;
  account: number;
  ledgerId: number;
  type: string;
  loyaltyType: string | null;
  metadata: string;
  occurredAt: string;
  rewardType: string;
  amount: number;
  updatedAt?: string;
};

/** A row as the consumer wrote it with the schema before this migration (0012's). */
const oldRow = (projectKey: string, row: OldRow) =>
  db()
    .prepare(
      `INSERT INTO event_log (event_uid, project_key, program_id, user_id, account_id, event_id, definition_version, event_type,
         loyalty_event_type, metadata, occurred_at, recorded_at, points, balance_before, balance_after, user_group_id, condition_reached,
         limit_reached, reward, idempotency_key, rule_id, reward_type, reward_amount, reward_currency, customer_message,
         adjusted_reward_amount, previous_reward_amount, updated_at, adjustment_seq, ledger_id, ingest_batch)
       VALUES (?1, ?2, 99, 'u' || ?3, ?3, 'purchase', 2, ?4, ?5, ?6, ?7, ?7, 7, 10, 17, 'gold', 1, 0, '{"rate":1,"value":7,"uncappedPoints":7,"maximumReward":null,"reasons":[]}',
               'key-1', 3, ?8, ?9, 'EUR', 'Thanks', ?10, ?11, ?12, ?13, ?14, 'old')`,
    )
    .bind(
      row.uid,
      projectKey,
      row.account,
      row.type,
      row.loyaltyType,
      row.metadata,
      row.occurredAt,
      row.rewardType,
      row.amount,
      row.updatedAt ? 0 : null,
      row.updatedAt ? row.amount : null,
      row.updatedAt ?? null,
      row.updatedAt ? 1 : 0,
      row.ledgerId,
    );

describe("D1 migration 0013 (the raw log's slim row)", () => {
  it("carries every row into the slim row and its details, keeps the ids, the sequence and the trigger, and recounts the stored bytes", async () => {
    // A database made with today's schema (every migration before 0013).
    await applyD1Migrations(
      db(),
      env.TEST_MIGRATIONS.filter((m) => m.name < MIGRATION),
    );
    const projectKey = "p-slim";
    const { id: programId } = (await db().prepare("INSERT INTO projects (key) VALUES (?) RETURNING id").bind(projectKey).first<{ id: number }>())!;
    const uuid = () => crypto.randomUUID();
    const rows: OldRow[] = [
      {
        uid: uuid(),
        account: 7,
        ledgerId: 1,
        type: "STANDARD",
        loyaltyType: null,
        metadata: "{}",
        occurredAt: "2026-06-01T10:00:00.000Z",
        rewardType: "LOYALTY_POINTS",
        amount: 7,
      },
      {
        uid: "not-a-uuid-1",
        account: 7,
        ledgerId: 2,
        type: "TRANSACTION",
        loyaltyType: null,
        metadata: '{"amount":12.5}',
        occurredAt: "2026-06-02T10:00:00.123Z",
        rewardType: "PERCENTAGE",
        amount: 1.25,
        updatedAt: "2026-06-03T08:00:00.456Z",
      },
      {
        uid: uuid().toUpperCase(),
        account: 8,
        ledgerId: 3,
        type: "STANDARD",
        loyaltyType: "CARD_ASSIGNMENT",
        metadata: '{"card":"x"}',
        occurredAt: "2026-06-03T00:00:00.000Z",
        rewardType: "FLAT_AMOUNT",
        amount: 5,
      },
      {
        uid: uuid(),
        account: 7,
        ledgerId: 7 * LEDGER_ID_SPAN + 1,
        type: "STANDARD",
        loyaltyType: null,
        metadata: "{}",
        occurredAt: "2026-06-04T23:59:59.999Z",
        rewardType: "LOYALTY_POINTS",
        amount: 7,
      },
      {
        uid: uuid(),
        account: 8,
        ledgerId: 8 * LEDGER_ID_SPAN + 1,
        type: "STANDARD",
        loyaltyType: null,
        metadata: "{}",
        occurredAt: "2026-06-05T12:00:00.000Z",
        rewardType: "LOYALTY_POINTS",
        amount: 7,
      },
    ];
    for (const row of rows) await oldRow(projectKey, row).run();
    const ids = (await db().prepare("SELECT id FROM event_log ORDER BY id").all<{ id: number }>()).results.map((r) => r.id);
    // The first two rows are archived (a done batch); the newest row was deleted after a pending batch covered it.
    await db().batch([
      db().prepare("INSERT INTO archive_batches (kind, first_id, last_id, created_at, done_at) VALUES ('events', ?, ?, 'x', 'y')").bind(ids[0], ids[1]),
      db().prepare("INSERT INTO archive_batches (kind, first_id, last_id, created_at) VALUES ('events', ?, ?, 'x')").bind(ids[2], ids[4]),
    ]);
    await db().prepare("DELETE FROM event_log WHERE id = ?").bind(ids[4]).run();
    await db().prepare("INSERT INTO project_usage (project_key, stored_bytes, events) VALUES (?, 999999, 4)").bind(projectKey).run();

    const mine = env.TEST_MIGRATIONS.find((m) => m.name === MIGRATION);
    expect(mine).toBeDefined();
    await applyD1Migrations(db(), [mine!]);

    // Every row, with its log id and loyalty id, compactly.
    const carried = await db()
      .prepare(
        `SELECT id, ${uidText("event_uid")} AS uid, typeof(event_uid) AS uidType, program_id AS programId, account_id AS account, ledger_id AS ledgerId,
                ledger_type AS ledgerType, occurred_at AS occurredAt, recorded_at AS recordedAt, metadata, reward_type AS rewardType,
                reward_amount AS amount, updated_at AS updatedAt, adjusted_reward_amount AS adjusted, adjustment_seq AS seq
         FROM event_log ORDER BY id`,
      )
      .all();
    const kept = rows.slice(0, 4);
    expect(carried.results).toEqual(
      kept.map((row, i) => ({
        id: ids[i],
        uid: row.uid,
        uidType: i === 0 || i === 3 ? "blob" : "text", // a canonical (lowercase) UUID as its 16 bytes; anything else as text
        programId,
        account: row.account,
        ledgerId: row.ledgerId,
        ledgerType: { CUSTOMER_CARD_DISPLAYED: 0, TRANSACTION_ASSESSMENT: 1, CARD_ASSIGNMENT: 2 }[
          row.loyaltyType ?? (row.type === "TRANSACTION" ? "TRANSACTION_ASSESSMENT" : "CUSTOMER_CARD_DISPLAYED")
        ],
        occurredAt: Date.parse(row.occurredAt),
        recordedAt: Date.parse(row.occurredAt),
        metadata: row.metadata === "{}" ? null : row.metadata,
        rewardType: { LOYALTY_POINTS: 0, PERCENTAGE: 1, FLAT_AMOUNT: 2 }[row.rewardType],
        amount: row.amount,
        updatedAt: row.updatedAt ? Date.parse(row.updatedAt) : null,
        adjusted: row.updatedAt ? 0 : null,
        seq: row.updatedAt ? 1 : 0,
      })),
    );
    // The details wait for the archive: only for the rows no done batch covers.
    const details = await db()
      .prepare("SELECT event_uid AS uid, ingest_batch AS batch, project_key AS projectKey, points FROM event_log_details ORDER BY uid")
      .all();
    expect(details.results).toEqual(
      [rows[2]!, rows[3]!].map((row) => ({ uid: row.uid, batch: "migration 0013", projectKey, points: 7 })).sort((a, b) => (a.uid < b.uid ? -1 : 1)),
    );
    // The indexes of schema.ts, and no column the slim row dropped.
    const indexes = (await db().prepare("SELECT name FROM pragma_index_list('event_log') ORDER BY name").all<{ name: string }>()).results.map((r) => r.name);
    expect(indexes).toEqual([
      "event_log_event_uid_unique",
      "event_log_legacy_account",
      "event_log_legacy_account_created",
      "event_log_legacy_account_time",
      "event_log_program_created",
      "event_log_program_id",
      "event_log_program_time",
      "event_log_program_type_time",
    ]);
    const columns = (await db().prepare("SELECT name FROM pragma_table_info('event_log')").all<{ name: string }>()).results.map((r) => r.name);
    for (const gone of ["project_key", "user_id", "idempotency_key", "reward", "ingest_batch", "ingested_at", "points"]) expect(columns).not.toContain(gone);
    // The storage quota's estimate recounted for the slim row: 256 bytes a row plus its metadata and message.
    const usage = await db().prepare("SELECT stored_bytes AS bytes, events FROM project_usage WHERE project_key = ?").bind(projectKey).first();
    expect(usage).toEqual({ bytes: kept.reduce((sum, row) => sum + 256 + row.metadata.length + "Thanks".length, 0), events: 4 });

    // Today's consumer: new log ids stay above every id a batch covered (the deleted row's included); the 0012
    // trigger still notes a message queued before the objects numbered entries.
    const fromObject = loggedEvent(projectKey, { accountId: 7, ledgerId: 7 * LEDGER_ID_SPAN + 2, occurredAt: "2026-06-06T10:00:00.000Z" });
    const queuedBefore = loggedEvent(projectKey, { accountId: 8, occurredAt: "2026-06-06T11:00:00.000Z" });
    await db().batch(insertEvents(db(), [fromObject, queuedBefore], "new"));
    const added = (
      await db().prepare("SELECT id, ledger_id AS ledgerId FROM event_log WHERE id > ? ORDER BY id").bind(ids[3]).all<{ id: number; ledgerId: number }>()
    ).results;
    expect(added.map((r) => r.id)).toEqual([ids[4]! + 1, ids[4]! + 2]);
    // (numbered after the ids from before, 1 to 3, by its place in the consumer's list: the second)
    expect(added.map((r) => r.ledgerId)).toEqual([7 * LEDGER_ID_SPAN + 2, 5]);
    expect(await db().prepare("SELECT account_id AS account FROM ledger_legacy_ids WHERE id = 5").first()).toEqual({ account: 8 });

    // The ledger reads the carried rows: an entry by its id, an account's rows from before for its object to copy.
    expect(await findLedgerEntry(db(), projectKey, 2)).toMatchObject({
      id: 2,
      eventUid: "not-a-uuid-1",
      ledgerType: "TRANSACTION_ASSESSMENT",
      rewardType: "PERCENTAGE",
      rewardAmount: 1.25,
      adjustedRewardAmount: 0,
      occurredAt: "2026-06-02T10:00:00.123Z",
      updatedAt: "2026-06-03T08:00:00.456Z",
      metadata: { amount: 12.5 },
    });
    expect((await legacyLedgerRows(db(), projectKey, 8, 0, 10)).map((r) => r.id)).toEqual([3, 5]);

    // The archive takes the rows past the done batch (the pending one first), with their details, as it wrote
    // lines before.
    const archive = await archiveRawLog({ DB: db(), ARCHIVE: env.ARCHIVE });
    expect(archive.rows.events).toBe(4);
    const key = (await env.ARCHIVE.list({ prefix: `archive/project=${programId}/day=2026-06-03/` })).objects.find((o) => o.key.includes("/events-"))!.key;
    const text = await new Response((await env.ARCHIVE.get(key))!.body.pipeThrough(new DecompressionStream("gzip"))).text();
    expect(JSON.parse(text.trimEnd())).toEqual({
      id: 3,
      logId: ids[2],
      eventUid: rows[2]!.uid,
      programId,
      member: null,
      eventId: "purchase",
      definitionVersion: 2,
      eventType: "STANDARD",
      ledgerType: "CARD_ASSIGNMENT",
      ruleId: 3,
      occurredAt: "2026-06-03T00:00:00.000Z",
      recordedAt: "2026-06-03T00:00:00.000Z",
      points: 7,
      balanceBefore: 10,
      balanceAfter: 17,
      userGroupId: "gold",
      conditionReached: true,
      limitReached: false,
      rewardType: "FLAT_AMOUNT",
      rewardAmount: 5,
      rewardCurrency: "EUR",
      customerMessage: "Thanks",
      reward: { rate: 1, value: 7, uncappedPoints: 7, maximumReward: null, reasons: [] },
      metadata: { card: "x" },
    });
    // Archived: their details are gone.
    expect(await db().prepare("SELECT COUNT(*) AS n FROM event_log_details").first()).toEqual({ n: 0 });
  });

  it("answers an account's ledger from D1 while its object copies: its entries from before and those numbered since, merged in every sort", async () => {
    await applyD1Migrations(db(), env.TEST_MIGRATIONS);
    const projectKey = `p-merge-${crypto.randomUUID()}`;
    const account = 1_000;
    const start = Date.UTC(2026, 5, 1);
    // Entries from before (numbered by D1) and entries the account's object numbered since, interleaved in time,
    // with ties; another account's entries beside them.
    const events = Array.from({ length: 60 }, (_, i) =>
      loggedEvent(projectKey, {
        accountId: i % 5 === 4 ? account + 1 : account,
        ledgerId: i % 2 === 0 ? (i % 5 === 4 ? account + 1 : account) * LEDGER_ID_SPAN + 1 + i : undefined,
        occurredAt: new Date(start + Math.floor(i / 3) * 60_000).toISOString(),
        recordedAt: new Date(start + (60 - i) * 1_000).toISOString(),
      }),
    );
    await db().batch(insertEvents(db(), events, "merge"));
    const programId = (await db().prepare("SELECT id FROM projects WHERE key = ?").bind(projectKey).first<{ id: number }>())!.id;
    const all = (
      await db()
        .prepare(`SELECT ledger_id AS id, occurred_at AS t, recorded_at AS c FROM event_log WHERE program_id = ? AND account_id = ?`)
        .bind(programId, account)
        .all<{ id: number; t: number; c: number }>()
    ).results;
    expect(all.some((r) => r.id < LEDGER_ID_SPAN) && all.some((r) => r.id > LEDGER_ID_SPAN)).toBe(true);
    const filter: LedgerFilter = { programId, projectKey, accountId: account };
    for (const sort of [
      { field: "timestamp", direction: "desc" },
      { field: "timestamp", direction: "asc" },
      { field: "createdAt", direction: "desc" },
      { field: "id", direction: "asc" },
      { field: "id", direction: "desc" },
    ] as LedgerSort[]) {
      const key = (r: { id: number; t: number; c: number }) => (sort.field === "id" ? r.id : sort.field === "timestamp" ? r.t : r.c);
      const sign = sort.direction === "desc" ? -1 : 1;
      const expected = [...all].sort((a, b) => sign * (key(a) - key(b) || a.id - b.id)).map((r) => r.id);
      // Numbered pages, and cursor pages after each page's last item.
      const byOffset: number[] = [];
      for (let offset = 0; offset < expected.length; offset += 7) byOffset.push(...(await readLedgerPage(db(), filter, sort, 7, { offset })).map((r) => r.id));
      expect(byOffset, JSON.stringify(sort)).toEqual(expected);
      const byCursor: number[] = [];
      let last: LedgerRow | undefined;
      for (;;) {
        const page = await readLedgerPage(
          db(),
          filter,
          sort,
          7,
          last
            ? { after: { value: sort.field === "id" ? last.id : sort.field === "timestamp" ? last.occurredAt : last.recordedAt, id: last.id } }
            : { offset: 0 },
        );
        byCursor.push(...page.map((r) => r.id));
        if (page.length < 7) break;
        last = page.at(-1);
      }
      expect(byCursor, JSON.stringify(sort)).toEqual(expected);
    }
    // Events of the account's object are found by their uid too (reconciliation, adjustments).
    const uid = events[0]!.eventUid;
    expect(
      await db()
        .prepare(`SELECT ledger_id AS id FROM event_log WHERE event_uid = ${storedUid("?1")}`)
        .bind(uid)
        .first(),
    ).toEqual({ id: account * LEDGER_ID_SPAN + 1 });
  });
});
