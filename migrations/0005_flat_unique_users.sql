CREATE TABLE `stats_last_active` (
	`project_key` text NOT NULL,
	`event_id` text NOT NULL,
	`user_id` text NOT NULL,
	`day` text NOT NULL,
	PRIMARY KEY(`project_key`, `event_id`, `user_id`)
);
--> statement-breakpoint
CREATE TABLE `stats_monthly_users` (
	`project_key` text NOT NULL,
	`event_id` text NOT NULL,
	`month` text NOT NULL,
	`user_id` text NOT NULL,
	`ingest_batch` text,
	PRIMARY KEY(`project_key`, `event_id`, `month`, `user_id`)
);
--> statement-breakpoint
CREATE INDEX `stats_monthly_users_batch` ON `stats_monthly_users` (`ingest_batch`);--> statement-breakpoint
CREATE TABLE `stats_users_by_last_day` (
	`project_key` text NOT NULL,
	`event_id` text NOT NULL,
	`day` text NOT NULL,
	`users` integer NOT NULL,
	PRIMARY KEY(`project_key`, `event_id`, `day`)
);
--> statement-breakpoint
ALTER TABLE `stats_daily` ADD `users` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `stats_daily_users` ADD `ingest_batch` text;--> statement-breakpoint
CREATE INDEX `stats_daily_users_batch` ON `stats_daily_users` (`ingest_batch`);--> statement-breakpoint
ALTER TABLE `stats_hourly` ADD `users` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `stats_monthly` ADD `users` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
-- Unique users written before these tables: per day and month from the day markers, last active days from them too.
UPDATE `stats_daily` SET `users` = (
  SELECT COUNT(*) FROM `stats_daily_users` u
  WHERE u.`project_key` = `stats_daily`.`project_key` AND u.`event_id` = `stats_daily`.`event_id` AND u.`day` = `stats_daily`.`bucket`
);--> statement-breakpoint
INSERT OR IGNORE INTO `stats_monthly_users` (`project_key`, `event_id`, `month`, `user_id`)
SELECT `project_key`, `event_id`, substr(`day`, 1, 7), `user_id` FROM `stats_daily_users`;--> statement-breakpoint
UPDATE `stats_monthly` SET `users` = (
  SELECT COUNT(*) FROM `stats_monthly_users` u
  WHERE u.`project_key` = `stats_monthly`.`project_key` AND u.`event_id` = `stats_monthly`.`event_id` AND u.`month` = `stats_monthly`.`bucket`
);--> statement-breakpoint
INSERT INTO `stats_last_active` (`project_key`, `event_id`, `user_id`, `day`)
SELECT `project_key`, `event_id`, `user_id`, MAX(`day`) FROM `stats_daily_users` GROUP BY `project_key`, `event_id`, `user_id`;--> statement-breakpoint
INSERT INTO `stats_users_by_last_day` (`project_key`, `event_id`, `day`, `users`)
SELECT `project_key`, `event_id`, `day`, COUNT(*) FROM `stats_last_active` GROUP BY `project_key`, `event_id`, `day`;
