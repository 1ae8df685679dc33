import { z } from "@hono/zod-openapi";
import { isValidTimeZone } from "./calendar";
import { EventIdSchema } from "./definition";

/**
 * Definitions of what logs feed besides points: streaks (and, with their issues, challenges and leaderboards).
 * They share the shape of a definition document: an id from the path, a title, a status, the events they
 * listen to and a time zone for their periods.
 */

export const GAME_DEFINITION_KINDS = ["streak"] as const;
export type GameDefinitionKind = (typeof GAME_DEFINITION_KINDS)[number];

/** Ids of streaks (and challenges, leaderboards): like event ids, without `:` (reserved for derived events). */
export const DefinitionIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,128}$/, "must be 1-128 characters of letters, digits, _ . -")
  .openapi({ example: "daily_login_streak" });

export const TimeZoneSchema = z
  .string()
  .refine(isValidTimeZone, "must be an IANA time zone name such as Europe/Berlin")
  .default("UTC")
  .openapi({ example: "Europe/Berlin", description: "IANA time zone whose local calendar cuts the periods" });

const sharedFields = {
  title: z.string().min(1).max(200),
  description: z.string().max(2000).default(""),
  status: z.enum(["ACTIVE", "INACTIVE"]).default("ACTIVE"),
  eventIds: z
    .array(EventIdSchema)
    .min(1)
    .max(50)
    .refine((ids) => new Set(ids).size === ids.length, "must not repeat an event")
    .describe("The events whose logs count"),
  timezone: TimeZoneSchema,
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
export const StreakDefinitionBodySchema = z.strictObject(streakFields).openapi("StreakDefinitionInput");
export type StreakDefinitionBody = z.infer<typeof StreakDefinitionBodySchema>;

export const StreakDefinitionSchema = z.object({ streakId: z.string(), ...streakFields }).openapi("StreakDefinition");
export type StreakDefinition = z.infer<typeof StreakDefinitionSchema>;

/**
 * The calendar a streak's periods are numbered in. Stored with each user's periods: changing a streak's
 * period or time zone starts everyone's count afresh instead of mixing two calendars.
 */
export const streakCalendar = (streak: Pick<StreakDefinition, "period" | "timezone">): string => `${streak.period}|${streak.timezone}`;
