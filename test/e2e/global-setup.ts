import type { TestProject } from "vitest/node";
import { signToken } from "./tokens";
import { buildDashboard, startWorker } from "./server";

declare module "vitest" {
  export interface ProvidedContext {
    baseUrl: string;
    jwtSecret: string;
    demoToken: string;
  }
}

/** Builds the dashboard, starts the Worker, and hands the tests its URL and JWT secret; stops it afterwards. */
export default async function setup(project: TestProject) {
  buildDashboard();
  const worker = await startWorker({ demoToken: (secret) => signToken(secret, { sub: "demo-admin", projectId: "demo", role: "admin" }) });
  project.provide("baseUrl", worker.baseUrl);
  project.provide("jwtSecret", worker.jwtSecret);
  project.provide("demoToken", worker.demoToken);
  return async () => {
    await worker.stop();
  };
}
