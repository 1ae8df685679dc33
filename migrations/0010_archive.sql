-- The archive of the raw log in R2 and the D1 window of it (src/services/archive.ts, src/services/log-window.ts).
-- One row per archive batch: a fixed range of event-log ids (kind 'events') or of claimed adjustments (kind
-- 'adjustments'), chosen before anything is written to R2, so a run repeated after a crash writes the same objects.
-- At most one batch per kind is pending (done_at null); the event log's rows up to the newest done batch's
-- last_id are archived.
CREATE TABLE `archive_batches` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`kind` text NOT NULL,
	`first_id` integer NOT NULL,
	`last_id` integer NOT NULL,
	`leased_until` integer DEFAULT 0 NOT NULL,
	`row_count` integer,
	`files` integer,
	`bytes` integer,
	`created_at` text NOT NULL,
	`done_at` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `archive_batches_pending` ON `archive_batches` (`kind`) WHERE done_at IS NULL;
--> statement-breakpoint
CREATE INDEX `archive_batches_done` ON `archive_batches` (`kind`) WHERE done_at IS NOT NULL;
--> statement-breakpoint
-- Adjustments are claimed by their batch (their rowids carry no AUTOINCREMENT guarantee); null: not archived yet.
-- Existing rows are null, so the archive takes them too.
ALTER TABLE `ledger_adjustments` ADD `archive_batch` integer;
--> statement-breakpoint
CREATE INDEX `ledger_adjustments_unarchived` ON `ledger_adjustments` (`archive_batch`) WHERE archive_batch IS NULL;
--> statement-breakpoint
-- A project's adjustments by time: what falls out of its window, without reading the rest.
CREATE INDEX `ledger_adjustments_project_time` ON `ledger_adjustments` (`project_key`,`adjusted_at`);
--> statement-breakpoint
-- The member's pseudonymous key in the archive: random, set on the member's first archived event. Erasing the
-- member's registration erases the only link from the archive to the userId.
ALTER TABLE `users` ADD `member_key` text;
--> statement-breakpoint
-- A project's settings that the operator sets: the days of raw log D1 keeps (null: the default, 90).
CREATE TABLE `project_settings` (
	`project_key` text PRIMARY KEY NOT NULL,
	`log_window_days` integer,
	`updated_at` text NOT NULL
);
