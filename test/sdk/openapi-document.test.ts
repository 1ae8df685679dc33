// The committed client is generated from sdk/openapi.json: it must be the document the Worker serves today.
// (`npm run sdk:check`, run by CI, also checks that sdk/src/schema.d.ts is what openapi-typescript makes of it.)
import { exports } from "cloudflare:workers";
import { expect, it } from "vitest";
import committed from "../../sdk/openapi.json";

type Json = Record<string, unknown>;

/** Which operations, schemas and other parts differ, one line each (a whole-document diff would be unreadable). */
function differences(served: Json, saved: Json): string[] {
  const out: string[] = [];
  const compare = (where: string, a: Json | undefined, b: Json | undefined) => {
    for (const key of new Set([...Object.keys(a ?? {}), ...Object.keys(b ?? {})])) {
      const now = a?.[key];
      const then = b?.[key];
      if (then === undefined) out.push(`added ${where}${key}`);
      else if (now === undefined) out.push(`removed ${where}${key}`);
      else if (JSON.stringify(now) !== JSON.stringify(then)) out.push(`changed ${where}${key}`);
    }
  };
  const paths = (doc: Json) => doc.paths as Record<string, Json> | undefined;
  for (const path of new Set([...Object.keys(paths(served) ?? {}), ...Object.keys(paths(saved) ?? {})])) {
    compare(`${path} `, paths(served)?.[path], paths(saved)?.[path]);
  }
  const components = (doc: Json) => doc.components as Record<string, Json> | undefined;
  for (const kind of new Set([...Object.keys(components(served) ?? {}), ...Object.keys(components(saved) ?? {})])) {
    compare(`components.${kind}.`, components(served)?.[kind], components(saved)?.[kind]);
  }
  const rest = (doc: Json) => Object.fromEntries(Object.entries(doc).filter(([key]) => key !== "paths" && key !== "components"));
  compare("", rest(served), rest(saved));
  return out;
}

it("sdk/openapi.json is the document GET /openapi.json serves (else run `npm run sdk:build`)", async () => {
  const response = await exports.default.fetch(new Request("http://api.test/openapi.json"));
  expect(response.status).toBe(200);
  const served = (await response.json()) as Json;
  const stale = "The committed client is out of date with GET /openapi.json: run `npm run sdk:build` and commit sdk/";
  expect(differences(served, committed as Json), stale).toEqual([]);
  // Key order too: sdk/openapi.json is the served document, pretty-printed.
  expect(JSON.stringify(served) === JSON.stringify(committed), stale).toBe(true);
});
