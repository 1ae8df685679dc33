import { z } from "@hono/zod-openapi";
import { DEFINITION_STATUSES } from "./definition-vocabulary";
import { canonicalTimeZone, type CalendarPeriod } from "./calendar";
import { EventIdSchema } from "./definition";

/**
 * Definitions of what logs feed besides points: streaks, challenges and leaderboards.
 * They share the shape of a definition document: an id from the path, a title, a status, the events they
 * listen to and a time zone for their periods.
 */

export const GAME_DEFINITION_KINDS = ["streak", "challenge", "leaderboard"] as const;
export type GameDefinitionKind = (typeof GAME_DEFINITION_KINDS)[number];

/** Ids of streaks, challenges and leaderboards: like event ids, without `:` (reserved for derived events). */
export const DefinitionIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,128}$/, "must be 1-128 characters of letters, digits, _ . -")
  .openapi({ example: "daily_login_streak" });

const TIME_ZONE_RULE = "must be an IANA time zone name such as Europe/Berlin or UTC (not an offset like +05:30 or a name like EST5EDT)";

/**
 * A definition's time zone as written: an IANA name in any letter case, stored canonical (`europe/berlin` →
 * `Europe/Berlin`, `utc` → `UTC`), so one zone is one calendar however it was spelled.
 */
export const TimeZoneSchema = z
  .string()
  .transform((timeZone, ctx) => {
    const canonical = canonicalTimeZone(timeZone);
    if (canonical === null) {
      ctx.addIssue({ code: "custom", message: TIME_ZONE_RULE });
      return z.NEVER;
    }
    return canonical;
  })
  .default("UTC")
  .openapi({ type: "string", example: "Europe/Berlin", description: "IANA time zone whose local calendar cuts the periods; stored canonical" });

/**
 * A stored definition's time zone, as read back: written canonical by TimeZoneSchema; a document stored
 * before that keeps its spelling, so the calendars its users have periods in go on unchanged.
 */
const StoredTimeZoneSchema = z
  .string()
  .default("UTC")
  .openapi({ example: "Europe/Berlin", description: "IANA time zone whose local calendar cuts the periods" });

const sharedFields = {
  title: z.string().min(1).max(200),
  description: z.string().max(2000).default(""),
  status: z.enum(DEFINITION_STATUSES).default("ACTIVE"),
  eventIds: z
    .array(EventIdSchema)
    .min(1)
    .max(50)
    .refine((ids) => new Set(ids).size === ids.length, "must not repeat an event")
    .describe("The events whose logs count"),
};

const streakFields = {
  ...sharedFields,
  period: z.enum(["day", "week"]).describe("A local calendar day, or an ISO week starting Monday, local"),
  goal: z.number().int().min(1).max(100_000).describe("The run length counted as completing the streak (completionRate)"),
  freezesPerMonth: z
    .number()
    .int()
    .min(0)
    .max(31)
    .default(0)
    .describe("Missed periods forgiven per local calendar month (a week counts in the month of its Monday)"),
};

/** A streak as `PUT /v1/admin/streaks/{streakId}` takes it. */
export const StreakDefinitionBodySchema = z.strictObject({ ...streakFields, timezone: TimeZoneSchema }).openapi("StreakDefinitionInput");

export const StreakDefinitionSchema = z.object({ streakId: z.string(), ...streakFields, timezone: StoredTimeZoneSchema }).openapi("StreakDefinition");
export type StreakDefinition = z.infer<typeof StreakDefinitionSchema>;

/**
 * The calendar a streak's periods are numbered in. Stored with each user's periods: changing a streak's
 * period or time zone starts everyone's count afresh instead of mixing two calendars.
 */
export const streakCalendar = (streak: Pick<StreakDefinition, "period" | "timezone">): string => calendarKey(streak);

/** A definition as the catalogue holds it: the document plus the version it was read at. */
export type Versioned<T> = T & { version: number };

const challengeFields = {
  ...sharedFields,
  metric: z.enum(["count", "sum"]).describe("count: each qualifying log adds 1; sum: it adds metadata[field]"),
  field: z.string().min(1).max(200).optional().describe("The metadata key summed (metric sum only; a missing or non-numeric value adds 0)"),
  target: z.number().positive().max(1e12).describe("Progress that completes the challenge for a period"),
  period: z.enum(["once", "day", "week", "month"]).describe("once: a single lifetime period; else local calendar periods"),
  rewardPoints: z.number().int().min(0).max(1e9).describe("Points added to the balance on completion"),
};

const requireFieldForSum = (doc: { metric: string; field?: string }, ctx: z.RefinementCtx) => {
  if (doc.metric === "sum" && !doc.field) ctx.addIssue({ code: "custom", path: ["field"], message: "required when metric is sum" });
  if (doc.metric === "count" && doc.field) ctx.addIssue({ code: "custom", path: ["field"], message: "only for metric sum" });
};

/** A challenge as `PUT /v1/admin/challenges/{challengeId}` takes it. */
export const ChallengeDefinitionBodySchema = z
  .strictObject({ ...challengeFields, timezone: TimeZoneSchema })
  .superRefine(requireFieldForSum)
  .openapi("ChallengeDefinitionInput");
export const ChallengeDefinitionSchema = z
  .object({ challengeId: z.string(), ...challengeFields, timezone: StoredTimeZoneSchema })
  .openapi("ChallengeDefinition");
export type ChallengeDefinition = Versioned<z.infer<typeof ChallengeDefinitionSchema>>;

const leaderboardFields = {
  title: sharedFields.title,
  description: sharedFields.description,
  status: sharedFields.status,
  metric: z.enum(["points", "count"]).describe("points: every point the user earns (challenge bonuses included); count: qualifying logs of eventIds"),
  eventIds: sharedFields.eventIds.optional().describe("The events counted (metric count only)"),
  period: z.enum(["all", "day", "week", "month"]).describe("all: one board for ever; else one board per local calendar period"),
};

const requireEventsForCount = (doc: { metric: string; eventIds?: string[] }, ctx: z.RefinementCtx) => {
  if (doc.metric === "count" && !doc.eventIds) ctx.addIssue({ code: "custom", path: ["eventIds"], message: "required when metric is count" });
  if (doc.metric === "points" && doc.eventIds) ctx.addIssue({ code: "custom", path: ["eventIds"], message: "only for metric count" });
};

/** A leaderboard as `PUT /v1/admin/leaderboards/{leaderboardId}` takes it. */
export const LeaderboardDefinitionBodySchema = z
  .strictObject({ ...leaderboardFields, timezone: TimeZoneSchema })
  .superRefine(requireEventsForCount)
  .openapi("LeaderboardDefinitionInput");
export const LeaderboardDefinitionSchema = z
  .object({ leaderboardId: z.string(), ...leaderboardFields, timezone: StoredTimeZoneSchema })
  .openapi("LeaderboardDefinition");
export type LeaderboardDefinition = Versioned<z.infer<typeof LeaderboardDefinitionSchema>>;

/** The calendar a challenge's or leaderboard's periods are numbered in (`once` is the single period of `all`). */
export const periodCalendar = (definition: { period: "once" | CalendarPeriod; timezone: string }) =>
  ({ period: definition.period === "once" ? "all" : definition.period, timezone: definition.timezone }) as const;

/** The key a user's object stores periods under: a new period or time zone starts afresh. */
export const calendarKey = (definition: { period: string; timezone: string }): string => `${definition.period}|${definition.timezone}`;
