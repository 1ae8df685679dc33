// The seed's endpoints document examples (src/routes/examples.ts), taken from the seed specifications
// (../shared/spec/events-analytics-api.md, ../shared/spec/loyalty-events-api.md): each one served in
// GET /openapi.json must parse with the very zod schema its route validates or answers with.
import type { z } from "@hono/zod-openapi";
import { beforeAll, describe, expect, it } from "vitest";
import { StreakAnalyticsResponseSchema } from "../../src/routes/analytics";
import { EventLoggedEnvelopeSchema, LogEventBodySchema } from "../../src/routes/event-log";
import { EventDefinitionListSchema, EventDefinitionSchema } from "../../src/routes/events";
import { LoyaltyEventListSchema, LoyaltyEventSchema } from "../../src/routes/loyalty-events";
import { EventStatsSchema, GlobalStatsSchema, StatsResponseSchema } from "../../src/routes/stats";
import { api } from "../helpers";

type Examples = Record<string, { summary?: string; value: unknown }>;
type MediaType = { schema?: unknown; examples?: Examples; example?: unknown };
type Operation = { requestBody?: { content: Record<string, MediaType> }; responses: Record<string, { content?: Record<string, MediaType> }> };
type OpenApiDocument = { paths: Record<string, Record<string, Operation>> };

/** Each documented example: the operation, request body or 200 answer, the examples' names, the route's schema. */
const cases: Array<{ method: string; path: string; part: "request" | "200"; names: string[]; schema: z.ZodType }> = [
  { method: "post", path: "/v1/event", part: "request", names: ["purchase"], schema: LogEventBodySchema },
  { method: "post", path: "/v1/event", part: "200", names: ["purchase"], schema: EventLoggedEnvelopeSchema },
  { method: "get", path: "/v1/event", part: "200", names: ["definitions"], schema: EventDefinitionListSchema },
  { method: "get", path: "/v1/event/{eventId}", part: "200", names: ["purchase"], schema: EventDefinitionSchema },
  { method: "get", path: "/v1/analytics/streak", part: "200", names: ["dailyLogin"], schema: StreakAnalyticsResponseSchema },
  { method: "get", path: "/v1/stats/event", part: "200", names: ["global", "perEvent"], schema: StatsResponseSchema },
  { method: "get", path: "/v1/loyalty-events", part: "200", names: ["page"], schema: LoyaltyEventListSchema },
  { method: "get", path: "/v1/loyalty-events/{id}", part: "200", names: ["transaction"], schema: LoyaltyEventSchema },
];

let doc: OpenApiDocument;
beforeAll(async () => {
  const res = await api<OpenApiDocument>("GET", "/openapi.json");
  expect(res.status).toBe(200);
  doc = res.json;
});

function examplesOf(method: string, path: string, part: "request" | "200"): Examples {
  const operation = doc.paths[path]?.[method];
  expect(operation, `${method.toUpperCase()} ${path} is documented`).toBeDefined();
  const media = part === "request" ? operation!.requestBody?.content["application/json"] : operation!.responses["200"]?.content?.["application/json"];
  expect(media?.schema, `${method.toUpperCase()} ${path} ${part} has a JSON schema`).toBeDefined();
  return media?.examples ?? {};
}

describe("OpenAPI examples of the seed's endpoints", () => {
  it.each(cases)("$method $path ($part): examples $names parse with the route's schema", ({ method, path, part, names, schema }) => {
    const examples = examplesOf(method, path, part);
    expect(Object.keys(examples).sort()).toEqual([...names].sort());
    for (const [name, example] of Object.entries(examples)) {
      expect(example.summary, `${name} has a summary`).toEqual(expect.any(String));
      expect(example.value, `${name} has a value`).toBeDefined();
      const parsed = schema.safeParse(example.value);
      expect(parsed.success, `${name}: ${parsed.error?.message}`).toBe(true);
      // Nothing the schema would strip: every field of the example is one the schema knows (defaults may add more).
      expect(parsed.data).toMatchObject(example.value as object);
    }
  });

  it("GET /v1/stats/event shows both of the seed's shapes: global and per event", () => {
    const { global, perEvent } = examplesOf("get", "/v1/stats/event", "200");
    const globalBody = global!.value as { eventId: unknown; data: unknown };
    const eventBody = perEvent!.value as { eventId: unknown; data: unknown };
    expect(globalBody.eventId).toBeNull();
    expect(GlobalStatsSchema.safeParse(globalBody.data).success).toBe(true);
    expect(globalBody.data).toMatchObject({ _metadata: { uniqueUsersCalculationMethod: "daily_exact", uniqueUsersNote: null } });
    expect(eventBody.eventId).toBe("purchase_completed");
    expect(EventStatsSchema.safeParse(eventBody.data).success).toBe(true);
    expect(GlobalStatsSchema.safeParse(eventBody.data).success).toBe(false);
  });
});
