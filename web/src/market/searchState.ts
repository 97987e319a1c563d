// The marketplace's state in the URL, so every search can be shared and survives a reload:
//   /?q=gpu%3DH100+gpu_count%3E%3D8&sort=-price_per_hour&offer=42
// `q` is the query text as submitted, `sort` the API's sort (`field` or `-field`), `offer` the
// offer whose details are open, `view=groups` the group-by-GPU view instead of the offers list.
// Defaults are left out of the URL; other parameters are kept.
import { useCallback, useMemo } from "react";
import { useSearchParams } from "react-router";

import { DEFAULT_SORT, SORTABLE } from "./fields";

export type MarketView = "list" | "groups";

export interface SearchState {
  q: string;
  sort: string;
  offer: number | null;
  view: MarketView;
}

export interface SortOrder {
  field: string;
  desc: boolean;
}

/** Fields that read best newest or largest first when their column is first sorted. */
const FIRST_DESCENDING: ReadonlySet<string> = new Set(["updated_at", "reliability", "dlperf", "available_count"]);

export function readSearchState(params: URLSearchParams): SearchState {
  const offer = Number(params.get("offer"));
  return {
    q: (params.get("q") ?? "").trim(),
    sort: params.get("sort")?.trim() || DEFAULT_SORT,
    offer: Number.isSafeInteger(offer) && offer > 0 ? offer : null,
    view: params.get("view") === "groups" ? "groups" : "list",
  };
}

/** New URL parameters: `params` with `patch` applied, defaults removed, other keys untouched. */
export function writeSearchState(params: URLSearchParams, patch: Partial<SearchState>): URLSearchParams {
  const next = new URLSearchParams(params);
  const state = { ...readSearchState(params), ...patch };
  const q = state.q.trim();
  if (q) next.set("q", q);
  else next.delete("q");
  if (state.sort && state.sort !== DEFAULT_SORT) next.set("sort", state.sort);
  else next.delete("sort");
  if (state.offer !== null) next.set("offer", String(state.offer));
  else next.delete("offer");
  if (state.view === "groups") next.set("view", "groups");
  else next.delete("view");
  return next;
}

/** `price_per_hour`, `-price_per_hour` or `price_per_hour:desc` as a field and direction. */
export function parseSort(sort: string): SortOrder {
  let text = sort.trim() || DEFAULT_SORT;
  let desc = false;
  if (text.startsWith("-")) [text, desc] = [text.slice(1), true];
  const colon = text.indexOf(":");
  if (colon >= 0) {
    desc = text.slice(colon + 1).toLowerCase() === "desc";
    text = text.slice(0, colon);
  }
  return { field: text, desc };
}

export function formatSort(order: SortOrder): string {
  return order.desc ? `-${order.field}` : order.field;
}

/** The sort after clicking `field`'s column: the other direction if it is already sorted by it. */
export function nextSort(current: string, field: string): string {
  const order = parseSort(current);
  if (order.field === field) return formatSort({ field, desc: !order.desc });
  return formatSort({ field, desc: FIRST_DESCENDING.has(field) });
}

export function isSortable(field: string): boolean {
  return SORTABLE.has(field);
}

/**
 * The search state from the current URL and a setter. Searching and sorting add a history entry
 * (Back returns to the previous search); opening or closing an offer replaces the current one.
 */
export function useSearchState(): [SearchState, (patch: Partial<SearchState>) => void] {
  const [params, setParams] = useSearchParams();
  const state = useMemo(() => readSearchState(params), [params]);
  const update = useCallback(
    (patch: Partial<SearchState>) => {
      const onlyOffer = Object.keys(patch).every((key) => key === "offer");
      setParams((current) => writeSearchState(current, patch), { replace: onlyOffer });
    },
    [setParams],
  );
  return [state, update];
}
