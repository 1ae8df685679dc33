CREATE TABLE `ledger_adjustments` (
	`adjustment_uid` text PRIMARY KEY NOT NULL,
	`project_key` text NOT NULL,
	`event_uid` text NOT NULL,
	`seq` integer NOT NULL,
	`previous_amount` real NOT NULL,
	`new_amount` real NOT NULL,
	`points_delta` integer NOT NULL,
	`reason` text NOT NULL,
	`adjusted_at` text NOT NULL,
	`ingest_batch` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `ledger_adjustments_batch` ON `ledger_adjustments` (`ingest_batch`);--> statement-breakpoint
CREATE INDEX `ledger_adjustments_event` ON `ledger_adjustments` (`event_uid`);--> statement-breakpoint
CREATE TABLE `ledger_counts` (
	`project_key` text NOT NULL,
	`account_id` integer NOT NULL,
	`ledger_type` text NOT NULL,
	`events` integer NOT NULL,
	PRIMARY KEY(`project_key`, `account_id`, `ledger_type`)
);
--> statement-breakpoint
DROP INDEX `event_log_project_user_time`;--> statement-breakpoint
ALTER TABLE `event_log` ADD `rule_id` integer;--> statement-breakpoint
ALTER TABLE `event_log` ADD `reward_type` text DEFAULT 'LOYALTY_POINTS' NOT NULL;--> statement-breakpoint
ALTER TABLE `event_log` ADD `reward_amount` real DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `event_log` ADD `reward_currency` text;--> statement-breakpoint
ALTER TABLE `event_log` ADD `customer_message` text;--> statement-breakpoint
ALTER TABLE `event_log` ADD `adjusted_reward_amount` real;--> statement-breakpoint
ALTER TABLE `event_log` ADD `previous_reward_amount` real;--> statement-breakpoint
ALTER TABLE `event_log` ADD `updated_at` text;--> statement-breakpoint
ALTER TABLE `event_log` ADD `adjustment_seq` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `event_log` ADD `ledger_type` text GENERATED ALWAYS AS (COALESCE(loyalty_event_type, CASE WHEN event_type = 'TRANSACTION' THEN 'TRANSACTION_ASSESSMENT' ELSE 'CUSTOMER_CARD_DISPLAYED' END)) VIRTUAL;--> statement-breakpoint
CREATE INDEX `event_log_project_account_time` ON `event_log` (`project_key`,`account_id`,`occurred_at`);--> statement-breakpoint
CREATE INDEX `event_log_project_type_time` ON `event_log` (`project_key`,`ledger_type`,`occurred_at`);--> statement-breakpoint
CREATE INDEX `event_log_project_created` ON `event_log` (`project_key`,`recorded_at`);--> statement-breakpoint
CREATE INDEX `event_log_project_account_created` ON `event_log` (`project_key`,`account_id`,`recorded_at`);--> statement-breakpoint
CREATE INDEX `event_log_project_id` ON `event_log` (`project_key`);--> statement-breakpoint
CREATE INDEX `event_log_project_account` ON `event_log` (`project_key`,`account_id`);--> statement-breakpoint
ALTER TABLE `event_definitions` ADD `rule_id` integer;--> statement-breakpoint
CREATE UNIQUE INDEX `event_definitions_rule_id` ON `event_definitions` (`rule_id`);--> statement-breakpoint
-- Data written before the ledger: the logged amount is the points, rule ids follow creation order, and the
-- ledger totals start from the log.
UPDATE `event_log` SET `reward_amount` = `points`;--> statement-breakpoint
UPDATE `event_definitions` SET `rule_id` = rowid;--> statement-breakpoint
INSERT INTO `ledger_counts` (`project_key`, `account_id`, `ledger_type`, `events`)
SELECT `project_key`, `account_id`, `ledger_type`, COUNT(*) FROM `event_log` GROUP BY `project_key`, `account_id`, `ledger_type`;
