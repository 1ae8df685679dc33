-- Webhooks (issue 19): the scheduled job announces each closed board period once (leaderboard.period_closed)
-- and then sets announced_at (migration 0014). Its index holds the closed periods not announced yet, oldest
-- close first, so each run reads an index range of exactly those.
CREATE INDEX `leaderboard_periods_unannounced` ON `leaderboard_periods` (`closed_at`) WHERE closed_at IS NOT NULL AND announced_at IS NULL;
--> statement-breakpoint
-- Periods closed before webhooks existed had no one to tell: they count as announced when they closed.
UPDATE `leaderboard_periods` SET `announced_at` = `closed_at` WHERE `closed_at` IS NOT NULL AND `announced_at` IS NULL;
