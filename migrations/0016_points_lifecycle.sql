-- Points lifecycle (issue 20, README "Points lifecycle"): a project's points settings and tier ladder; the points
-- changes users' objects report (redemptions, reversals, expiries, tier changes), one row each, idempotent on the
-- change's uid and removed with the project's raw-log window; and the points redeemed, reversed and expired per day.
CREATE TABLE `points_changes` (
	`change_uid` text PRIMARY KEY NOT NULL,
	`project_key` text NOT NULL,
	`change` text NOT NULL,
	`points` integer NOT NULL,
	`at` text NOT NULL,
	`ingest_batch` text NOT NULL,
	`ingested_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `points_changes_project_time` ON `points_changes` (`project_key`,`at`);--> statement-breakpoint
CREATE TABLE `project_points_settings` (
	`project_key` text PRIMARY KEY NOT NULL,
	`points_expiry` text DEFAULT '{"mode":"none"}' NOT NULL,
	`timezone` text DEFAULT 'UTC' NOT NULL,
	`user_tokens_may_redeem` integer DEFAULT false NOT NULL,
	`tier_ladder` text,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `stats_points_daily` (
	`project_key` text NOT NULL,
	`day` text NOT NULL,
	`redeemed` integer DEFAULT 0 NOT NULL,
	`reversed` integer DEFAULT 0 NOT NULL,
	`expired` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`project_key`, `day`)
);
