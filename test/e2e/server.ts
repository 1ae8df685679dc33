import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root and the tools' entry points, run with this Node (22, from the `node` devDependency). */
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const WRANGLER = join(ROOT, "node_modules/wrangler/bin/wrangler.js");
const VITE = join(ROOT, "node_modules/vite/bin/vite.js");

/** A port nobody listens on right now (127.0.0.1 only). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

function run(label: string, args: string[], env: NodeJS.ProcessEnv = {}, output: "inherit" | "ignore" = "inherit") {
  const result = spawnSync(process.execPath, args, { cwd: ROOT, stdio: ["ignore", output, "inherit"], env: { ...process.env, ...env }, timeout: 180_000 });
  if (result.status !== 0) throw new Error(`${label} failed (exit ${result.status ?? result.signal})`);
}

export const buildDashboard = () => run("vite build", [VITE, "build", "--config", "dashboard/vite.config.ts"]);

export type RunningWorker = { baseUrl: string; jwtSecret: string; demoToken: string; stop: () => Promise<void> };

/**
 * Starts the Worker with `wrangler dev` on a free 127.0.0.1 port, with its own JWT secret and a fresh
 * persistence directory (local D1 migrated first), and waits for /health. `stop` ends wrangler and its workerd
 * (the whole process group) and removes the directory.
 */
export async function startWorker(options: { demoToken: (secret: string) => Promise<string> }): Promise<RunningWorker> {
  const persistTo = mkdtempSync(join(tmpdir(), "loyalty-e2e-"));
  const jwtSecret = randomBytes(32).toString("hex");
  const demoToken = await options.demoToken(jwtSecret);
  const quiet = { CI: "true", WRANGLER_SEND_METRICS: "false", NO_UPDATE_NOTIFIER: "1" };
  run("wrangler d1 migrations apply", [WRANGLER, "d1", "migrations", "apply", "DB", "--local", "--persist-to", persistTo], quiet, "ignore");

  const port = await freePort();
  const inspectorPort = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    [
      WRANGLER,
      "dev",
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--inspector-port",
      String(inspectorPort),
      "--persist-to",
      persistTo,
      "--var",
      `JWT_SECRET:${jwtSecret}`,
      "--var",
      `DASHBOARD_DEMO_TOKEN:${demoToken}`,
      // As under `npm run dev`: webhook endpoints may be http://127.0.0.1:<port> (the tests' receivers).
      "--var",
      "WEBHOOKS_ALLOW_LOOPBACK:1",
      "--show-interactive-dev-session=false",
      "--log-level",
      "warn",
    ],
    { cwd: ROOT, stdio: ["ignore", "inherit", "inherit"], env: { ...process.env, ...quiet }, detached: true },
  );
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  // If the run is cut short before the teardown, still end wrangler's process group.
  const killOnExit = () => {
    if (child.exitCode === null && child.pid !== undefined) {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  };
  process.once("exit", killOnExit);
  const stop = async () => {
    if (child.exitCode === null && child.pid !== undefined) {
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        // already gone
      }
      const killed = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 10_000))]);
      if (!killed) {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
    }
    process.off("exit", killOnExit);
    rmSync(persistTo, { recursive: true, force: true });
  };

  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    try {
      if ((await fetch(`${baseUrl}/health`)).ok) return { baseUrl, jwtSecret, demoToken, stop };
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  await stop();
  throw new Error(`wrangler dev did not answer on ${baseUrl}/health`);
}
