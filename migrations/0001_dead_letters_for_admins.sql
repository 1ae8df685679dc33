ALTER TABLE `dead_letters` ADD `project_key` text;--> statement-breakpoint
ALTER TABLE `dead_letters` ADD `error` text;--> statement-breakpoint
ALTER TABLE `dead_letters` ADD `replayed_at` text;--> statement-breakpoint
CREATE INDEX `dead_letters_project` ON `dead_letters` (`project_key`,`id`);