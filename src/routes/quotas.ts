import { z } from "@hono/zod-openapi";
import { ROOT_ONLY, requireRoot } from "../auth/root-only";
import { ProjectKeyParamsSchema } from "../domain/project-key";
import { errorResponses } from "../http/errors";
import { adminRoute, jsonBody, jsonResponse, serverRoute } from "../http/openapi";
import { createRouter } from "../http/router";
import { projectQuotas, projectUsage, setProjectQuotas } from "../services/quotas";

const QuotaSchema = z
  .object({
    limit: z.number().int().nullable().describe("The quota in force; null is unlimited"),
    source: z.enum(["default", "project"]).describe("`project`: set for this project by the operator; `default`: the deployment's"),
  })
  .openapi("Quota");

const ProjectQuotasSchema = z
  .object({
    projectKey: z.string(),
    eventsPerDay: QuotaSchema.describe("Events per UTC day, by the event's timestamp"),
    storedBytes: QuotaSchema.describe("Estimated bytes of the project's event log"),
    updatedAt: z.string().nullable().describe("When the operator last set this project's quotas; null if never"),
  })
  .openapi("ProjectQuotas");
export type ProjectQuotasBody = z.infer<typeof ProjectQuotasSchema>;

const UsageSchema = z
  .object({
    projectKey: z.string(),
    day: z.string().describe("Today (UTC), YYYY-MM-DD"),
    eventsPerDay: QuotaSchema.extend({
      used: z.number().int().describe("Events dated today, as the stats have them"),
      resetsAt: z.string().describe("The next UTC midnight"),
    }),
    storedBytes: QuotaSchema.extend({
      used: z.number().int().describe("Estimated bytes of the event log in D1 (its window): per row 256 bytes plus its metadata and message"),
      events: z.number().int().describe("Rows in the event log"),
    }),
    refreshSeconds: z.number().int().describe("Logs are checked against usage each isolate read at most this long ago, plus the queue's delay (a few seconds)"),
  })
  .openapi("ProjectUsage");
export type UsageBody = z.infer<typeof UsageSchema>;

const QuotaInputSchema = z
  .strictObject({
    eventsPerDay: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).nullable().optional(),
    storedBytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).nullable().optional(),
  })
  .openapi("ProjectQuotasInput", {
    description: "The project's own quotas; null or left out: the deployment's default. 0 stops all logging (eventsPerDay) or storing.",
  });

const projectParams = ProjectKeyParamsSchema;

const usageRoute = adminRoute({
  method: "get",
  path: "/admin/usage",
  operationId: "getUsage",
  scope: "stats:read",
  summary: "The project's use of its quotas (events today, stored bytes)",
  responses: { 200: jsonResponse(UsageSchema, "Use against each quota"), ...errorResponses(401, 403) },
});

const getQuotasRoute = serverRoute({
  method: "get",
  path: "/operator/projects/{projectKey}/quotas",
  operationId: "getProjectQuotas",
  scope: "admin",
  tags: ["Operator"],
  summary: "A project's quotas (root credentials only)",
  description: ROOT_ONLY,
  request: { params: projectParams },
  responses: { 200: jsonResponse(ProjectQuotasSchema, "The quotas in force"), ...errorResponses(400, 401, 403) },
});

const putQuotasRoute = serverRoute({
  method: "put",
  path: "/operator/projects/{projectKey}/quotas",
  operationId: "putProjectQuotas",
  scope: "admin",
  tags: ["Operator"],
  summary: "Set a project's quotas (root credentials only)",
  description: `${ROOT_ONLY} The change applies at once in the isolate that made it and within 5 seconds everywhere.`,
  request: { params: projectParams, body: jsonBody(QuotaInputSchema) },
  responses: { 200: jsonResponse(ProjectQuotasSchema, "The quotas in force"), ...errorResponses(400, 401, 403) },
});

const router = createRouter();
router.use("/operator/*", requireRoot);

export const quotaRoutes = router
  .openapi(usageRoute, async (c) => c.json(await projectUsage(c.env, c.get("principal").projectKey), 200))
  .openapi(getQuotasRoute, async (c) => c.json(await projectQuotas(c.env, c.req.valid("param").projectKey), 200))
  .openapi(putQuotasRoute, async (c) => {
    const body = c.req.valid("json");
    const quotas = await setProjectQuotas(c.env, c.req.valid("param").projectKey, {
      eventsPerDay: body.eventsPerDay ?? null,
      storedBytes: body.storedBytes ?? null,
    });
    return c.json(quotas, 200);
  });
