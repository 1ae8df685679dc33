// Prints a dev JWT signed with the local secret:
//   npm run token -- --sub u1 --project demo --role admin [--ttl 1h]
import { parseArgs } from "node:util";
import { SignJWT } from "jose";
import { jwtSecret } from "./dev-vars.mjs";

export async function signDevToken({ sub, project, role = "user", ttl = "1h" }, secret = jwtSecret()) {
  return new SignJWT({ projectId: project, role })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime(ttl)
    .sign(new TextEncoder().encode(secret));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      sub: { type: "string" },
      project: { type: "string", default: "demo" },
      role: { type: "string", default: "user" },
      ttl: { type: "string", default: "1h" },
    },
  });
  if (!values.sub || !["user", "admin"].includes(values.role)) {
    console.error("usage: npm run token -- --sub <userId> [--project demo] [--role user|admin] [--ttl 1h]");
    process.exit(2);
  }
  console.log(await signDevToken(values));
}
