// The rows of the compare page (pure): each a label, how to read it from a compared offer, and
// which way is better, so the best offer in each row can be marked.
import type { Compared } from "../api/types";
import { count, money, number, percent, place } from "../app/format";

export interface CompareRow {
  label: string;
  value: (item: Compared) => number | null;
  show: (item: Compared) => string;
  /** "low": the smallest is best; "high": the largest; undefined: nothing to mark. */
  better?: "low" | "high";
  group: "Price and value" | "Specs";
}

type OfferFields = {
  provider: string;
  region: string | null;
  country: string | null;
  gpu_count: number;
  gpu_memory_gb: number;
  vcpus: number | null;
  memory_gb: number | null;
  disk_gb: number | null;
  reliability: number | null;
  available: boolean;
  price_per_hour: number;
  price_per_gpu_hour: number;
};

const offerOf = (item: Compared) => item.offer as unknown as OfferFields;

export const COMPARE_ROWS: readonly CompareRow[] = [
  { group: "Price and value", label: "G-Score (0-100)", value: (i) => i.g_score, show: (i) => number(i.g_score), better: "high" },
  { group: "Price and value", label: "Per GPU-hour", value: (i) => offerOf(i).price_per_gpu_hour, show: (i) => money(offerOf(i).price_per_gpu_hour), better: "low" },
  { group: "Price and value", label: "Per hour (whole instance)", value: (i) => offerOf(i).price_per_hour, show: (i) => money(offerOf(i).price_per_hour), better: "low" },
  {
    group: "Price and value",
    label: "Per dense PFLOP-hour",
    value: (i) => i.value.usd_per_pflop_hour,
    show: (i) => `${money(i.value.usd_per_pflop_hour)}${i.value.flops_precision ? ` (${i.value.flops_precision})` : ""}`,
    better: "low",
  },
  { group: "Price and value", label: "Per GB of VRAM-hour", value: (i) => i.value.usd_per_gb_vram_hour, show: (i) => money(i.value.usd_per_gb_vram_hour), better: "low" },
  {
    group: "Price and value",
    label: "Per million tokens, 8B inference",
    value: (i) => i.value.usd_per_mtok_inference,
    show: (i) => money(i.value.usd_per_mtok_inference),
    better: "low",
  },
  {
    group: "Price and value",
    label: "Per million tokens, 8B fine-tune",
    value: (i) => i.value.usd_per_mtok_finetune,
    show: (i) => (i.value.usd_per_mtok_finetune === null ? "does not fit" : money(i.value.usd_per_mtok_finetune)),
    better: "low",
  },
  { group: "Specs", label: "Provider", value: () => null, show: (i) => offerOf(i).provider },
  { group: "Specs", label: "Region", value: () => null, show: (i) => place(offerOf(i)) },
  { group: "Specs", label: "GPUs", value: (i) => offerOf(i).gpu_count, show: (i) => count(offerOf(i).gpu_count), better: "high" },
  { group: "Specs", label: "Memory per GPU", value: (i) => offerOf(i).gpu_memory_gb, show: (i) => `${offerOf(i).gpu_memory_gb} GB`, better: "high" },
  { group: "Specs", label: "vCPUs", value: (i) => offerOf(i).vcpus, show: (i) => number(offerOf(i).vcpus), better: "high" },
  { group: "Specs", label: "RAM", value: (i) => offerOf(i).memory_gb, show: (i) => number(offerOf(i).memory_gb, " GB"), better: "high" },
  { group: "Specs", label: "Disk", value: (i) => offerOf(i).disk_gb, show: (i) => number(offerOf(i).disk_gb, " GB"), better: "high" },
  { group: "Specs", label: "Reliability", value: (i) => offerOf(i).reliability, show: (i) => percent(offerOf(i).reliability), better: "high" },
  { group: "Specs", label: "Available now", value: () => null, show: (i) => (offerOf(i).available ? "yes" : "no") },
];

/** Indexes of the best items in a row (all of them on a tie); none when fewer than two have a value or all are equal. */
export function bestOf(row: CompareRow, items: readonly Compared[]): Set<number> {
  if (!row.better) return new Set();
  const values = items.map(row.value);
  const known = values.filter((v): v is number => v !== null);
  if (known.length < 2) return new Set();
  const best = row.better === "low" ? Math.min(...known) : Math.max(...known);
  if (known.every((v) => v === best)) return new Set();
  return new Set(values.flatMap((v, i) => (v === best ? [i] : [])));
}
