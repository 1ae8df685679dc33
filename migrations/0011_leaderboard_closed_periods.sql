-- Leaderboards: closed periods keep their top entries and the score histogram (issue 18). Every board period
-- learns when it ends; the scheduled job closes it a grace period later (closed_at, kept_entries) and deletes
-- the entries below the kept ones in chunks (trimmed_at once done).
ALTER TABLE `leaderboard_periods` ADD `ends_at` integer;
--> statement-breakpoint
ALTER TABLE `leaderboard_periods` ADD `closed_at` integer;
--> statement-breakpoint
ALTER TABLE `leaderboard_periods` ADD `kept_entries` integer;
--> statement-breakpoint
ALTER TABLE `leaderboard_periods` ADD `trimmed_at` integer;
--> statement-breakpoint
CREATE INDEX `leaderboard_periods_open` ON `leaderboard_periods` (`ends_at`) WHERE closed_at IS NULL AND ends_at IS NOT NULL;
--> statement-breakpoint
CREATE INDEX `leaderboard_periods_trimming` ON `leaderboard_periods` (`closed_at`) WHERE closed_at IS NOT NULL AND trimmed_at IS NULL;
--> statement-breakpoint
-- The periods already here: when each ends. The consumer computes new ones exactly in the board's time zone
-- (src/domain/leaderboards.ts, periodEndsAt); SQL has no time zones, so a period of a calendar other than UTC
-- gets the latest instant its local end can be (UTC midnight + 12 h, the end in UTC-12): it closes up to
-- 12 hours late, never early. `all` (no end) stays NULL and is never closed.
UPDATE `leaderboard_periods` SET `ends_at` = (
  CASE substr(`calendar`, 1, instr(`calendar`, '|') - 1)
    WHEN 'day' THEN (`period` + 1) * 86400000
    WHEN 'week' THEN ((`period` + 1) * 7 - 3) * 86400000
    WHEN 'month' THEN CAST(strftime('%s', date('1970-01-01', printf('%+d months', `period` + 1))) AS INTEGER) * 1000
  END
) + (CASE WHEN substr(`calendar`, instr(`calendar`, '|') + 1) = 'UTC' THEN 0 ELSE 43200000 END)
WHERE `ends_at` IS NULL;
