// The API description (sdk/openapi.json, kept equal to the Worker's GET /openapi.json by `npm run sdk:check`)
// must pass redocly's recommended rules with no error and no warning: redocly itself fails only on errors.
import { spawnSync } from "node:child_process";

const run = spawnSync("npx", ["redocly", "lint", "--extends=recommended", "sdk/openapi.json"], {
  encoding: "utf8",
  env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" },
});
const output = `${run.stdout}${run.stderr}`;
process.stdout.write(output);
if (run.status !== 0 || /You have \d+ warnings?/.test(output)) {
  console.error("lint:api: the API description has problems (above); fix them in the route contracts, then npm run sdk:build");
  process.exit(1);
}
