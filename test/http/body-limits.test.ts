import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import { MAX_METADATA_BYTES } from "../../src/domain/limits";
import type { BatchResponseBody } from "../../src/routes/event-log";
import { api, setupProject } from "../helpers";
import { purchase } from "../routes/log-helpers";

describe("body limits belong to routes", () => {
  it("refuses a 1.5 MiB definition at PUT /v1/admin/events/batch, while the batch route takes 1.5 MiB", async () => {
    const { admin } = await setupProject();
    const big = "x".repeat(1_500_000);
    const definition = await api("PUT", "/v1/admin/events/batch", { auth: admin, body: { title: "Batch", reward: { default: 1 }, description: big } });
    expect(definition.status).toBe(413);
    const events = Array.from({ length: 100 }, () => purchase("alice", { amount: 1, note: "n".repeat(15_000) }));
    const batch = await api<BatchResponseBody>("POST", "/v1/events/batch", { auth: admin, body: { events } });
    expect(batch.status).toBe(200);
    expect(batch.json.results.every((r) => r.statusCode === 200)).toBe(true);
  });

  it("answers 415 for a body that is not JSON, or has no content type", async () => {
    const { admin } = await setupProject();
    const text = await api("POST", "/v1/event", { auth: admin, rawBody: JSON.stringify(purchase("alice")), headers: { "content-type": "text/plain" } });
    expect(text.status).toBe(415);
    // A string body gets text/plain from the Request constructor: removed, the request has no content type at all.
    const request = new Request("http://api.test/v1/event", {
      method: "POST",
      headers: { authorization: `Bearer ${(admin as { bearer: string }).bearer}` },
      body: JSON.stringify(purchase("alice")),
    });
    request.headers.delete("content-type");
    expect((await createApp().fetch(request, env)).status).toBe(415);
  });
});

describe("metadata is capped per event", () => {
  /** Metadata whose JSON is exactly `bytes` long. */
  const metadataOf = (bytes: number) => {
    const overhead = JSON.stringify({ amount: 1, blob: "" }).length;
    return { amount: 1, blob: "x".repeat(bytes - overhead) };
  };

  it(`accepts ${MAX_METADATA_BYTES} bytes and answers 413 naming metadata one byte later, in a batch too`, async () => {
    const { admin } = await setupProject();
    const fits = await api("POST", "/v1/event", { auth: admin, body: purchase("alice", metadataOf(MAX_METADATA_BYTES)) });
    expect(fits.status).toBe(200);
    const over = await api("POST", "/v1/event", { auth: admin, body: purchase("alice", metadataOf(MAX_METADATA_BYTES + 1)) });
    expect(over.status).toBe(413);
    expect(over.json.errors).toEqual([{ path: "metadata", message: expect.any(String) }]);

    const batch = await api<BatchResponseBody>("POST", "/v1/events/batch", {
      auth: admin,
      body: { events: [purchase("alice", metadataOf(MAX_METADATA_BYTES + 1)), purchase("alice", { amount: 2 })] },
    });
    expect(batch.json.results.map((r) => r.statusCode)).toEqual([413, 200]);
    expect((batch.json.results[0] as { errors: unknown }).errors).toEqual([{ path: "metadata", message: expect.any(String) }]);
  });
});
