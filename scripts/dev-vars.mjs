// Reads (and on first use creates) .dev.vars, the local secrets file wrangler dev loads.
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const DEV_VARS_PATH = fileURLToPath(new URL("../.dev.vars", import.meta.url));

export function loadDevVars({ create = false } = {}) {
  if (!existsSync(DEV_VARS_PATH)) {
    if (!create) return {};
    writeFileSync(DEV_VARS_PATH, `JWT_SECRET=${randomBytes(32).toString("hex")}\n`);
    console.log("Created .dev.vars with a random JWT_SECRET.");
  }
  const vars = {};
  for (const line of readFileSync(DEV_VARS_PATH, "utf8").split("\n")) {
    const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (match) vars[match[1]] = match[2].replace(/^(["'])(.*)\1$/, "$2");
  }
  return vars;
}

export function jwtSecret() {
  const secret = process.env.JWT_SECRET ?? loadDevVars().JWT_SECRET;
  if (!secret) throw new Error("No JWT_SECRET: run `npm run dev` once (it creates .dev.vars) or set JWT_SECRET.");
  return secret;
}
