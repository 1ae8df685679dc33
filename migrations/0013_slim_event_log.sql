-- The raw log's slim row (README "The raw log's rows and indexes"). D1 keeps, for the project's window, only what is
-- asked of the log across accounts and what the consumer, the archive, the window and reconciliation need: the
-- project's numeric id instead of its key, times as epoch ms, the ledger and reward types as codes (their position
-- in LOYALTY_EVENT_TYPES and REWARD_TYPES), a UUID uid as its 16 bytes, metadata null for {}; no userId (the
-- account names the member), no idempotency key (the user's object keeps it), no ingest columns. What only the
-- archive reads (balances, reward details, user group, definition version, event type, points and flags) moves to
-- event_log_details, kept until the event is archived. SQLite changes column types by rebuilding the table: every
-- row is carried, with its log id (the archive's order) and loyalty id.
CREATE TABLE `event_log_new` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`event_uid` blob NOT NULL,
	`program_id` integer NOT NULL,
	`account_id` integer NOT NULL,
	`ledger_id` integer,
	`event_id` text NOT NULL,
	`ledger_type` integer NOT NULL,
	`occurred_at` integer NOT NULL,
	`recorded_at` integer NOT NULL,
	`metadata` text,
	`rule_id` integer,
	`reward_type` integer DEFAULT 0 NOT NULL,
	`reward_amount` real DEFAULT 0 NOT NULL,
	`reward_currency` text,
	`customer_message` text,
	`adjusted_reward_amount` real,
	`previous_reward_amount` real,
	`updated_at` integer,
	`adjustment_seq` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
INSERT INTO `event_log_new` (`id`, `event_uid`, `program_id`, `account_id`, `ledger_id`, `event_id`, `ledger_type`, `occurred_at`,
  `recorded_at`, `metadata`, `rule_id`, `reward_type`, `reward_amount`, `reward_currency`, `customer_message`, `adjusted_reward_amount`,
  `previous_reward_amount`, `updated_at`, `adjustment_seq`)
SELECT e.`id`,
  COALESCE(CASE WHEN length(e.`event_uid`) = 36 AND substr(e.`event_uid`, 9, 1) = '-' AND substr(e.`event_uid`, 14, 1) = '-' AND substr(e.`event_uid`, 19, 1) = '-'
    AND substr(e.`event_uid`, 24, 1) = '-' AND length(replace(e.`event_uid`, '-', '')) = 32 AND e.`event_uid` = lower(e.`event_uid`)
    THEN unhex(replace(e.`event_uid`, '-', '')) END, e.`event_uid`),
  COALESCE((SELECT p.`id` FROM `projects` p WHERE p.`key` = e.`project_key`), e.`program_id`),
  e.`account_id`, e.`ledger_id`, e.`event_id`,
  CASE e.`ledger_type` WHEN 'TRANSACTION_ASSESSMENT' THEN 1 WHEN 'CARD_ASSIGNMENT' THEN 2 ELSE 0 END,
  CAST(round((julianday(e.`occurred_at`) - 2440587.5) * 86400000) AS INTEGER), CAST(round((julianday(e.`recorded_at`) - 2440587.5) * 86400000) AS INTEGER),
  NULLIF(e.`metadata`, '{}'), e.`rule_id`,
  CASE e.`reward_type` WHEN 'PERCENTAGE' THEN 1 WHEN 'FLAT_AMOUNT' THEN 2 ELSE 0 END,
  e.`reward_amount`, e.`reward_currency`, e.`customer_message`, e.`adjusted_reward_amount`, e.`previous_reward_amount`,
  CAST(round((julianday(e.`updated_at`) - 2440587.5) * 86400000) AS INTEGER), e.`adjustment_seq`
FROM `event_log` e ORDER BY e.`id`;
--> statement-breakpoint
-- New log ids must stay above every id an archive batch covered (the archive takes the rows past the newest done
-- batch's last id) and every id from before the ledger moved (ledger_legacy_ids): a placeholder row at the highest
-- of them carries the AUTOINCREMENT sequence over (its deletion keeps the sequence).
INSERT INTO `event_log_new` (`id`, `event_uid`, `program_id`, `account_id`, `event_id`, `ledger_type`, `occurred_at`, `recorded_at`)
SELECT m.`top`, x'', 0, 0, '', 0, 0, 0 FROM (
  SELECT MAX(COALESCE((SELECT MAX(`last_id`) FROM `archive_batches` WHERE `kind` = 'events'), 0),
             COALESCE((SELECT MAX(`id`) FROM `ledger_legacy_ids`), 0)) AS `top`
) AS m
WHERE m.`top` > COALESCE((SELECT MAX(`id`) FROM `event_log_new`), 0);
--> statement-breakpoint
DELETE FROM `event_log_new` WHERE `event_uid` = x'';
--> statement-breakpoint
-- What only the consumer's aggregates and the archive read, until the event is archived. The rows the archive has
-- not taken yet (past the newest done batch) keep theirs here; the archive deletes them when their batch is done.
CREATE TABLE `event_log_details` (
	`event_uid` text PRIMARY KEY NOT NULL,
	`ingest_batch` text NOT NULL,
	`project_key` text NOT NULL,
	`account_id` integer NOT NULL,
	`event_id` text NOT NULL,
	`ledger_type` text NOT NULL,
	`occurred_at` text NOT NULL,
	`definition_version` integer NOT NULL,
	`event_type` text NOT NULL,
	`points` integer NOT NULL,
	`balance_before` integer NOT NULL,
	`balance_after` integer NOT NULL,
	`user_group_id` text NOT NULL,
	`condition_reached` integer NOT NULL,
	`limit_reached` integer NOT NULL,
	`reward` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `event_log_details_batch` ON `event_log_details` (`ingest_batch`);
--> statement-breakpoint
INSERT INTO `event_log_details` (`event_uid`, `ingest_batch`, `project_key`, `account_id`, `event_id`, `ledger_type`, `occurred_at`,
  `definition_version`, `event_type`, `points`, `balance_before`, `balance_after`, `user_group_id`, `condition_reached`, `limit_reached`, `reward`)
SELECT `event_uid`, 'migration 0013', `project_key`, `account_id`, `event_id`, `ledger_type`, `occurred_at`, `definition_version`, `event_type`,
  `points`, `balance_before`, `balance_after`, `user_group_id`, `condition_reached`, `limit_reached`, `reward`
FROM `event_log`
WHERE `id` > COALESCE((SELECT MAX(`last_id`) FROM `archive_batches` WHERE `kind` = 'events' AND `done_at` IS NOT NULL), 0);
--> statement-breakpoint
DROP TABLE `event_log`;
--> statement-breakpoint
ALTER TABLE `event_log_new` RENAME TO `event_log`;
--> statement-breakpoint
CREATE UNIQUE INDEX `event_log_event_uid_unique` ON `event_log` (`event_uid`);
--> statement-breakpoint
-- Across accounts: by event time (also the window's deletion), by type and event time, by createdAt, by id.
CREATE INDEX `event_log_program_time` ON `event_log` (`program_id`,`occurred_at`,`ledger_id`);
--> statement-breakpoint
CREATE INDEX `event_log_program_type_time` ON `event_log` (`program_id`,`ledger_type`,`occurred_at`,`ledger_id`);
--> statement-breakpoint
CREATE INDEX `event_log_program_created` ON `event_log` (`program_id`,`recorded_at`,`ledger_id`);
--> statement-breakpoint
CREATE UNIQUE INDEX `event_log_program_id` ON `event_log` (`program_id`,`ledger_id`);
--> statement-breakpoint
-- One account's rows from before the ledger moved into the users' objects (ids below 2^24), for the objects' copy
-- and the account's D1 ledger while its object copies; nothing logged since has an entry.
CREATE INDEX `event_log_legacy_account` ON `event_log` (`program_id`,`account_id`,`ledger_id`) WHERE ledger_id < 16777216;
--> statement-breakpoint
CREATE INDEX `event_log_legacy_account_time` ON `event_log` (`program_id`,`account_id`,`occurred_at`,`ledger_id`) WHERE ledger_id < 16777216;
--> statement-breakpoint
CREATE INDEX `event_log_legacy_account_created` ON `event_log` (`program_id`,`account_id`,`recorded_at`,`ledger_id`) WHERE ledger_id < 16777216;
--> statement-breakpoint
-- Migration 0012's trigger, on the new table (dropping the old one dropped it).
CREATE TRIGGER `event_log_legacy_ledger_id` AFTER INSERT ON `event_log`
WHEN NEW.`ledger_id` IS NULL OR NEW.`ledger_id` < 16777216
BEGIN
	UPDATE `event_log` SET `ledger_id` = NEW.`id` WHERE `id` = NEW.`id` AND NEW.`ledger_id` IS NULL;
	INSERT OR IGNORE INTO `ledger_legacy_ids` (`id`, `account_id`) VALUES (COALESCE(NEW.`ledger_id`, NEW.`id`), NEW.`account_id`);
END;
--> statement-breakpoint
-- The storage quota's estimate follows the row (src/db/quotas.ts: 256 bytes plus the metadata and the message).
UPDATE `project_usage` SET
  `stored_bytes` = COALESCE((
    SELECT SUM(256 + length(CAST(COALESCE(e.`metadata`, '{}') AS BLOB)) + COALESCE(length(CAST(e.`customer_message` AS BLOB)), 0))
    FROM `event_log` e WHERE e.`program_id` = (SELECT p.`id` FROM `projects` p WHERE p.`key` = `project_usage`.`project_key`)
  ), 0),
  `events` = (
    SELECT COUNT(*) FROM `event_log` e WHERE e.`program_id` = (SELECT p.`id` FROM `projects` p WHERE p.`key` = `project_usage`.`project_key`)
  );
