// A copy of ../shared/bench/floor-worker.js (the team's bare Worker for the write path's benchmark), kept here so
// that `npm run bench` runs on a clone without it; scripts/bench/floor.mjs prefers the shared file when present.
// The platform's floor for a log, used as the baseline of the write path's benchmark: a Worker whose "log" is
// one RPC to a SQLite-backed Durable Object per user (one insert and one counter update in a transaction) plus
// one queue send; no authentication, validation or rules. Bind the object as U (class U, SQLite) and a queue
// producer as Q with a consumer on the same queue. POST /log {"userId": ...}; GET /health.
import { DurableObject } from "cloudflare:workers";
export class U extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS log (id INTEGER PRIMARY KEY, body TEXT)");
      ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS bal (k INTEGER PRIMARY KEY, v INTEGER)");
    });
  }
  async log(body) {
    const v = this.ctx.storage.transactionSync(() => {
      this.ctx.storage.sql.exec("INSERT INTO log (body) VALUES (?)", body);
      return this.ctx.storage.sql.exec("INSERT INTO bal VALUES (1, 1) ON CONFLICT(k) DO UPDATE SET v = v + 1 RETURNING v").one().v;
    });
    await this.env.Q.send({ body });
    return v;
  }
}
export default {
  async fetch(req, env) {
    const url = new URL(req.url);
    if (url.pathname === "/health") return Response.json({ status: "ok" });
    const body = await req.json();
    const v = await env.U.get(env.U.idFromName(body.userId)).log(JSON.stringify(body));
    return Response.json({ statusCode: 200, data: { balance: v } });
  },
  async queue(batch) { batch.ackAll(); },
};