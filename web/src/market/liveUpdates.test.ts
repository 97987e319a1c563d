// Live changes against the loaded rows: patched in place when nothing would move, counted for
// "refresh" when rows would reorder or the results would change; and the savings badges.
import type { InfiniteData } from "@tanstack/react-query";
import { describe, expect, it } from "vitest";

import type { Offer, OfferPage } from "../api/types";
import { configurationKey, savingVsMedian } from "./deals";
import { patchPages, planLiveChanges } from "./liveUpdates";
import type { OfferChange } from "./types";

const offer = (id: number, price: number, extra: Partial<Offer> = {}) =>
  ({ id, price_per_hour: price, price_per_gpu_hour: price, available: true, stale: false, updated_at: "t0", gpu: "H100", gpu_memory_gb: 80, gpu_variant: null, gpu_count: 1, spot: false, ...extra }) as Offer;
const change = (id: number, price: number, extra: Partial<OfferChange> = {}): OfferChange => ({
  id,
  price_per_hour: price,
  price_per_gpu_hour: price,
  available: true,
  stale: false,
  new: false,
  updated_at: "t1",
  ...extra,
});
const rows = [offer(1, 1), offer(2, 2), offer(3, 3)];

describe("live changes", () => {
  it("patches a price that keeps its place in a price sort", () => {
    const plan = planLiveChanges(rows, [change(2, 2.5)], "", "price_per_gpu_hour");
    expect([...plan.patches.keys()]).toEqual([2]);
    expect(plan.repriced).toEqual([2]);
    expect(plan.pending).toBe(0);
  });

  it("counts a price that would move the row, an offer leaving, and new offers", () => {
    const plan = planLiveChanges(rows, [change(1, 5), change(3, 3, { available: false }), change(9, 1, { new: true }), change(8, 1)], "", "price_per_gpu_hour");
    expect(plan.patches.size).toBe(0);
    expect(plan.pending).toBe(3); // offer 8 is not loaded and not new: it changes nothing shown
  });

  it("patches any price when the sort is not by price, unless the query filters on price", () => {
    expect(planLiveChanges(rows, [change(1, 5)], "", "-reliability").patches.has(1)).toBe(true);
    expect(planLiveChanges(rows, [change(1, 5)], "price_per_gpu_hour<4", "-reliability").pending).toBe(1);
    expect(planLiveChanges(rows, [change(1, 1, { stale: true })], "", "-updated_at").pending).toBe(1);
  });

  it("patches the cached pages, keeping untouched pages and rows as they were", () => {
    const data: InfiniteData<OfferPage> = {
      pages: [
        { items: rows.slice(0, 2), next_cursor: "c" },
        { items: rows.slice(2), next_cursor: null },
      ],
      pageParams: [null, "c"],
    };
    const next = patchPages(data, new Map([[3, change(3, 3.5, { stale: true })]]));
    expect(next.pages[0]).toBe(data.pages[0]);
    expect(next.pages[1]!.items[0]).toMatchObject({ id: 3, price_per_gpu_hour: 3.5, stale: true, updated_at: "t1" });
  });
});

describe("savings badges", () => {
  const medians = new Map([[configurationKey(offer(0, 0)), 4]]);

  it("flags offers well below their configuration's median", () => {
    expect(savingVsMedian(offer(1, 2), medians)).toBeCloseTo(0.5);
    expect(savingVsMedian(offer(1, 3.5), medians)).toBeNull();
    expect(savingVsMedian(offer(1, 2, { gpu_count: 8 }), medians)).toBeNull();
    expect(savingVsMedian(offer(1, 2, { available: false }), medians)).toBeNull();
  });
});
