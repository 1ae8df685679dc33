CREATE TABLE `project_quotas` (
	`project_key` text PRIMARY KEY NOT NULL,
	`events_per_day` integer,
	`stored_bytes` integer,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `project_usage` (
	`project_key` text PRIMARY KEY NOT NULL,
	`stored_bytes` integer NOT NULL,
	`events` integer NOT NULL
);
--> statement-breakpoint
-- What the log already holds, estimated as src/db/quotas.ts (STORED_BYTES_OF_ROW) does for every new row.
INSERT INTO `project_usage` (`project_key`, `stored_bytes`, `events`)
SELECT `project_key`, SUM(512 + length(CAST(`metadata` AS BLOB)) + length(CAST(`reward` AS BLOB)) + COALESCE(length(CAST(`customer_message` AS BLOB)), 0)), COUNT(*)
FROM `event_log` WHERE true GROUP BY `project_key`;
