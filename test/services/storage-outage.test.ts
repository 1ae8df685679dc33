import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createApp } from "../../src/app";
import { api, setupProject } from "../helpers";

/** A D1 whose every query fails as an outage does. */
function unavailableD1(): D1Database {
  const outage = () => Promise.reject(new Error("D1_ERROR: Network connection lost."));
  const statement: Record<string, unknown> = {};
  Object.assign(statement, { bind: () => statement, first: outage, all: outage, run: outage, raw: outage });
  return {
    prepare: () => statement,
    batch: outage,
    exec: outage,
    dump: outage,
    withSession: () => ({ prepare: () => statement, batch: outage }),
  } as unknown as D1Database;
}

afterEach(() => vi.useRealTimers());

describe("D1 unavailable at request time", () => {
  it("keeps logging with the catalogue this isolate holds, and answers 503 with Retry-After (never 500) where D1 is needed", async () => {
    const { admin } = await setupProject({ users: { alice: [] } });
    const purchase = { eventId: "purchase_completed", userId: "alice", metadata: { amount: 10 } };
    expect((await api("POST", "/v1/event", { auth: admin, body: purchase })).status).toBe(200);

    const app = createApp();
    const down = { ...env, DB: unavailableD1() };
    const call = (method: string, path: string, body?: unknown) =>
      app.fetch(
        new Request(`http://api.test${path}`, {
          method,
          headers: { authorization: `Bearer ${"bearer" in admin! ? admin.bearer : ""}`, "content-type": "application/json" },
          body: body === undefined ? undefined : JSON.stringify(body),
        }),
        down,
      );
    // Past the catalogue's 5 s re-check: the check fails, the held catalogue serves.
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + 6_000 });
    const logged = await call("POST", "/v1/event", purchase);
    expect(logged.status, await logged.clone().text()).toBe(200);

    for (const [method, path, body] of [
      ["GET", "/v1/stats/event?period=7d", undefined],
      ["PUT", "/v1/admin/events/new_event", { title: "x", reward: { default: 1 } }],
      ["GET", "/v1/admin/users/alice", undefined],
      ["GET", "/v1/loyalty-events", undefined],
    ] as const) {
      const res = await call(method, path, body);
      expect(res.status, `${method} ${path}: ${await res.clone().text()}`).toBe(503);
      expect(res.headers.get("retry-after")).toBe("5");
    }
  });
});
