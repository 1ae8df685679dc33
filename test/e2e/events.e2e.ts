import type { Browser } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { adminTokenFor, DashboardSession, expectApi, launchBrowser, newProjectId } from "./harness";

let browser: Browser;
let session: DashboardSession;
let admin: string;

beforeAll(async () => {
  browser = await launchBrowser();
  admin = await adminTokenFor(newProjectId("events"));
});
afterAll(async () => {
  await browser?.close();
});
beforeEach(async () => {
  session = await DashboardSession.open(browser);
});
afterEach(async ({ task }) => {
  await session.finish(`events ${task.name}`);
});

type Definition = {
  eventId: string;
  status: string;
  reward: Record<string, number>;
  limit?: number;
  limitPeriod: string;
  conditions?: unknown;
  metadataFields: unknown[];
};

describe("event definitions", () => {
  it("creates one through the form, with a condition, after showing what the form refuses", async () => {
    const { page } = session;
    await session.signIn(admin);
    await page.getByRole("link", { name: "Events", exact: true }).click();
    await page.getByText("No events are defined yet").waitFor();
    await page.getByRole("link", { name: "New event" }).click();

    // Submitting with a bad id and no title: the form names both fields, like the API would.
    await page.getByLabel("Event id").fill("review written");
    await page.getByRole("button", { name: "Create event" }).click();
    await page.getByText("Please fix these 2 problems").waitFor();
    expect(await page.getByLabel("Title", { exact: true }).getAttribute("aria-invalid")).toBe("true");
    expect(await page.locator("#event-id-error").textContent()).toContain("letters, digits");

    await page.getByLabel("Event id").fill("review_written");
    await page.getByLabel("Title", { exact: true }).fill("Review written");
    await page.locator("[data-testid=reward-row]").first().getByLabel("Points").fill("10");
    await page.getByRole("button", { name: "+ Usergroup reward" }).click();
    const gold = page.locator("[data-testid=reward-row]").nth(1);
    await gold.getByLabel("Usergroup", { exact: true }).fill("gold");
    await gold.getByLabel("Points").fill("20");
    await page.getByLabel("Rewarded logs per user").fill("3");
    await page.getByLabel("Per", { exact: true }).selectOption("week");
    await page.getByRole("button", { name: "+ Metadata field" }).click();
    await page.locator("[data-testid=metadata-field-row]").getByLabel("Key").fill("stars");
    await page.locator("[data-testid=metadata-field-row]").getByLabel("Type").selectOption("number");
    await page.locator("[data-testid=metadata-field-row]").getByLabel("Required").check();
    await page.getByRole("button", { name: "+ Add conditions" }).click();
    const condition = page.locator("[data-testid=condition-leaf]").first();
    await condition.getByLabel("Metadata field").fill("stars");
    await condition.getByLabel("Operator").selectOption("greater_than_or_equal");
    // An operator and value that do not fit are named at the value, before anything is sent.
    await condition.getByLabel("Operator").selectOption("in");
    await condition.getByLabel("Value").fill("");
    await page.getByRole("button", { name: "Create event" }).click();
    expect(await condition.locator(".field-error").textContent()).toBe("in needs an array value");
    await condition.getByLabel("Operator").selectOption("greater_than_or_equal");
    await condition.getByLabel("Value").fill("4");
    await page.getByRole("button", { name: "Create event" }).click();

    const row = page.locator("tr[data-event-id=review_written]");
    await row.waitFor();
    expect(page.url()).toMatch(/\/dashboard\/events$/);
    expect(await row.locator("td").nth(0).textContent()).toBe("ACTIVE");
    expect(await row.locator("td").nth(2).textContent()).toBe("default 10 · gold 20 points");
    expect(await row.locator("td").nth(3).textContent()).toBe("3 per week");

    const saved = await expectApi<Definition>(200, admin, "GET", "/v1/event/review_written");
    expect(saved.body).toMatchObject({
      status: "ACTIVE",
      reward: { default: 10, gold: 20 },
      limit: 3,
      limitPeriod: "week",
      metadataFields: [{ key: "stars", type: "number", required: true }],
      conditions: { type: "AND", conditions: [{ field: "stars", operator: "greater_than_or_equal", value: 4 }] },
    });
  });

  it("edits a definition, keeping its condition tree, and deactivates and activates it from the table", async () => {
    await expectApi(201, admin, "PUT", "/v1/admin/events/order_paid", {
      title: "Order paid",
      type: "TRANSACTION",
      rewardValueField: "total",
      reward: { default: 1 },
      rewardType: "PERCENTAGE",
      rewardCurrency: "EUR",
      conditions: {
        type: "OR",
        conditions: [
          { field: "total", operator: "greater_than", value: 100 },
          { type: "AND", conditions: [{ field: "vip", operator: "exists" }] },
        ],
      },
    });
    const { page } = session;
    await session.signIn(admin);
    await session.goto("/dashboard/events/order_paid");
    await page.getByLabel("Title", { exact: true }).fill("Order paid (2 %)");
    await page.locator("[data-testid=reward-row]").first().getByLabel("Percent of the value field").fill("2");
    await page.getByRole("button", { name: "Save changes" }).click();

    const row = page.locator("tr[data-event-id=order_paid]");
    await row.waitFor();
    expect(await row.locator("td").nth(2).textContent()).toBe("default 2 % of total");
    const saved = await expectApi<Definition & { title: string }>(200, admin, "GET", "/v1/event/order_paid");
    expect(saved.body.title).toBe("Order paid (2 %)");
    expect(saved.body.conditions).toEqual({
      type: "OR",
      conditions: [
        { field: "total", operator: "greater_than", value: 100 },
        { type: "AND", conditions: [{ field: "vip", operator: "exists" }] },
      ],
    });

    await row.getByRole("button", { name: "Deactivate order_paid" }).click();
    await expect.poll(() => row.locator("td").nth(0).textContent()).toBe("INACTIVE");
    expect((await expectApi<Definition>(200, admin, "GET", "/v1/event/order_paid")).body.status).toBe("INACTIVE");
    await row.getByRole("button", { name: "Activate order_paid" }).click();
    await expect.poll(() => row.locator("td").nth(0).textContent()).toBe("ACTIVE");
    expect((await expectApi<Definition>(200, admin, "GET", "/v1/event/order_paid")).body.status).toBe("ACTIVE");
  });

  it("is keyboard-usable: every control of the form has a label and is reached with Tab", async () => {
    const { page } = session;
    await session.signIn(admin);
    await session.goto("/dashboard/events/new");
    await page.getByRole("button", { name: "+ Add conditions" }).click();
    const unlabelled = await page.evaluate(() =>
      [...document.querySelectorAll("form input, form select, form textarea")]
        .filter((control) => !(control as HTMLInputElement).labels?.length)
        .map((control) => control.outerHTML),
    );
    expect(unlabelled).toEqual([]);
    await page.getByLabel("Event id").focus();
    await page.keyboard.type("kbd_event");
    await page.keyboard.press("Tab");
    await page.keyboard.type("Typed with the keyboard");
    expect(await page.getByLabel("Title", { exact: true }).inputValue()).toBe("Typed with the keyboard");
  });
});
