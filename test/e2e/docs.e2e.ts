import type { Browser } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { adminTokenFor, baseUrl, DashboardSession, expectApi, launchBrowser, newProjectId } from "./harness";

let browser: Browser;
let session: DashboardSession;
let admin: string;

beforeAll(async () => {
  browser = await launchBrowser();
  admin = await adminTokenFor(newProjectId("docs"));
  await expectApi(201, admin, "PUT", "/v1/admin/events/docs_tried_event", { title: "Tried from the API reference", reward: { default: 3 } });
});
afterAll(async () => {
  await browser?.close();
});
beforeEach(async () => {
  session = await DashboardSession.open(browser);
});
afterEach(async ({ task }) => {
  // finish() also fails the test on any request that left 127.0.0.1: /docs must work offline.
  await session.finish(`docs ${task.name}`);
});

describe("the API reference at /docs", () => {
  it("renders the OpenAPI document with nothing loaded from outside, and tries a call", async () => {
    const { page } = session;
    await session.goto("/docs#tag/events/GET/v1/event");
    await page.getByText("Loyalty Events & Analytics API").first().waitFor();
    await page.getByText("List event definitions").first().waitFor();
    const scripts = await page.locator("script[src]").evaluateAll((elements) => elements.map((e) => e.getAttribute("src")));
    expect(scripts).toEqual(["/docs/scalar-api-reference.js"]);

    await page.getByRole("button", { name: /^Test Request\s*\(?get \/v1\/event\)?$/i }).click();
    await page.locator('input[placeholder="Token"]').last().fill(admin);
    const [response] = await Promise.all([
      page.waitForResponse((answer) => new URL(answer.url()).pathname === "/v1/event" && answer.request().method() === "GET"),
      page.locator("button", { hasText: "Send get request to" }).click(),
    ]);
    expect(response.status()).toBe(200);
    expect(response.request().headers().authorization).toBe(`Bearer ${admin}`);
    expect(new URL(response.url()).origin).toBe(baseUrl());
    await page.getByText("docs_tried_event").last().waitFor();
  });

  it("is linked from the dashboard", async () => {
    const { page } = session;
    await session.signIn(admin);
    expect(await page.getByRole("link", { name: "API reference ↗" }).getAttribute("href")).toBe("/docs");
  });
});
