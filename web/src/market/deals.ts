// Arbitrage highlights (pure): how far an offer's $/GPU-hour is below the median of the same GPU
// configuration across providers (GET /api/v1/arbitrage/opportunities: same GPU model, memory,
// variant and GPU count; on-demand and spot apart), so rows can say "save 43% vs median"
// without a request per row.
import type { Offer } from "../api/types";
import type { Opportunity } from "./types";

/** Offers at least this far below their configuration's median get the badge. */
export const DEAL_THRESHOLD = 0.2;

type Configuration = Pick<Offer, "gpu" | "gpu_memory_gb" | "gpu_variant" | "gpu_count" | "spot">;

export function configurationKey(c: Configuration): string {
  return [c.gpu, c.gpu_memory_gb, c.gpu_variant ?? "", c.gpu_count, c.spot ? "spot" : "on-demand"].join("|");
}

export function mediansOf(groups: readonly Opportunity[]): Map<string, number> {
  return new Map(groups.map((g) => [configurationKey(g), g.median_price_per_gpu_hour]));
}

/** The share (0-1) by which the offer is below its configuration's median, when it is a deal. */
export function savingVsMedian(offer: Offer, medians: ReadonlyMap<string, number>): number | null {
  const median = medians.get(configurationKey(offer));
  if (median === undefined || median <= 0 || !offer.available) return null;
  const saving = (median - offer.price_per_gpu_hour) / median;
  return saving >= DEAL_THRESHOLD ? saving : null;
}

/** The biggest savings against the median first (ties: the larger instance-hour saving). */
export function topDeals(groups: readonly Opportunity[], count: number): Opportunity[] {
  return [...groups]
    .filter((g) => g.savings_vs_median_pct > 0)
    .sort((a, b) => b.savings_vs_median_pct - a.savings_vs_median_pct || b.saved_per_hour - a.saved_per_hour)
    .slice(0, count);
}
