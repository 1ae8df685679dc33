import { SignJWT } from "jose";

/** An HS256 token as the API accepts it (claims sub, projectId, role; an hour). */
export const signToken = (secret: string, claims: { sub: string; projectId: string; role: "admin" | "user" }) =>
  new SignJWT({ projectId: claims.projectId, role: claims.role })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(claims.sub)
    .setIssuedAt()
    .setExpirationTime("1h")
    .sign(new TextEncoder().encode(secret));
