// The password rule as the sign-up and password forms check it.
import { describe, expect, it } from "vitest";

import { passwordProblem } from "./password";

describe("password rule", () => {
  it("wants 15 to 128 characters typed the same twice", () => {
    expect(passwordProblem("short", "short")).toMatch(/at least 15/);
    expect(passwordProblem("x".repeat(129), "x".repeat(129))).toMatch(/at most 128/);
    expect(passwordProblem("correct horse battery", "correct horse battery!")).toMatch(/differ/);
    expect(passwordProblem("correct horse battery", "correct horse battery")).toBeNull();
  });
});
