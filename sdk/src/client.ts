import createClient, { type Client, type ClientOptions } from "openapi-fetch";
import type { components, paths } from "./schema.js";

/** The typed client: `client.GET("/v1/users/{userId}", { params: { path: { userId } } })`, checked against the API. */
export type LoyaltyClient = Client<paths>;

/** The API's named schemas: `Schemas["LogEventInput"]`, `Schemas["LoyaltyEvent"]`, … */
export type Schemas = components["schemas"];

export interface LoyaltyClientOptions extends Omit<ClientOptions, "baseUrl"> {
  /** Where the API runs, without a path: `https://loyalty.example.com` (paths start at `/v1`). */
  baseUrl: string;
  /**
   * A bearer token: an admin token, or a user token from `POST /v1/auth/tokens` (token exchange). A function is
   * called before every request, so it can hand out a refreshed token. This client never signs tokens itself.
   */
  token?: string | (() => string | Promise<string>);
  /** A project API key (`lek_…`), sent as `X-API-Key`. For servers: it is a secret. */
  apiKey?: string;
}

/**
 * An openapi-fetch client for the API, typed by the generated `paths`. Calls answer `{ data, error, response }`:
 * `data` on 2xx, else `error` (the error envelope `{ statusCode, message, errors }`); network failures throw.
 */
export function createLoyaltyClient(options: LoyaltyClientOptions): LoyaltyClient {
  const { token, apiKey, ...clientOptions } = options;
  const client = createClient<paths>(clientOptions);
  if (token !== undefined || apiKey !== undefined) {
    client.use({
      async onRequest({ request }) {
        if (apiKey !== undefined) request.headers.set("X-API-Key", apiKey);
        if (token !== undefined) request.headers.set("Authorization", `Bearer ${typeof token === "function" ? await token() : token}`);
        return request;
      },
    });
  }
  return client;
}
