CREATE TABLE `api_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`project_key` text NOT NULL,
	`name` text NOT NULL,
	`key_hash` text NOT NULL,
	`key_prefix` text NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	`revoked_at` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_keys_key_hash_unique` ON `api_keys` (`key_hash`);--> statement-breakpoint
CREATE INDEX `api_keys_project` ON `api_keys` (`project_key`);--> statement-breakpoint
CREATE TABLE `dead_letters` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`queue` text NOT NULL,
	`message_id` text NOT NULL,
	`body` text NOT NULL,
	`attempts` integer NOT NULL,
	`received_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `dead_letters_message_id_unique` ON `dead_letters` (`message_id`);--> statement-breakpoint
CREATE TABLE `event_definitions` (
	`project_key` text NOT NULL,
	`event_id` text NOT NULL,
	`version` integer NOT NULL,
	`status` text NOT NULL,
	`document` text NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	`updated_at` text NOT NULL,
	PRIMARY KEY(`project_key`, `event_id`)
);
--> statement-breakpoint
CREATE TABLE `event_log` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`event_uid` text NOT NULL,
	`project_key` text NOT NULL,
	`program_id` integer NOT NULL,
	`user_id` text NOT NULL,
	`account_id` integer NOT NULL,
	`event_id` text NOT NULL,
	`definition_version` integer NOT NULL,
	`event_type` text NOT NULL,
	`loyalty_event_type` text,
	`metadata` text NOT NULL,
	`occurred_at` text NOT NULL,
	`recorded_at` text NOT NULL,
	`points` integer NOT NULL,
	`balance_before` integer NOT NULL,
	`balance_after` integer NOT NULL,
	`user_group_id` text NOT NULL,
	`condition_reached` integer NOT NULL,
	`limit_reached` integer NOT NULL,
	`reward` text NOT NULL,
	`idempotency_key` text,
	`ingest_batch` text NOT NULL,
	`ingested_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `event_log_event_uid_unique` ON `event_log` (`event_uid`);--> statement-breakpoint
CREATE INDEX `event_log_project_time` ON `event_log` (`project_key`,`occurred_at`);--> statement-breakpoint
CREATE INDEX `event_log_project_user_time` ON `event_log` (`project_key`,`user_id`,`occurred_at`);--> statement-breakpoint
CREATE INDEX `event_log_ingest_batch` ON `event_log` (`ingest_batch`);--> statement-breakpoint
CREATE TABLE `projects` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`key` text NOT NULL,
	`definitions_version` integer DEFAULT 0 NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `projects_key_unique` ON `projects` (`key`);--> statement-breakpoint
CREATE TABLE `stats_daily` (
	`project_key` text NOT NULL,
	`event_id` text NOT NULL,
	`bucket` text NOT NULL,
	`count` integer NOT NULL,
	`points` integer NOT NULL,
	`condition_met` integer NOT NULL,
	`condition_failed` integer NOT NULL,
	`limit_reached` integer NOT NULL,
	PRIMARY KEY(`project_key`, `event_id`, `bucket`)
);
--> statement-breakpoint
CREATE TABLE `stats_daily_users` (
	`project_key` text NOT NULL,
	`event_id` text NOT NULL,
	`day` text NOT NULL,
	`user_id` text NOT NULL,
	PRIMARY KEY(`project_key`, `event_id`, `day`, `user_id`)
);
--> statement-breakpoint
CREATE TABLE `stats_hourly` (
	`project_key` text NOT NULL,
	`event_id` text NOT NULL,
	`bucket` text NOT NULL,
	`count` integer NOT NULL,
	`points` integer NOT NULL,
	`condition_met` integer NOT NULL,
	`condition_failed` integer NOT NULL,
	`limit_reached` integer NOT NULL,
	PRIMARY KEY(`project_key`, `event_id`, `bucket`)
);
--> statement-breakpoint
CREATE TABLE `stats_monthly` (
	`project_key` text NOT NULL,
	`event_id` text NOT NULL,
	`bucket` text NOT NULL,
	`count` integer NOT NULL,
	`points` integer NOT NULL,
	`condition_met` integer NOT NULL,
	`condition_failed` integer NOT NULL,
	`limit_reached` integer NOT NULL,
	PRIMARY KEY(`project_key`, `event_id`, `bucket`)
);
--> statement-breakpoint
CREATE TABLE `users` (
	`account_id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`project_key` text NOT NULL,
	`user_id` text NOT NULL,
	`usergroups` text NOT NULL,
	`attributes` text NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `users_project_user` ON `users` (`project_key`,`user_id`);