// How market numbers read on screen. Prices arrive as exact dollar amounts and are rounded here,
// once, for display only.
const usd = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", minimumFractionDigits: 2, maximumFractionDigits: 3 });
const whole = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const one = new Intl.NumberFormat("en-US", { maximumFractionDigits: 1 });

export function money(value: number | null | undefined): string {
  return value === null || value === undefined ? "—" : usd.format(value);
}

export function count(value: number | null | undefined): string {
  return value === null || value === undefined ? "—" : whole.format(value);
}

export function number(value: number | null | undefined, unit = ""): string {
  return value === null || value === undefined ? "—" : `${one.format(value)}${unit}`;
}

export function percent(value: number | null | undefined): string {
  return value === null || value === undefined ? "—" : `${one.format(value * 100)} %`;
}

export function gpuLabel(offer: { gpu: string; gpu_variant: string | null; gpu_memory_gb: number }): string {
  return `${[offer.gpu, offer.gpu_variant].filter(Boolean).join(" ")} · ${offer.gpu_memory_gb} GB`;
}

export function place(offer: { region: string | null; country: string | null }): string {
  return [offer.region, offer.country].filter(Boolean).join(", ") || "—";
}

/** "3 min ago", "2 h ago", "5 d ago": the age of a timestamp relative to `now`. */
export function age(iso: string, now: number = Date.now()): string {
  const seconds = Math.max(0, (now - Date.parse(iso)) / 1000);
  if (!Number.isFinite(seconds)) return "—";
  if (seconds < 60) return "just now";
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86400)} d ago`;
}

export function dateTime(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}
