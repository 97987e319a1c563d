// How cluster plans read on screen: durations in hours or days, and when a plan finishes.
import { dateTime } from "../app/format";

const cents = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });
const one = new Intl.NumberFormat("en-US", { maximumFractionDigits: 1 });

/** A plan's or a cluster's total, to the cent (prices per hour keep app/format's `money`). */
export function total(value: number | null | undefined): string {
  return value === null || value === undefined ? "—" : cents.format(value);
}

const sig = new Intl.NumberFormat("en-US", { maximumSignificantDigits: 3 });
const whole = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

/** Compute in PFLOP-hours: whole numbers when large, three significant digits when small. */
export function pflopHours(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  return `${Math.abs(value) >= 100 ? whole.format(value) : sig.format(value)} PFLOP-hours`;
}

/** "45 min", "3.5 h", "2 d 4 h". */
export function duration(hours: number | null | undefined): string {
  if (hours === null || hours === undefined || !Number.isFinite(hours)) return "—";
  if (hours < 1) return `${Math.max(1, Math.round(hours * 60))} min`;
  if (hours < 48) return `${one.format(hours)} h`;
  const days = Math.floor(hours / 24);
  const rest = Math.round(hours - days * 24);
  return rest ? `${days} d ${rest} h` : `${days} d`;
}

/** The moment `hours` from `from` (now), as a date and time. */
export function finishAt(hours: number | null | undefined, from: number = Date.now()): string {
  if (hours === null || hours === undefined || !Number.isFinite(hours)) return "—";
  return dateTime(new Date(from + hours * 3_600_000).toISOString());
}

export function placementLabel(placement: string): string {
  return (
    { any: "Anywhere", same_provider: "One provider", same_region: "One region", single_machine: "One machine" }[placement] ??
    placement
  );
}
