import { z } from "@hono/zod-openapi";
import { createMiddleware } from "hono/factory";
import { LOYALTY_EVENT_TYPES } from "../domain/definition-vocabulary";
import { decodeLedgerCursor, LEDGER_SORT_FIELDS, LoyaltyEventSchema, parseLedgerSort } from "../domain/ledger";
import { LEDGER_TOTAL_CAP, MAX_LEDGER_OFFSET } from "../domain/limits";
import type { AppEnv } from "../http/context";
import { ApiError, errorResponses, invalidFields } from "../http/errors";
import { jsonBody, jsonResponse, principalRoute, serverRoute } from "../http/openapi";
import { acceptsJson, pageLinks } from "../http/paging";
import { createRouter } from "../http/router";
import { adjustReward, ledgerItem, ledgerPage } from "../services/ledger";
import { checkIdempotencyKey } from "../services/event-logging";
import { loyaltyEventExample, loyaltyEventListExample, withExamples } from "./examples";

/** The 200 bodies of GET /v1/loyalty-events and GET /v1/loyalty-events/{id}. */
export const LoyaltyEventListSchema = z.array(LoyaltyEventSchema);
export { LoyaltyEventSchema };

/** 406 unless the client accepts JSON (the header may be absent, a wildcard, or include application/json). */
const requireJsonAccept = createMiddleware<AppEnv>(async (c, next) => {
  if (!acceptsJson(c.req.header("accept"))) throw new ApiError(406, "This API answers application/json; the Accept header excludes it");
  await next();
});

/** A positive int64 id as the spec's query parameters carry it (JavaScript numbers hold ids up to 2^53 exactly). */
const int64 = (description: string) =>
  z
    .string()
    .regex(/^\d{1,16}$/, "must be a positive integer")
    .transform(Number)
    .refine(Number.isSafeInteger, "must be at most 2^53 - 1")
    .optional()
    .openapi({ type: "integer", format: "int64", description });

const ListQuerySchema = z
  .object({
    accountid: int64("Only this loyalty account (a user token: only its own; default: its own)"),
    programid: int64("Only this loyalty program: this project's id, anything else matches nothing"),
    eventtype: z.enum(LOYALTY_EVENT_TYPES).optional(),
    timestampfrom: z.iso.datetime({ offset: true }).optional().openapi({ description: "Events at or after this moment" }),
    timestampto: z.iso.datetime({ offset: true }).optional().openapi({ description: "Events at or before this moment" }),
    page: z.coerce
      .number()
      .int()
      .min(0)
      .optional()
      .openapi({
        type: "integer",
        default: 0,
        description: `Zero-based page; page * size at most ${MAX_LEDGER_OFFSET} (further: the cursor in Link: rel="next")`,
      }),
    size: z.coerce.number().int().min(1).max(100).default(20),
    sort: z
      .string()
      .default("timestamp,desc")
      .transform((value, ctx) => {
        const sort = parseLedgerSort(value);
        if (sort === null) {
          ctx.addIssue({
            code: "custom",
            message: `must be ${LEDGER_SORT_FIELDS.slice(0, -1).join(", ")} or ${LEDGER_SORT_FIELDS.at(-1)}, optionally with ,asc or ,desc`,
          });
          return z.NEVER;
        }
        return sort;
      })
      .openapi({ type: "string", example: "timestamp,desc", description: `field,asc|desc over ${LEDGER_SORT_FIELDS.join(", ")}; id breaks ties` }),
    cursor: z
      .string()
      .optional()
      .openapi({ description: 'Continue after the page that returned it in Link: rel="next" (same sort; instead of page), at any depth' }),
  })
  .superRefine((query, ctx) => {
    if (query.timestampfrom && query.timestampto && Date.parse(query.timestampfrom) > Date.parse(query.timestampto)) {
      ctx.addIssue({ code: "custom", path: ["timestampfrom"], message: "must not be after timestampto" });
    }
    if ((query.page ?? 0) * query.size > MAX_LEDGER_OFFSET) {
      ctx.addIssue({
        code: "custom",
        path: ["page"],
        message: `page * size must be at most ${MAX_LEDGER_OFFSET}; walk further with the cursor of Link: rel="next"`,
      });
    }
    if (query.cursor !== undefined && query.page !== undefined) {
      ctx.addIssue({ code: "custom", path: ["page"], message: "must not be sent with cursor (the cursor says where the page starts)" });
    }
  });

const idParams = z.object({ id: z.coerce.number().int().positive().openapi({ type: "integer", format: "int64" }) });

const listRoute = principalRoute(
  {
    method: "get",
    path: "/loyalty-events",
    operationId: "listLoyaltyEvents",
    scope: "ledger:read",
    summary: "Loyalty events with filters, paging and sorting (totals in X-Total-Count, pages in Link)",
    description: [
      `Numbered pages reach ${MAX_LEDGER_OFFSET} items deep; Link: rel="next" carries a cursor that continues at any depth for the cost of one page.`,
      `X-Total-Count is exact unless X-Total-Count-Capped: true, when it is a lower bound (totals no aggregate answers are counted up to ${LEDGER_TOTAL_CAP}).`,
    ].join(" "),
    tags: ["Ledger"],
    request: { query: ListQuerySchema },
    responses: {
      200: withExamples(jsonResponse(LoyaltyEventListSchema, "One page, [] past the end"), {
        page: { summary: "A page of one transaction assessment (the seed's answer)", value: loyaltyEventListExample },
      }),
      ...errorResponses(400, 401, 403, 406),
    },
  },
  [requireJsonAccept],
);

const itemRoute = principalRoute(
  {
    method: "get",
    path: "/loyalty-events/{id}",
    operationId: "getLoyaltyEvent",
    scope: "ledger:read",
    summary: "One loyalty event",
    tags: ["Ledger"],
    request: { params: idParams },
    responses: {
      200: withExamples(jsonResponse(LoyaltyEventSchema, "The loyalty event"), {
        transaction: { summary: "A transaction assessment with its reward (the seed's item)", value: loyaltyEventExample },
      }),
      ...errorResponses(400, 401, 404, 406),
    },
  },
  [requireJsonAccept],
);

const adjustRoute = serverRoute({
  method: "post",
  path: "/loyalty-events/{id}/adjustments",
  operationId: "adjustLoyaltyEventReward",
  scope: "ledger:adjust",
  summary: "Set the reward of a loyalty event (a refund or a correction); the balance moves by the difference once",
  tags: ["Ledger"],
  request: {
    params: idParams,
    headers: z.object({ "idempotency-key": z.string().optional().openapi({ description: "Replays return the first answer (kept 48 h)" }) }),
    body: jsonBody(
      z
        .strictObject({
          rewardAmount: z.number().finite().max(1e12).describe("The new amount: 0 refunds the whole reward; points are whole, money has 2 decimals"),
          reason: z.string().min(1).max(500),
          allowNegativeBalance: z.boolean().optional().describe("Allow the balance to go below 0 (else 422)"),
        })
        .openapi("RewardAdjustmentInput"),
    ),
  },
  responses: { 200: jsonResponse(LoyaltyEventSchema, "The loyalty event as adjusted"), ...errorResponses(400, 401, 403, 404, 422, 503) },
});

export const loyaltyEventsRoutes = createRouter()
  .openapi(listRoute, async (c) => {
    const query = c.req.valid("query");
    const after = query.cursor === undefined ? undefined : decodeLedgerCursor(query.cursor, query.sort);
    if (typeof after === "string") throw invalidFields("query", [{ path: "cursor", message: after }]);
    const page = query.cursor === undefined ? (query.page ?? 0) : null;
    const result = await ledgerPage(c.env, c.var.db, c.get("principal"), {
      accountId: query.accountid,
      programId: query.programid,
      eventType: query.eventtype,
      from: query.timestampfrom,
      to: query.timestampto,
      page: page ?? 0,
      size: query.size,
      sort: query.sort,
      after,
    });
    // Relative links (path and query): never built from the request's Host, which the client controls.
    const link = (to: { page: number } | { cursor: string }) => {
      const url = new URL(c.req.url);
      if ("page" in to) {
        url.searchParams.delete("cursor");
        url.searchParams.set("page", String(to.page));
      } else {
        url.searchParams.delete("page");
        url.searchParams.set("cursor", to.cursor);
      }
      url.searchParams.set("size", String(query.size));
      return `${url.pathname}${url.search}`;
    };
    const links = pageLinks({ page, size: query.size, total: result.total, exact: result.exact, next: result.next, maxOffset: MAX_LEDGER_OFFSET });
    c.header("X-Total-Count", String(result.total));
    if (!result.exact) c.header("X-Total-Count-Capped", "true");
    c.header("Link", links.map((l) => `<${link(l)}>; rel="${l.rel}"`).join(", "));
    return c.json(result.items, 200);
  })
  .openapi(itemRoute, async (c) => c.json(await ledgerItem(c.env, c.var.db, c.get("principal"), c.req.valid("param").id), 200))
  .openapi(adjustRoute, async (c) => {
    const idempotencyKey = checkIdempotencyKey(c.req.valid("header")["idempotency-key"], "header", "Idempotency-Key");
    const { item, replayed } = await adjustReward(c.env, c.var.db, c.get("principal"), c.req.valid("param").id, c.req.valid("json"), idempotencyKey);
    if (replayed) c.header("Idempotent-Replayed", "true");
    return c.json(item, 200);
  });
