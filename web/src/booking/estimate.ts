// What a booking or a launch will cost and hold, computed in the browser the way the server
// does (integer micro-dollars, a started minute rounded up), so the figure the user sees while
// choosing times is the figure that will be held.
import type { Wallet } from "./types";

const MICROS = 1_000_000;

export function toMicros(dollars: number): number {
  return Math.round(dollars * MICROS);
}

export function toDollars(micros: number): number {
  return micros / MICROS;
}

/** The price of `minutes` at an hourly price, rounded up to the micro-dollar (billing.cost_of). */
export function costMicros(pricePerHour: number, minutes: number): number {
  const price = toMicros(pricePerHour);
  return Math.ceil((price * minutes) / 60);
}

/** Whole minutes of a launch of `hours`, rounded up like the server (at least one). */
export function launchMinutes(hours: number): number {
  return Math.max(1, Math.ceil(Math.round(hours * 60 * 1e6) / 1e6));
}

export interface Estimate {
  minutes: number;
  /** The whole quote, held on the wallet now (dollars). */
  held: number;
  /** Spendable now, before this hold; null while the wallet is unknown. */
  available: number | null;
  /** Spendable after the hold (negative: not enough). */
  availableAfter: number | null;
  /** What the monthly budget leaves; null without a budget. */
  budgetLeft: number | null;
  /** Why the server would refuse the hold, if it would. */
  problem: "insufficient_funds" | "over_budget" | null;
}

/** The quote of `minutes` at `pricePerHour` against the wallet (which may still be loading). */
export function estimate(pricePerHour: number, minutes: number, wallet: Wallet | undefined): Estimate {
  const heldMicros = minutes > 0 ? costMicros(pricePerHour, minutes) : 0;
  const availableMicros = wallet ? toMicros(wallet.available) : null;
  const budgetMicros = wallet?.budget ? toMicros(wallet.budget.remaining) : null;
  let problem: Estimate["problem"] = null;
  if (availableMicros !== null && heldMicros > availableMicros) problem = "insufficient_funds";
  else if (budgetMicros !== null && heldMicros > budgetMicros) problem = "over_budget";
  return {
    minutes,
    held: toDollars(heldMicros),
    available: availableMicros === null ? null : toDollars(availableMicros),
    availableAfter: availableMicros === null ? null : toDollars(availableMicros - heldMicros),
    budgetLeft: budgetMicros === null ? null : toDollars(budgetMicros),
    problem,
  };
}

/** "1 h 30 min", "45 min", "2 d 3 h": a duration in minutes for people. */
export function duration(minutes: number): string {
  const m = Math.max(0, Math.round(minutes));
  if (m < 60) return `${m} min`;
  const days = Math.floor(m / 1440);
  const hours = Math.floor((m % 1440) / 60);
  const rest = m % 60;
  if (days > 0) return [`${days} d`, hours ? `${hours} h` : ""].filter(Boolean).join(" ");
  return [`${hours} h`, rest ? `${rest} min` : ""].filter(Boolean).join(" ");
}

/**
 * What cancelling a reservation now gives back (dollars): before its start, everything still
 * held; after it, what is held less the minutes started so far that are not paid yet.
 */
export function cancelRefund(
  r: { state: string; start: string; price_per_hour: number; held: number; paid: number },
  now: number,
): number {
  if (r.state === "pending") return r.held;
  if (r.state !== "active") return 0;
  const started = Math.max(0, Math.ceil((now - Date.parse(r.start)) / 60_000 - 1e-9));
  const owed = costMicros(r.price_per_hour, started) - toMicros(r.paid);
  return toDollars(Math.max(0, toMicros(r.held) - Math.max(0, owed)));
}
