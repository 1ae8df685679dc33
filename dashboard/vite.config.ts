import { copyFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig, type Plugin } from "vite";

const dashboardDir = fileURLToPath(new URL(".", import.meta.url));
/** The directory wrangler.toml's [assets] serves; files mirror their URLs (/dashboard/..., /docs/...). */
const assetsDir = `${dashboardDir}dist`;

/**
 * The API reference at /docs runs Scalar's standalone bundle; it is copied next to the dashboard so that
 * /docs loads nothing from a CDN (the Worker serves it at /docs/scalar-api-reference.js).
 */
function scalarStandalone(): Plugin {
  return {
    name: "scalar-standalone",
    apply: "build",
    closeBundle() {
      // The package exports no subpath for it: find it beside the package's main entry (dist/index.js).
      const entry = createRequire(import.meta.url).resolve("@scalar/api-reference");
      mkdirSync(`${assetsDir}/docs`, { recursive: true });
      copyFileSync(join(dirname(entry), "browser", "standalone.js"), `${assetsDir}/docs/scalar-api-reference.js`);
    },
  };
}

export default defineConfig({
  root: dashboardDir,
  base: "/dashboard/",
  // Preact's automatic JSX runtime, compiled by Vite's own transformer (no Babel).
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  resolve: { alias: { react: "preact/compat", "react-dom": "preact/compat" } },
  build: {
    outDir: `${assetsDir}/dashboard`,
    emptyOutDir: true,
    target: "es2022",
    sourcemap: true,
    chunkSizeWarningLimit: 400,
  },
  plugins: [scalarStandalone()],
  logLevel: "warn",
});
