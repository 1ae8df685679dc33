-- The user's ledger in the user's object (README "Where the data lives"). A loyalty event's id is assigned by its
-- user's object (accountId × 2^24 + n, src/domain/ledger.ts) and reaches the log as `ledger_id`; `id` stays the
-- log's own sequence (the order rows arrived in, which the archive follows). Rows logged before keep their id as
-- their loyalty id.
ALTER TABLE `event_log` ADD `ledger_id` integer;
--> statement-breakpoint
UPDATE `event_log` SET `ledger_id` = `id`;
--> statement-breakpoint
-- The ledger's indexes break ties by the loyalty id (they did by the log's id, which was the same thing).
DROP INDEX `event_log_project_time`;
--> statement-breakpoint
CREATE INDEX `event_log_project_time` ON `event_log` (`project_key`,`occurred_at`,`ledger_id`);
--> statement-breakpoint
DROP INDEX `event_log_project_account_time`;
--> statement-breakpoint
CREATE INDEX `event_log_project_account_time` ON `event_log` (`project_key`,`account_id`,`occurred_at`,`ledger_id`);
--> statement-breakpoint
DROP INDEX `event_log_project_type_time`;
--> statement-breakpoint
CREATE INDEX `event_log_project_type_time` ON `event_log` (`project_key`,`ledger_type`,`occurred_at`,`ledger_id`);
--> statement-breakpoint
DROP INDEX `event_log_project_created`;
--> statement-breakpoint
CREATE INDEX `event_log_project_created` ON `event_log` (`project_key`,`recorded_at`,`ledger_id`);
--> statement-breakpoint
DROP INDEX `event_log_project_account_created`;
--> statement-breakpoint
CREATE INDEX `event_log_project_account_created` ON `event_log` (`project_key`,`account_id`,`recorded_at`,`ledger_id`);
--> statement-breakpoint
DROP INDEX `event_log_project_id`;
--> statement-breakpoint
-- Unique: a loyalty id that came twice would fail the consumer's batch loudly rather than show two events.
CREATE UNIQUE INDEX `event_log_project_id` ON `event_log` (`project_key`,`ledger_id`);
--> statement-breakpoint
DROP INDEX `event_log_project_account`;
--> statement-breakpoint
CREATE INDEX `event_log_project_account` ON `event_log` (`project_key`,`account_id`,`ledger_id`);
--> statement-breakpoint
-- The account of every loyalty id from before (below 2^24): such an id does not name its account, and the raw
-- log's window forgets the row, so GET /v1/loyalty-events/{id} finds the user's object through this table.
-- It holds the events logged before this migration (and the few messages queued before it that arrive later);
-- nothing logged since adds to it.
CREATE TABLE `ledger_legacy_ids` (
	`id` integer PRIMARY KEY NOT NULL,
	`account_id` integer NOT NULL
);
--> statement-breakpoint
INSERT INTO `ledger_legacy_ids` (`id`, `account_id`) SELECT `id`, `account_id` FROM `event_log`;
--> statement-breakpoint
-- Rows that arrive without a loyalty id from the objects (written by code from before this migration while it
-- deploys) take their log id, as before, and join the table above; so do the consumer's numbers for messages
-- queued before (src/db/event-log.ts, below 2^24).
CREATE TRIGGER `event_log_legacy_ledger_id` AFTER INSERT ON `event_log`
WHEN NEW.`ledger_id` IS NULL OR NEW.`ledger_id` < 16777216
BEGIN
	UPDATE `event_log` SET `ledger_id` = NEW.`id` WHERE `id` = NEW.`id` AND NEW.`ledger_id` IS NULL;
	INSERT OR IGNORE INTO `ledger_legacy_ids` (`id`, `account_id`) VALUES (COALESCE(NEW.`ledger_id`, NEW.`id`), NEW.`account_id`);
END;
