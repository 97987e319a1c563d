// Provider health in words: freshness of offers and what a sync did.
import { describe, expect, it } from "vitest";

import { freshness, latency, syncSummary, type Provider, type SyncResult } from "./health";

const base: Provider = { name: "vastai", provider: "vastai", source: "live", kind: "marketplace", status: "healthy", capabilities: {} };

describe("freshness", () => {
  it("is fresh within three sync intervals and stale after", () => {
    const p = { ...base, sync_interval_seconds: 60, market: { offers: 5, age_seconds: 100 } };
    expect(freshness(p).label).toBe("fresh");
    expect(freshness({ ...p, market: { offers: 5, age_seconds: 181 } }).label).toBe("stale");
  });

  it("says when there is nothing or nothing confirmed", () => {
    expect(freshness(base).label).toBe("no offers");
    expect(freshness({ ...base, market: { offers: 3, age_seconds: null } }).label).toBe("never confirmed");
  });
});

describe("latency and sync summaries", () => {
  it("rounds latency", () => {
    expect(latency({ ...base, calls: { calls: 3, latency_p50_ms: 12.4, latency_p95_ms: 80.6, latency_p99_ms: null, success_rate: 1 } })).toBe("12 / 81 ms");
    expect(latency(base)).toBe("—");
  });

  it("tells what a sync did or why it failed", () => {
    const run: SyncResult = { name: "local", provider: "local", source: "live", status: "ok", seen: 4, added: 1, changed: 2, gone: 0, stale: 0, expired: 0, skipped: { unknown_gpu: 1 }, duration_ms: 35, error: null, error_kind: null };
    expect(syncSummary(run)).toBe("4 offers seen: 1 new, 2 changed, 0 gone, 1 skipped (35 ms).");
    expect(syncSummary({ ...run, status: "failed", error: "timed out", error_kind: "timeout" })).toBe("Failed (timeout): timed out");
  });
});
