CREATE TABLE `leaderboard_entries` (
	`project_key` text NOT NULL,
	`leaderboard_id` text NOT NULL,
	`calendar` text NOT NULL,
	`period` integer NOT NULL,
	`user_id` text NOT NULL,
	`score` integer NOT NULL,
	`reached_at` integer NOT NULL,
	`seq` integer NOT NULL,
	PRIMARY KEY(`project_key`, `leaderboard_id`, `calendar`, `period`, `user_id`)
);
--> statement-breakpoint
CREATE INDEX `leaderboard_entries_order` ON `leaderboard_entries` (`project_key`,`leaderboard_id`,`calendar`,`period`,"score" DESC,`reached_at`,`user_id`);--> statement-breakpoint
CREATE TABLE `leaderboard_periods` (
	`project_key` text NOT NULL,
	`leaderboard_id` text NOT NULL,
	`calendar` text NOT NULL,
	`period` integer NOT NULL,
	`participants` integer NOT NULL,
	PRIMARY KEY(`project_key`, `leaderboard_id`, `calendar`, `period`)
);
--> statement-breakpoint
CREATE TABLE `leaderboard_score_counts` (
	`project_key` text NOT NULL,
	`leaderboard_id` text NOT NULL,
	`calendar` text NOT NULL,
	`period` integer NOT NULL,
	`score` integer NOT NULL,
	`users` integer NOT NULL,
	PRIMARY KEY(`project_key`, `leaderboard_id`, `calendar`, `period`, `score`)
);
