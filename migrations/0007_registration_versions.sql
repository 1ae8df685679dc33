ALTER TABLE `users` ADD `registration_version` integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE `users` ADD `object_version` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX `users_unconfirmed` ON `users` (`account_id`) WHERE object_version < registration_version;