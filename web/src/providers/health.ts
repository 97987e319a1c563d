// Reading a provider's health record: shape aliases, the tone of a status, latency in words and
// how fresh its offers are (from the age of its last confirmed sync against its sync interval).
import type { components } from "../api/schema";

export type Provider = components["schemas"]["ProviderOut"];
export type SyncResult = components["schemas"]["SyncOut"];

export function statusTone(status: string): string {
  if (status === "healthy") return "state-good";
  if (status === "degraded" || status === "unknown") return "state-warn";
  if (status === "unavailable") return "state-bad";
  return "";
}

export function latency(p: Provider): string {
  const p50 = p.calls?.latency_p50_ms;
  const p95 = p.calls?.latency_p95_ms;
  if (p50 == null) return "—";
  return `${Math.round(p50)} / ${p95 == null ? "—" : Math.round(p95)} ms`;
}

/** Offers confirmed within 3 sync intervals are fresh; later, stale; never confirmed: none yet. */
export function freshness(p: Provider): { label: string; tone: string } {
  const offers = Number(p.market?.offers ?? 0);
  const age = p.market?.age_seconds;
  if (!p.market || offers === 0) return { label: "no offers", tone: "" };
  if (age === null || age === undefined) return p.source === "simulated" ? { label: "simulated", tone: "state-warn" } : { label: "never confirmed", tone: "state-warn" };
  const interval = p.sync_interval_seconds ?? null;
  if (interval !== null && Number(age) > 3 * interval) return { label: "stale", tone: "state-bad" };
  return { label: "fresh", tone: "state-good" };
}

/** What a sync did, in one sentence for its toast. */
export function syncSummary(r: SyncResult): string {
  if (r.status !== "ok") return `Failed${r.error_kind ? ` (${r.error_kind})` : ""}: ${r.error ?? "no detail"}`;
  const skipped = Object.values(r.skipped).reduce((a, b) => a + b, 0);
  return `${r.seen} offers seen: ${r.added} new, ${r.changed} changed, ${r.gone} gone${skipped ? `, ${skipped} skipped` : ""} (${r.duration_ms} ms).`;
}
