CREATE TABLE `game_definitions` (
	`project_key` text NOT NULL,
	`kind` text NOT NULL,
	`definition_id` text NOT NULL,
	`version` integer NOT NULL,
	`status` text NOT NULL,
	`document` text NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	`updated_at` text NOT NULL,
	PRIMARY KEY(`project_key`, `kind`, `definition_id`)
);
--> statement-breakpoint
CREATE TABLE `streak_alive_buckets` (
	`project_key` text NOT NULL,
	`streak_id` text NOT NULL,
	`alive_until` integer NOT NULL,
	`participants` integer NOT NULL,
	`current_sum` integer NOT NULL,
	PRIMARY KEY(`project_key`, `streak_id`, `alive_until`)
);
--> statement-breakpoint
CREATE TABLE `streak_longest_counts` (
	`project_key` text NOT NULL,
	`streak_id` text NOT NULL,
	`longest` integer NOT NULL,
	`participants` integer NOT NULL,
	PRIMARY KEY(`project_key`, `streak_id`, `longest`)
);
--> statement-breakpoint
CREATE TABLE `streak_participants` (
	`project_key` text NOT NULL,
	`streak_id` text NOT NULL,
	`user_id` text NOT NULL,
	`seq` integer NOT NULL,
	`current` integer NOT NULL,
	`longest` integer NOT NULL,
	`alive_until` integer NOT NULL,
	PRIMARY KEY(`project_key`, `streak_id`, `user_id`)
);
