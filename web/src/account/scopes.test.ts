// Which scopes a key form offers for each mix of roles.
import { describe, expect, it } from "vitest";

import { grantableScopes } from "./scopes";

describe("grantable scopes", () => {
  it("follows the roles, in a fixed order, without repeats", () => {
    expect(grantableScopes(["renter"])).toEqual(["read", "trade"]);
    expect(grantableScopes(["host", "renter"])).toEqual(["read", "trade", "host"]);
    expect(grantableScopes(["admin"])).toEqual(["read", "trade", "host", "admin"]);
    expect(grantableScopes([])).toEqual([]);
  });
});
