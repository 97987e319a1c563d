// The transactions filter (kind and a date range) as it lives in the URL (?kind=&from=&to=) and
// as the API takes it: `since` is the start of the first day and `until` the start of the day
// after the last, both in the browser's time zone, so "to 24 Nov" includes all of 24 Nov.
import type { EntryKind } from "./types";

export const KINDS: readonly { value: EntryKind; label: string }[] = [
  { value: "deposit", label: "Deposits" },
  { value: "withdraw", label: "Withdrawals" },
  { value: "hold", label: "Holds" },
  { value: "capture", label: "Charges" },
  { value: "void", label: "Released holds" },
  { value: "expire", label: "Expired holds" },
  { value: "payout", label: "Payouts" },
  { value: "refund", label: "Refunds" },
  { value: "earnings", label: "Host earnings" },
];

export interface TransactionFilter {
  kind: EntryKind | null;
  /** YYYY-MM-DD, as a date input gives it. */
  from: string | null;
  to: string | null;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

export function readFilter(params: URLSearchParams): TransactionFilter {
  const kind = params.get("kind");
  const from = params.get("from");
  const to = params.get("to");
  return {
    kind: KINDS.some((k) => k.value === kind) ? (kind as EntryKind) : null,
    from: from && DAY.test(from) ? from : null,
    to: to && DAY.test(to) ? to : null,
  };
}

/** `params` with the filter written in (empty parts left out), other parameters kept. */
export function writeFilter(params: URLSearchParams, filter: TransactionFilter): URLSearchParams {
  const next = new URLSearchParams(params);
  for (const key of ["kind", "from", "to"] as const) {
    const value = filter[key];
    if (value) next.set(key, value);
    else next.delete(key);
  }
  return next;
}

function localMidnight(day: string, plusDays = 0): string {
  const [year = 1970, month = 1, date = 1] = day.split("-").map(Number);
  return new Date(year, month - 1, date + plusDays).toISOString();
}

export interface TransactionQuery {
  kind?: EntryKind;
  since?: string;
  until?: string;
}

export function toQuery(filter: TransactionFilter): TransactionQuery {
  const query: TransactionQuery = {};
  if (filter.kind) query.kind = filter.kind;
  if (filter.from) query.since = localMidnight(filter.from);
  if (filter.to) query.until = localMidnight(filter.to, 1);
  return query;
}

/** A problem with the range, or null. */
export function rangeProblem(filter: TransactionFilter): string | null {
  return filter.from && filter.to && filter.from > filter.to ? "The start date is after the end date." : null;
}

export function kindLabel(kind: string): string {
  return KINDS.find((k) => k.value === kind)?.label.replace(/s$/, "") ?? kind;
}
