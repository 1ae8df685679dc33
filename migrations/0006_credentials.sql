CREATE TABLE `project_identity_providers` (
	`project_key` text PRIMARY KEY NOT NULL,
	`jwks_url` text NOT NULL,
	`issuer` text NOT NULL,
	`audience` text DEFAULT '' NOT NULL,
	`user_id_claim` text DEFAULT 'sub' NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `project_identity_providers_issuer_audience` ON `project_identity_providers` (`issuer`,`audience`);--> statement-breakpoint
CREATE TABLE `signing_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`project_key` text NOT NULL,
	`name` text NOT NULL,
	`secret_ciphertext` text NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	`revoked_at` text
);
--> statement-breakpoint
CREATE INDEX `signing_keys_project` ON `signing_keys` (`project_key`);--> statement-breakpoint
-- Keys created before scopes existed keep full rights: they get the scope "admin" (the column's default).
ALTER TABLE `api_keys` ADD `scopes` text DEFAULT '["admin"]' NOT NULL;--> statement-breakpoint
ALTER TABLE `api_keys` ADD `allowed_origins` text DEFAULT '[]' NOT NULL;--> statement-breakpoint
ALTER TABLE `api_keys` ADD `expires_at` text;--> statement-breakpoint
ALTER TABLE `api_keys` ADD `last_used_at` text;