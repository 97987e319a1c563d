// The price chart's series: the offer's steps within the window (the price in force at its start
// included, unavailable stretches left out), extended to now, merged with the market's by time.
import { describe, expect, it } from "vitest";

import type { OfferDetail } from "../api/types";
import { chartPoints } from "./chartPoints";

const HOUR = 3_600_000;
const now = Date.parse("2026-11-24T12:00:00Z");
const iso = (ms: number) => new Date(ms).toISOString();

describe("chartPoints", () => {
  it("steps through the window and ends at the current price", () => {
    const offer = {
      available: true,
      price_per_gpu_hour: 2.5,
      history: [
        { at: iso(now - 10 * 24 * HOUR), price_per_gpu_hour: 2, price_per_hour: 2, available: true },
        { at: iso(now - 2 * HOUR), price_per_gpu_hour: 3, price_per_hour: 3, available: false },
        { at: iso(now - HOUR), price_per_gpu_hour: 2.5, price_per_hour: 2.5, available: true },
      ],
    } as unknown as OfferDetail;
    const market = [
      { at: iso(now - 3 * HOUR), min_price_per_gpu_hour: 1.5, median_price_per_gpu_hour: 2.2, offers: 4 },
      { at: iso(now - 30 * 24 * HOUR), min_price_per_gpu_hour: 9, median_price_per_gpu_hour: 9, offers: 1 },
      { at: iso(now - 5 * HOUR), min_price_per_gpu_hour: null, median_price_per_gpu_hour: null, offers: 0 },
    ];
    expect(chartPoints(offer, market, now)).toEqual([
      { at: now - 7 * 24 * HOUR, offer: 2 },
      { at: now - 3 * HOUR, min: 1.5, median: 2.2 },
      { at: now - HOUR, offer: 2.5 },
      { at: now, offer: 2.5 },
    ]);
  });
});
