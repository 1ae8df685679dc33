import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { inject } from "vitest";
import { signToken } from "./tokens";

/** Debian's Chromium (`apt-get install chromium`); CHROMIUM_PATH overrides it. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SCREENSHOTS = fileURLToPath(new URL("../../test-results/e2e/", import.meta.url));

export const baseUrl = () => inject("baseUrl");

export const launchBrowser = (): Promise<Browser> => chromium.launch({ executablePath: CHROMIUM_PATH, headless: true });

/** A fresh project per test file (the project is the token's claim), so tests never see each other's data. */
export const newProjectId = (name: string) => `e2e-${name}-${Math.random().toString(36).slice(2, 8)}`;

export const adminTokenFor = (projectId: string) => signToken(inject("jwtSecret"), { sub: "e2e-admin", projectId, role: "admin" });
export const userTokenFor = (projectId: string, userId: string) => signToken(inject("jwtSecret"), { sub: userId, projectId, role: "user" });

export type ApiAnswer<T> = { status: number; body: T; headers: Headers };

/** A call to the Worker's API, as a backend would make it (logging events, checking what the page shows). */
export async function callApi<T>(token: string, method: string, path: string, body?: unknown): Promise<ApiAnswer<T>> {
  const response = await fetch(`${baseUrl()}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : null) as T, headers: response.headers };
}

/** Like callApi, but any status other than `expected` fails the test with the API's answer. */
export async function expectApi<T>(expected: number, token: string, method: string, path: string, body?: unknown): Promise<ApiAnswer<T>> {
  const answer = await callApi<T>(token, method, path, body);
  if (answer.status !== expected) throw new Error(`${method} ${path}: expected ${expected}, got ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer;
}

/** Polls until `check` returns a value (the queue consumer updates stats, the ledger and boards within seconds). */
export async function eventually<T>(what: string, check: () => Promise<T | null | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * One browser context for one test: collects console errors, page errors and any request that would leave
 * 127.0.0.1 (aborted: the dashboard and /docs must work offline). `finish` saves the screenshot and fails the
 * test on any of them, except console errors the test expects (a request it makes fail on purpose).
 */
export class DashboardSession {
  readonly problems: string[] = [];
  readonly outsideRequests: string[] = [];
  private readonly expectedConsoleErrors: RegExp[] = [];

  private constructor(
    readonly context: BrowserContext,
    readonly page: Page,
  ) {}

  static async open(browser: Browser, viewport = { width: 1280, height: 900 }): Promise<DashboardSession> {
    const context = await browser.newContext({ viewport });
    const page = await context.newPage();
    const session = new DashboardSession(context, page);
    await context.route("**/*", (route) => {
      const url = new URL(route.request().url());
      if (url.hostname === "127.0.0.1" || url.protocol === "data:") return route.continue();
      session.outsideRequests.push(route.request().url());
      return route.abort();
    });
    page.on("console", (message) => {
      if (message.type() !== "error") return;
      const text = message.text();
      if (!session.expectedConsoleErrors.some((pattern) => pattern.test(text))) session.problems.push(`console error: ${text}`);
    });
    page.on("pageerror", (error) => session.problems.push(`page error: ${error.message}`));
    return session;
  }

  /** Chromium logs a failed request (a 401 the test provokes) as a console error; this one is expected. */
  expectConsoleError(pattern: RegExp) {
    this.expectedConsoleErrors.push(pattern);
  }

  async goto(path: string) {
    await this.page.goto(`${baseUrl()}${path}`);
  }

  /** Signs in through the sign-in form, as a person pasting a token would. */
  async signIn(token: string) {
    await this.goto("/dashboard/");
    await this.page.getByLabel("Admin token or API key").fill(token);
    await this.page.getByRole("button", { name: "Sign in", exact: true }).click();
    await this.page.getByRole("button", { name: "Sign out" }).waitFor();
  }

  async finish(testName: string) {
    mkdirSync(SCREENSHOTS, { recursive: true });
    const file = join(
      SCREENSHOTS,
      `${testName
        .replace(/[^\w-]+/g, "-")
        .replace(/^-|-$/g, "")
        .slice(0, 100)}.png`,
    );
    try {
      await this.page.screenshot({ path: file, fullPage: true });
    } finally {
      await this.context.close();
    }
    const failures = [...this.problems, ...this.outsideRequests.map((url) => `request outside 127.0.0.1: ${url}`)];
    if (failures.length > 0) throw new Error(`The page reported problems:\n${failures.join("\n")}`);
  }
}

/** The page's width fits its viewport: nothing scrolls sideways (tables scroll inside their own box). */
export const horizontalOverflow = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
