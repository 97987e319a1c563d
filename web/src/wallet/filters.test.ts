// The transactions filter: read from and written to the URL, and turned into API parameters.
import { describe, expect, it } from "vitest";

import { kindLabel, rangeProblem, readFilter, toQuery, writeFilter } from "./filters";

describe("transaction filters", () => {
  it("reads known kinds and well-formed days, ignoring anything else", () => {
    expect(readFilter(new URLSearchParams("kind=deposit&from=2026-11-01&to=2026-11-24"))).toEqual({
      kind: "deposit",
      from: "2026-11-01",
      to: "2026-11-24",
    });
    expect(readFilter(new URLSearchParams("kind=bogus&from=yesterday"))).toEqual({ kind: null, from: null, to: null });
  });

  it("writes only what is set and keeps other parameters", () => {
    const next = writeFilter(new URLSearchParams("tab=x&kind=hold"), { kind: null, from: "2026-11-01", to: null });
    expect(next.toString()).toBe("tab=x&from=2026-11-01");
  });

  it("turns a day range into [since, until) at local midnights, the last day included", () => {
    const query = toQuery({ kind: "capture", from: "2026-11-01", to: "2026-11-03" });
    expect(query.kind).toBe("capture");
    expect(new Date(query.since!).getTime()).toBe(new Date(2026, 10, 1).getTime());
    expect(new Date(query.until!).getTime()).toBe(new Date(2026, 10, 4).getTime());
    expect(toQuery({ kind: null, from: null, to: null })).toEqual({});
  });

  it("catches a reversed range and names kinds in the singular", () => {
    expect(rangeProblem({ kind: null, from: "2026-11-05", to: "2026-11-01" })).toMatch(/after/);
    expect(rangeProblem({ kind: null, from: "2026-11-01", to: "2026-11-01" })).toBeNull();
    expect(kindLabel("capture")).toBe("Charge");
    expect(kindLabel("mystery")).toBe("mystery");
  });
});
