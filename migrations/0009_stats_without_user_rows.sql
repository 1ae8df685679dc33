-- Distinct users and streak participants are decided by the users' objects (each logged event's message carries
-- what it changes), so D1 keeps no row per user for them. The aggregates (stats_daily/monthly `users`,
-- stats_users_by_last_day, streak_alive_buckets, streak_longest_counts) are kept as they are: their counts stay
-- right. What the per-user tables knew moves, one row per user, into stats_user_seeds, which each user's object
-- imports on first use (and the cron for users who do not come back), then deletes.
CREATE TABLE `stats_user_seeds` (
	`project_key` text NOT NULL,
	`user_id` text NOT NULL,
	`active` text DEFAULT '[]' NOT NULL,
	`streaks` text DEFAULT '[]' NOT NULL,
	PRIMARY KEY(`project_key`, `user_id`)
);
--> statement-breakpoint
-- Active days per user and event id ('*': any), as ranges of consecutive days (day numbers since 1970-01-01):
-- consecutive days share an island key (day number minus its rank).
INSERT INTO `stats_user_seeds` (`project_key`, `user_id`, `active`)
SELECT `project_key`, `user_id`, json_group_array(json_array(`event_id`, `first_day`, `last_day`))
FROM (
  SELECT `project_key`, `user_id`, `event_id`, MIN(`d`) AS `first_day`, MAX(`d`) AS `last_day`
  FROM (
    SELECT `project_key`, `user_id`, `event_id`, `d`,
           `d` - ROW_NUMBER() OVER (PARTITION BY `project_key`, `user_id`, `event_id` ORDER BY `d`) AS `island`
    FROM (SELECT `project_key`, `user_id`, `event_id`, CAST(round(julianday(`day`) - 2440587.5) AS INTEGER) AS `d` FROM `stats_daily_users`)
  )
  GROUP BY `project_key`, `user_id`, `event_id`, `island`
)
GROUP BY `project_key`, `user_id`;
--> statement-breakpoint
INSERT INTO `stats_user_seeds` (`project_key`, `user_id`, `streaks`)
SELECT `project_key`, `user_id`, json_group_array(json_array(`streak_id`, `seq`, `current`, `longest`, `alive_until`))
FROM `streak_participants` WHERE true
GROUP BY `project_key`, `user_id`
ON CONFLICT (`project_key`, `user_id`) DO UPDATE SET `streaks` = excluded.`streaks`;
--> statement-breakpoint
DROP TABLE `stats_daily_users`;
--> statement-breakpoint
DROP TABLE `stats_monthly_users`;
--> statement-breakpoint
DROP TABLE `stats_last_active`;
--> statement-breakpoint
DROP TABLE `streak_participants`;
