// The price chart's data (pure): the offer's price history as a step series, extended to now,
// merged by time with the market's hourly minimum and median over the same window (hours with
// nothing on offer are left out).
import type { OfferDetail } from "../api/types";
import type { MarketHistory } from "./types";

export const CHART_DAYS = 7;

export interface ChartPoint {
  at: number;
  offer?: number;
  min?: number;
  median?: number;
}

export function chartPoints(offer: OfferDetail, market: MarketHistory["items"], now: number): ChartPoint[] {
  const from = now - CHART_DAYS * 86_400_000;
  const byTime = new Map<number, ChartPoint>();
  const at = (time: number) => {
    let point = byTime.get(time);
    if (!point) byTime.set(time, (point = { at: time }));
    return point;
  };
  // The price in force at the window's start is the last change before it.
  const history = offer.history.map((p) => ({ at: Date.parse(p.at), price: p.available ? p.price_per_gpu_hour : undefined }));
  const before = history.filter((p) => p.at < from).pop();
  if (before?.price !== undefined) at(from).offer = before.price;
  for (const p of history) if (p.at >= from && p.price !== undefined) at(p.at).offer = p.price;
  if (offer.available) at(now).offer = offer.price_per_gpu_hour;
  for (const m of market) {
    const time = Date.parse(m.at);
    if (time < from || (m.min_price_per_gpu_hour === null && m.median_price_per_gpu_hour === null)) continue;
    const point = at(time);
    if (m.min_price_per_gpu_hour !== null) point.min = m.min_price_per_gpu_hour;
    if (m.median_price_per_gpu_hour !== null) point.median = m.median_price_per_gpu_hour;
  }
  return [...byTime.values()].sort((a, b) => a.at - b.at);
}
