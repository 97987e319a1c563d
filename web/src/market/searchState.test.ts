// The marketplace's URL state: read, written without defaults, sorting by column.
import { describe, expect, it } from "vitest";

import { DEFAULT_SORT } from "./fields";
import { nextSort, parseSort, readSearchState, writeSearchState } from "./searchState";

describe("search state in the URL", () => {
  it("reads the query, sort and open offer, with defaults", () => {
    expect(readSearchState(new URLSearchParams(""))).toEqual({ q: "", sort: DEFAULT_SORT, offer: null, view: "list" });
    expect(readSearchState(new URLSearchParams("q=gpu%3DH100+&sort=-price_per_hour&offer=42"))).toEqual({
      q: "gpu=H100",
      sort: "-price_per_hour",
      offer: 42,
      view: "list",
    });
    expect(readSearchState(new URLSearchParams("view=groups")).view).toBe("groups");
    expect(readSearchState(new URLSearchParams("view=table")).view).toBe("list");
    expect(readSearchState(new URLSearchParams("offer=abc")).offer).toBeNull();
    expect(readSearchState(new URLSearchParams("offer=-3")).offer).toBeNull();
  });

  it("writes only what differs from the defaults and keeps other parameters", () => {
    const start = new URLSearchParams("utm=x&offer=7");
    const next = writeSearchState(start, { q: "gpu=H100 gpu_count>=8", sort: DEFAULT_SORT, offer: null });
    expect(next.toString()).toBe("utm=x&q=gpu%3DH100+gpu_count%3E%3D8");
    expect(writeSearchState(next, { sort: "-price_per_hour" }).get("sort")).toBe("-price_per_hour");
    expect(writeSearchState(next, { q: "  " }).has("q")).toBe(false);
  });

  it("round-trips through a URL", () => {
    const state = { q: 'region~"us east" country in [US,CA]', sort: "-updated_at", offer: 5, view: "groups" as const };
    const url = new URL(`https://gp4u.test/?${writeSearchState(new URLSearchParams(), state)}`);
    expect(readSearchState(url.searchParams)).toEqual(state);
  });
});

describe("sorting", () => {
  it("parses every spelling of a sort", () => {
    expect(parseSort("price_per_hour")).toEqual({ field: "price_per_hour", desc: false });
    expect(parseSort("-price_per_hour")).toEqual({ field: "price_per_hour", desc: true });
    expect(parseSort("price_per_hour:desc")).toEqual({ field: "price_per_hour", desc: true });
    expect(parseSort("")).toEqual({ field: DEFAULT_SORT, desc: false });
  });

  it("flips the direction of the sorted column and starts a new one sensibly", () => {
    expect(nextSort("price_per_hour", "price_per_hour")).toBe("-price_per_hour");
    expect(nextSort("-price_per_hour", "price_per_hour")).toBe("price_per_hour");
    expect(nextSort("-price_per_hour", "gpu_count")).toBe("gpu_count");
    expect(nextSort("price_per_hour", "updated_at")).toBe("-updated_at");
  });
});
