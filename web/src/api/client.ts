// The typed API client: openapi-fetch over the generated schema (src/api/schema.d.ts), sending
// the login's bearer token. Every call to GP4U goes through `api`.
import createClient from "openapi-fetch";

import { freshAccessToken, type RefreshOutcome } from "./login";
import type { paths } from "./schema";

/** Without the auth middleware: used to refresh the login itself. */
const bare = createClient<paths>();

async function refresh(refreshToken: string): Promise<RefreshOutcome> {
  try {
    const { data, response } = await bare.POST("/api/v1/auth/refresh", {
      body: { refresh_token: refreshToken },
    });
    if (data) return data;
    return response.status === 401 || response.status === 400 || response.status === 422
      ? "refused"
      : "unreachable";
  } catch {
    return "unreachable";
  }
}

export const api = createClient<paths>();

api.use({
  async onRequest({ request }) {
    if (request.headers.has("Authorization")) return request;
    const token = await freshAccessToken(refresh);
    if (token) request.headers.set("Authorization", `Bearer ${token}`);
    return request;
  },
});
