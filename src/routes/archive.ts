import { z } from "@hono/zod-openapi";
import { ROOT_ONLY, requireRoot } from "../auth/root-only";
import { ProjectKeyParamsSchema } from "../domain/project-key";
import { findProjectId } from "../db/projects";
import { ApiError, errorResponses, invalidFields } from "../http/errors";
import { adminRoute, jsonBody, jsonResponse, serverRoute } from "../http/openapi";
import { createRouter } from "../http/router";
import { listArchive, projectPrefix, readArchiveFile } from "../services/archive";
import { DEFAULT_LOG_WINDOW_DAYS, logWindow, MAX_LOG_WINDOW_DAYS, projectSettingsOf, writeProjectSettings } from "../services/log-window";

const LogWindowSchema = z
  .object({
    days: z.number().int().describe("Days of raw log D1 keeps for the ledger across accounts"),
    from: z.string().describe("Where the window starts now (UTC midnight): the earliest timestampfrom the ledger takes without accountid"),
  })
  .openapi("LogWindow");

const ArchiveFileSchema = z
  .object({
    key: z.string().describe("The object's key: archive/project=<programId>/day=<YYYY-MM-DD>/<file>"),
    day: z.string().describe("The UTC day: of the events' time (events), of the adjustments (adjustments)"),
    kind: z.enum(["events", "adjustments", "manifest"]),
    rows: z.number().int().nullable().describe("Lines in the file; null for a manifest"),
    bytes: z.number().int().describe("Size of the object (gzip-compressed for .ndjson.gz)"),
    uploadedAt: z.string(),
    url: z.string().describe("Download with the same credentials: GET of this path"),
  })
  .openapi("ArchiveFile");

const ArchiveListSchema = z
  .object({
    programId: z.number().int().nullable().describe("The project's numeric id (the archive's project= folder); null before its first admin write"),
    from: z.string().nullable(),
    to: z.string().nullable(),
    window: LogWindowSchema,
    files: z.array(ArchiveFileSchema),
    next: z.string().nullable().describe("Pass as `cursor` for the next page; null after the last one"),
  })
  .openapi("ArchiveList");
export type ArchiveListBody = z.infer<typeof ArchiveListSchema>;

const day = (description: string) => z.iso.date({ message: "must be a date YYYY-MM-DD" }).optional().openapi({ description });

const listRoute = adminRoute({
  method: "get",
  path: "/admin/archive",
  operationId: "listArchiveFiles",
  scope: "ledger:read",
  summary: "The project's files in the R2 archive of the raw log (gzip NDJSON per UTC day, and a manifest per day), with download links",
  description:
    'Every logged event and reward adjustment is archived once, as gzip-compressed NDJSON partitioned by project and UTC day, within about 10 minutes of reaching the log. Members appear by a pseudonymous key, never their userId. See README "The archive" for the format and a DuckDB query.',
  request: {
    query: z
      .object({
        from: day("First UTC day (inclusive); default: the first archived"),
        to: day("Last UTC day (inclusive); default: the last archived"),
        cursor: z.string().max(300).optional().openapi({ description: "The previous page's `next`" }),
        limit: z.coerce.number().int().min(1).max(1000).default(1000),
      })
      .superRefine((query, ctx) => {
        if (query.from && query.to && query.from > query.to) ctx.addIssue({ code: "custom", path: ["from"], message: "must not be after to" });
      }),
  },
  responses: { 200: jsonResponse(ArchiveListSchema, "Files of the range, by day"), ...errorResponses(400, 401, 403) },
});

const fileRoute = adminRoute({
  method: "get",
  path: "/admin/archive/file",
  operationId: "getArchiveFile",
  scope: "ledger:read",
  summary: "Download one file of the project's archive (as listed by GET /v1/admin/archive)",
  request: { query: z.object({ key: z.string().max(300).openapi({ description: "The file's key, as listed" }) }) },
  responses: {
    200: {
      description: "The file: application/gzip (NDJSON, one JSON object per line, once decompressed) or application/json (a manifest)",
      content: { "application/gzip": { schema: z.string().openapi({ format: "binary" }) }, "application/json": { schema: z.unknown() } },
    },
    ...errorResponses(400, 401, 403, 404),
  },
});

const SettingsSchema = z
  .object({
    projectKey: z.string(),
    logWindowDays: z
      .object({ days: z.number().int(), source: z.enum(["default", "project"]) })
      .describe("Days of raw log D1 keeps for the ledger across accounts; older rows are deleted once archived"),
    updatedAt: z.string().nullable(),
  })
  .openapi("ProjectSettings");
export type ProjectSettingsBody = z.infer<typeof SettingsSchema>;

const projectParams = ProjectKeyParamsSchema;

const getSettingsRoute = serverRoute({
  method: "get",
  path: "/operator/projects/{projectKey}/settings",
  operationId: "getProjectSettings",
  scope: "admin",
  tags: ["Operator"],
  summary: "A project's settings: the days of raw log D1 keeps (root credentials only)",
  description: ROOT_ONLY,
  request: { params: projectParams },
  responses: { 200: jsonResponse(SettingsSchema, "The settings in force"), ...errorResponses(400, 401, 403) },
});

const putSettingsRoute = serverRoute({
  method: "put",
  path: "/operator/projects/{projectKey}/settings",
  operationId: "putProjectSettings",
  scope: "admin",
  tags: ["Operator"],
  summary: "Set a project's settings (root credentials only)",
  description: `${ROOT_ONLY} The ledger applies a new window at once in the isolate that set it and within a minute everywhere; the scheduled job deletes what falls out of it (once archived).`,
  request: {
    params: projectParams,
    body: jsonBody(
      z
        .strictObject({
          logWindowDays: z
            .number()
            .int()
            .min(1)
            .max(MAX_LOG_WINDOW_DAYS)
            .nullable()
            .optional()
            .describe(`Days of raw log D1 keeps (1 to ${MAX_LOG_WINDOW_DAYS}); null or left out: the default, ${DEFAULT_LOG_WINDOW_DAYS}`),
        })
        .openapi("ProjectSettingsInput"),
    ),
  },
  responses: { 200: jsonResponse(SettingsSchema, "The settings in force"), ...errorResponses(400, 401, 403) },
});

const settingsBody = (projectKey: string, stored: { logWindowDays: number | null; updatedAt: string | null }): ProjectSettingsBody => ({
  projectKey,
  logWindowDays: stored.logWindowDays === null ? { days: DEFAULT_LOG_WINDOW_DAYS, source: "default" } : { days: stored.logWindowDays, source: "project" },
  updatedAt: stored.updatedAt,
});

const noFile = (key: string) => new ApiError(404, `No archive file ${key} in this project`);

const router = createRouter();
router.use("/operator/*", requireRoot);

export const archiveRoutes = router
  .openapi(listRoute, async (c) => {
    const query = c.req.valid("query");
    const { projectKey } = c.get("principal");
    const programId = await findProjectId(c.var.db, projectKey);
    const window = await logWindow(c.var.db, projectKey);
    if (programId !== null && query.cursor !== undefined && !query.cursor.startsWith(projectPrefix(programId))) {
      throw invalidFields("query", [{ path: "cursor", message: "must be the `next` of a previous page" }]);
    }
    const { files, next } =
      programId === null
        ? { files: [], next: null }
        : await listArchive(c.env.ARCHIVE, programId, { from: query.from, to: query.to, after: query.cursor, limit: query.limit });
    return c.json({ programId, from: query.from ?? null, to: query.to ?? null, window, files, next }, 200);
  })
  .openapi(fileRoute, async (c) => {
    const { key } = c.req.valid("query");
    const programId = await findProjectId(c.var.db, c.get("principal").projectKey);
    const object = programId === null ? null : await readArchiveFile(c.env.ARCHIVE, programId, key);
    if (object === null) throw noFile(key);
    const name = key.slice(key.lastIndexOf("/") + 1);
    return new Response(object.body, {
      status: 200,
      headers: {
        "content-type": object.httpMetadata?.contentType ?? "application/octet-stream",
        "content-length": String(object.size),
        etag: object.httpEtag,
        "content-disposition": `attachment; filename="${name}"`,
        "cache-control": "private, no-store",
      },
    });
  })
  .openapi(getSettingsRoute, async (c) => {
    const { projectKey } = c.req.valid("param");
    return c.json(settingsBody(projectKey, await projectSettingsOf(c.var.db, projectKey)), 200);
  })
  .openapi(putSettingsRoute, async (c) => {
    const { projectKey } = c.req.valid("param");
    const stored = await writeProjectSettings(c.var.db, projectKey, { logWindowDays: c.req.valid("json").logWindowDays ?? null });
    return c.json(settingsBody(projectKey, stored), 200);
  });
