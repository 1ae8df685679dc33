import { z } from "@hono/zod-openapi";

/**
 * The rest of a point's life (README "Points lifecycle"): points are earned in lots, spent (redeemed) oldest
 * lot first, given back (a reversal), expired by the user's object on time, and the points earned in a window
 * place the member on the project's tier ladder. This module is the contract between the Worker (settings,
 * routes, stats, webhooks) and the user's object (lots, history, tiers): the shapes both sides share.
 */

// ---- Project settings ----------------------------------------------------------------------------------------

/** When a lot's remainder expires: never, `days` after it was earned, or at the end of the year `years` after. */
export const PointsExpirySchema = z
  .discriminatedUnion("mode", [
    z.object({ mode: z.literal("none") }),
    z.object({ mode: z.literal("after_days"), days: z.number().int().min(1).max(3_650) }),
    z.object({ mode: z.literal("end_of_year_after"), years: z.number().int().min(0).max(10) }),
  ])
  .openapi("PointsExpiry");
export type PointsExpiry = z.infer<typeof PointsExpirySchema>;

/** A project's points settings (PUT /v1/admin/project/settings); what is not set has these defaults. */
export const PointsSettingsSchema = z.object({
  pointsExpiry: PointsExpirySchema.default({ mode: "none" }),
  /** IANA time zone in which expiry dates and tier windows are days and years. */
  timezone: z.string().min(1).max(64).default("UTC"),
  /** Whether a user token may redeem its own user's points. */
  userTokensMayRedeem: z.boolean().default(false),
});
export type PointsSettings = z.infer<typeof PointsSettingsSchema>;
export const DEFAULT_POINTS_SETTINGS: PointsSettings = { pointsExpiry: { mode: "none" }, timezone: "UTC", userTokensMayRedeem: false };

// ---- Tiers -----------------------------------------------------------------------------------------------------

export const MAX_TIER_LEVELS = 20;

/** A project's tier ladder (PUT /v1/admin/tiers). Levels sorted by minPoints ascending when stored. */
export const TierLadderSchema = z
  .object({
    basis: z.literal("points_earned"),
    window: z.enum(["lifetime", "calendar_year", "rolling_12_months"]),
    levels: z
      .array(
        z.object({
          tierId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
          title: z.string().min(1).max(200),
          minPoints: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
        }),
      )
      .min(1)
      .max(MAX_TIER_LEVELS),
    downgrade: z.enum(["never", "end_of_window"]),
  })
  .openapi("TierLadder");
export type TierLadder = z.infer<typeof TierLadderSchema>;

/**
 * What the user's object needs of the project's settings with every command that can earn, spend or expire
 * points (logs, adjustments, redemptions), taken from the project's catalogue by the Worker: the expiry of lots
 * earned by this command, the time zone, and the ladder (null: no tiers). `version` grows with every change, so
 * the object keeps the newest it saw (it needs the ladder and zone between commands, for its alarms).
 */
export type PointsPolicy = { version: number; expiry: PointsExpiry; timezone: string; tiers: TierLadder | null };
export const NO_POINTS_POLICY: PointsPolicy = { version: 0, expiry: { mode: "none" }, timezone: "UTC", tiers: null };

// ---- Redemptions ---------------------------------------------------------------------------------------------

export type RedeemCommand = {
  policy: PointsPolicy;
  points: number;
  reason: string;
  reference: string | null;
  metadata: Record<string, unknown>;
  idempotencyKey: string;
  requestHash: string;
};
export type Redemption = {
  redemptionId: string;
  points: number;
  balance: number;
  createdAt: string;
  reason: string;
  reference: string | null;
  reversedAt: string | null;
};
export type RedeemOutcome =
  | { kind: "redeemed"; replayed: boolean; redemption: Redemption }
  | { kind: "insufficient_points"; balance: number }
  | { kind: "not_registered" }
  | { kind: "idempotency_conflict" };

export type ReverseCommand = { policy: PointsPolicy; redemptionId: string; reason: string };
export type ReverseOutcome =
  | { kind: "reversed"; redemption: Redemption; balance: number }
  | { kind: "already_reversed" }
  | { kind: "unknown_redemption" }
  | { kind: "not_registered" };

// ---- The member's points history --------------------------------------------------------------------------------

export const POINTS_HISTORY_TYPES = ["earn", "adjust", "redeem", "reverse", "expire", "tier"] as const;
export type PointsHistoryType = (typeof POINTS_HISTORY_TYPES)[number];

/** One change of the balance (or of the tier, with points 0), with the balance after it. */
export type PointsHistoryEntry = {
  /** Increasing per member: the order of the changes. */
  seq: number;
  type: PointsHistoryType;
  at: string;
  points: number;
  balanceAfter: number;
  /** earn: the loyalty event id; redeem/reverse: the redemption id; adjust: the adjusted loyalty event id. */
  reference: string | null;
  reason: string | null;
  /** tier: {from, to}; earn: the lot's expiry. */
  details: Record<string, unknown> | null;
};

// ---- What the object tells the Worker's consumers ----------------------------------------------------------

/**
 * A balance or tier change other than a log or an adjustment, sent through the user's outbox like a logged
 * event: the stats consumer adds redeemed and expired points per day; the webhook fan-out emits
 * points.redeemed, points.expired and tier.changed. `changeUid` makes both idempotent; `seq` is the user's
 * change number (profile seq), shared with the webhook events' `sequence`.
 */
export const PointsChangeMessageSchema = z.object({
  kind: z.literal("points_change"),
  changeUid: z.string().min(1),
  projectKey: z.string().min(1),
  userId: z.string().min(1),
  accountId: z.number().int(),
  seq: z.number().int().nonnegative(),
  change: z.enum(["redeem", "reverse", "expire", "tier"]),
  /** Points removed (redeem, expire) or given back (reverse), always ≥ 0; 0 for a tier change. */
  points: z.number().int().nonnegative(),
  balanceAfter: z.number().int(),
  at: z.iso.datetime(),
  redemptionId: z.string().nullable(),
  reason: z.string().nullable(),
  /** tier changes: the tier before and after (null: none) and why ("earned", "window_ended", "ladder_changed"). */
  tier: z.object({ from: z.string().nullable(), to: z.string().nullable(), cause: z.string() }).nullable(),
});
export type PointsChangeMessage = z.infer<typeof PointsChangeMessageSchema>;
