-- Member import (issue 22, README "Member import"): opening balances, counted by the import that first names
-- each (a points change `opening` in points_changes), added up per project and UTC day beside the points
-- redeemed, reversed and expired.
ALTER TABLE `stats_points_daily` ADD `opening` integer DEFAULT 0 NOT NULL;
--> statement-breakpoint
-- A member's opening balance, set by the first import that names one (never changed after), and when: an
-- imported member's object is created on first use and credits it then, dated at the import.
ALTER TABLE `users` ADD `opening_balance` integer;--> statement-breakpoint
ALTER TABLE `users` ADD `opening_balance_at` text;
