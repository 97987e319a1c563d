// The compare page's best-in-row marks and the compare picks (at most four).
import { describe, expect, it } from "vitest";

import type { Compared, Offer } from "../api/types";
import { COMPARE_ROWS, bestOf } from "./compareRows";
import { MAX_COMPARE, parseIds, togglePick } from "./compareStore";

const item = (price: number, score: number, finetune: number | null = 1): Compared =>
  ({
    offer: { price_per_gpu_hour: price, price_per_hour: price, gpu_count: 1 },
    g_score: score,
    value: { usd_per_mtok_finetune: finetune },
  }) as unknown as Compared;
const row = (label: string) => COMPARE_ROWS.find((r) => r.label === label)!;

describe("compare rows", () => {
  it("marks the lowest price and the highest score, ties included", () => {
    const items = [item(2, 70), item(1.5, 80), item(1.5, 60)];
    expect([...bestOf(row("Per GPU-hour"), items)]).toEqual([1, 2]);
    expect([...bestOf(row("G-Score (0-100)"), items)]).toEqual([1]);
  });

  it("marks nothing when all are equal, or fewer than two are known", () => {
    expect(bestOf(row("Per GPU-hour"), [item(1, 1), item(1, 2)]).size).toBe(0);
    expect(bestOf(row("Per million tokens, 8B fine-tune"), [item(1, 1, null), item(2, 1, 3)]).size).toBe(0);
    expect(bestOf(row("Provider"), [item(1, 1), item(2, 2)]).size).toBe(0);
  });
});

describe("compare picks", () => {
  const offer = (id: number) => ({ id, gpu: "H100", gpu_variant: null, gpu_memory_gb: 80, gpu_count: 1, provider: "p", price_per_gpu_hour: 2 }) as Offer;

  it("adds, removes, and refuses a fifth", () => {
    let picks = togglePick([], offer(1)).picks;
    expect(picks.map((p) => p.id)).toEqual([1]);
    expect(togglePick(picks, offer(1))).toEqual({ picks: [], outcome: "removed" });
    for (const id of [2, 3, 4]) picks = togglePick(picks, offer(id)).picks;
    expect(picks).toHaveLength(MAX_COMPARE);
    expect(togglePick(picks, offer(5))).toEqual({ picks, outcome: "full" });
  });

  it("reads ids from a shared link", () => {
    expect(parseIds("3,1,3,x,,-2,9,10,11")).toEqual([3, 1, 9, 10]);
    expect(parseIds(null)).toEqual([]);
  });
});
