// `npm run dev [-- --port N]`: builds the dashboard, applies local D1 migrations, starts wrangler dev on 127.0.0.1,
// seeds the demo project once, and prints ready tokens, a curl line and the dashboard's and API reference's URLs.
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { loadDevVars } from "./dev-vars.mjs";
import { seedDemo } from "./seed.mjs";
import { signDevToken } from "./token.mjs";

// Run wrangler's own entry with this Node (22, from the `node` devDependency), not whatever is first on PATH.
const wranglerBin = fileURLToPath(new URL("../node_modules/wrangler/bin/wrangler.js", import.meta.url));
const wrangler = (args, options) => [process.execPath, [wranglerBin, ...args], options];

const { values, tokens } = parseArgs({
  options: { port: { type: "string", default: "8787" }, ip: { type: "string", default: "127.0.0.1" } },
  strict: false,
  tokens: true,
});
const passThrough = tokens
  .filter((t) => t.kind !== "option" || !["port", "ip"].includes(t.name))
  .flatMap((t) =>
    t.kind === "option" ? [t.rawName, ...(t.value !== undefined && !t.inlineValue ? [t.value] : [])] : t.kind === "positional" ? [t.value] : [],
  );
const port = Number(values.port);
const base = `http://${values.ip}:${port}`;

const { JWT_SECRET: secret } = loadDevVars({ create: true });

console.log("Building the dashboard (vite)...");
const viteBin = fileURLToPath(new URL("../node_modules/vite/bin/vite.js", import.meta.url));
const dashboard = spawnSync(process.execPath, [viteBin, "build", "--config", "dashboard/vite.config.ts"], {
  cwd: fileURLToPath(new URL("..", import.meta.url)),
  stdio: "inherit",
});
if (dashboard.status !== 0) process.exit(dashboard.status ?? 1);

// Signed before wrangler starts: the dashboard's sign-in offers this same token in one click (local dev only,
// through the DASHBOARD_DEMO_TOKEN var, which deployed Workers keep empty).
const adminToken = await signDevToken({ sub: "demo-admin", project: "demo", role: "admin", ttl: "7d" }, secret);
const userToken = await signDevToken({ sub: "alice", project: "demo", role: "user", ttl: "7d" }, secret);

console.log("Applying local D1 migrations...");
const migrate = spawnSync(...wrangler(["d1", "migrations", "apply", "DB", "--local"], { stdio: "inherit", env: { ...process.env, CI: "true" } }));
if (migrate.status !== 0) process.exit(migrate.status ?? 1);

const dev = spawn(
  ...wrangler(
    ["dev", "--ip", values.ip, "--port", String(port), "--var", `DASHBOARD_DEMO_TOKEN:${adminToken}`, "--var", "WEBHOOKS_ALLOW_LOOPBACK:1", ...passThrough],
    { stdio: "inherit" },
  ),
);
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => dev.kill(signal));
dev.on("exit", (code) => process.exit(code ?? 0));

async function waitForHealth() {
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(`${base}/health`)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`wrangler dev did not answer on ${base}/health`);
}

try {
  await waitForHealth();
  const seeded = await seedDemo(base, adminToken);
  console.log(`
${seeded ? "Seeded the demo project" : "Demo project up to date"} (project "demo": users alice, bob [gold], carol [silver], dave;
streak daily_login_streak, challenge three_purchases_week, leaderboard weekly_points; all on Berlin time).

  Admin token (project demo, 7 days):
    export ADMIN_TOKEN=${adminToken}
  User token (alice, 7 days):
    export USER_TOKEN=${userToken}

  curl -s ${base}/v1/event -H "Authorization: Bearer $ADMIN_TOKEN"
  curl -s -X POST ${base}/v1/event -H "Authorization: Bearer $USER_TOKEN" -H 'content-type: application/json' \\
    -d '{"eventId":"purchase_completed","userId":"alice","metadata":{"amount":49.99,"currency":"EUR"}}'

  More tokens: npm run token -- --sub bob --project demo --role user

  Dashboard: ${base}/dashboard/   (sign in with the admin token above: the page offers it in one click)
  API reference (try calls): ${base}/docs   OpenAPI document: ${base}/openapi.json
`);
} catch (error) {
  console.error("Seeding failed:", error);
}
