// What an API key may be allowed to do: the scopes the user's roles grant (the server's
// ROLE_SCOPES in src/gp4u/accounts/principal.py), each with a sentence for the key form.
import type { components } from "../api/schema";

export type Scope = components["schemas"]["ApiKeyIn"]["scopes"][number];
type Role = components["schemas"]["UserOut"]["roles"][number];

const ROLE_SCOPES: Record<Role, readonly Scope[]> = {
  renter: ["read", "trade"],
  host: ["read", "trade", "host"],
  admin: ["read", "trade", "host", "admin"],
};

export const SCOPE_TEXT: Record<Scope, string> = {
  read: "Read: see offers, your sessions, clusters and wallet",
  trade: "Trade: launch, book and spend from your wallet",
  host: "Host: manage the machines you list",
  admin: "Admin: manage users and the platform",
};

const ORDER: readonly Scope[] = ["read", "trade", "host", "admin"];

/** The scopes a user with these roles can give a key, in a fixed order. */
export function grantableScopes(roles: readonly Role[]): Scope[] {
  const granted = new Set(roles.flatMap((role) => ROLE_SCOPES[role] ?? []));
  return ORDER.filter((scope) => granted.has(scope));
}
