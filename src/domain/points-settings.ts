import { z } from "@hono/zod-openapi";
import { canonicalTimeZone } from "./calendar";
import { PointsExpirySchema, TierLadderSchema, type PointsPolicy, type PointsSettings, type TierLadder } from "./points-lifecycle";

/**
 * The rules of what an admin writes to a project's points settings and tier ladder (src/domain/points-lifecycle.ts
 * holds the shapes both the Worker and the user's object share), and the policy the commands carry.
 */

/** An IANA zone name the runtime knows, stored canonical (`europe/berlin` → `Europe/Berlin`). */
const ZoneNameSchema = z
  .string()
  .max(64)
  .transform((timeZone, ctx) => {
    const canonical = canonicalTimeZone(timeZone);
    if (canonical === null) {
      ctx.addIssue({
        code: "custom",
        message: "must be an IANA time zone name such as Europe/Berlin or UTC (not an offset like +05:30 or a name like EST5EDT)",
      });
      return z.NEVER;
    }
    return canonical;
  })
  .openapi({ type: "string", example: "Europe/Berlin" });

/** PUT /v1/admin/project/settings: the fields sent replace the stored ones; the others stay. */
export const PointsSettingsInputSchema = z
  .strictObject({
    pointsExpiry: PointsExpirySchema.optional().describe("How lots earned from now on expire; lots earned before keep their dates"),
    timezone: ZoneNameSchema.optional().describe("IANA time zone of expiry dates and tier windows (default UTC)"),
    userTokensMayRedeem: z.boolean().optional().describe("Whether a user token may redeem its own user's points (default false)"),
  })
  .openapi("PointsSettingsInput");
export type PointsSettingsInput = z.infer<typeof PointsSettingsInputSchema>;

/**
 * A tier ladder as written: the contract's shape, with tier ids unique and no two levels at the same
 * `minPoints` (strictly increasing once sorted; the lowest may be 0). Stored sorted by `minPoints`.
 */
export const TierLadderInputSchema = TierLadderSchema.superRefine((ladder, ctx) => {
  const ids = new Map<string, number>();
  const thresholds = new Map<number, number>();
  ladder.levels.forEach((level, i) => {
    const sameId = ids.get(level.tierId);
    if (sameId !== undefined)
      ctx.addIssue({ code: "custom", path: ["levels", i, "tierId"], message: `repeats levels.${sameId}.tierId (${level.tierId}); tier ids must be unique` });
    else ids.set(level.tierId, i);
    const sameMin = thresholds.get(level.minPoints);
    if (sameMin !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["levels", i, "minPoints"],
        message: `equals levels.${sameMin}.minPoints (${level.minPoints}); each level needs more points than the one below`,
      });
    } else thresholds.set(level.minPoints, i);
  });
}).transform((ladder): TierLadder => ({ ...ladder, levels: [...ladder.levels].sort((a, b) => a.minPoints - b.minPoints) }));

/** The policy every command that earns, spends or expires points carries (see PointsPolicy). */
export const pointsPolicy = (version: number, settings: PointsSettings, tiers: TierLadder | null): PointsPolicy => ({
  version,
  expiry: settings.pointsExpiry,
  timezone: settings.timezone,
  tiers,
});
