// Live market changes applied to the loaded search results (pure). A change is patched into its
// row in place when that cannot move the row or take it out of the results (the user keeps
// their place); otherwise it only counts towards "N updates: refresh", so rows never move under
// the user. New offers always count (they may join the results).
import type { InfiniteData } from "@tanstack/react-query";

import type { Offer, OfferPage } from "../api/types";
import { parseQuery } from "./query";
import { parseSort } from "./searchState";
import type { OfferChange } from "./types";

const PRICE_FIELDS: ReadonlySet<string> = new Set(["price_per_hour", "price_per_gpu_hour"]);

export interface LivePlan {
  /** Changes to patch into loaded rows, by offer id. */
  patches: Map<number, OfferChange>;
  /** Patched offers whose price changed (to flash). */
  repriced: number[];
  /** Changes that would reorder or change the result set. */
  pending: number;
}

function priceMoved(offer: Offer, change: OfferChange): boolean {
  return offer.price_per_hour !== change.price_per_hour || offer.price_per_gpu_hour !== change.price_per_gpu_hour;
}

/** Would the row at `index`, with `value` for the sort field, still sit between its neighbours? */
function staysInPlace(offers: readonly Offer[], index: number, field: keyof Offer, desc: boolean, value: number): boolean {
  const before = offers[index - 1]?.[field];
  const after = offers[index + 1]?.[field];
  const inOrder = (a: unknown, b: unknown) => typeof a !== "number" || typeof b !== "number" || (desc ? a >= b : a <= b);
  return inOrder(before, value) && inOrder(value, after);
}

export function planLiveChanges(offers: readonly Offer[], changes: readonly OfferChange[], q: string, sort: string): LivePlan {
  const plan: LivePlan = { patches: new Map(), repriced: [], pending: 0 };
  const position = new Map(offers.map((o, i) => [o.id, i]));
  const filtered = new Set(parseQuery(q).terms.map((t) => t.field));
  const order = parseSort(sort);
  for (const change of changes) {
    const index = position.get(change.id);
    if (index === undefined) {
      if (change.new) plan.pending += 1;
      continue;
    }
    const offer = offers[index]!;
    const moved = priceMoved(offer, change);
    const leaves = offer.available !== change.available && !filtered.has("available");
    const refiltered =
      (moved && [...PRICE_FIELDS].some((f) => filtered.has(f))) || (offer.stale !== change.stale && filtered.has("stale"));
    const reordered =
      order.field === "updated_at" ||
      (moved && PRICE_FIELDS.has(order.field) && !staysInPlace(offers, index, order.field as keyof Offer, order.desc, change[order.field as "price_per_hour"]));
    if (leaves || refiltered || reordered) {
      plan.pending += 1;
      continue;
    }
    if (moved || offer.stale !== change.stale || offer.available !== change.available) {
      plan.patches.set(change.id, change);
      if (moved) plan.repriced.push(change.id);
    }
  }
  return plan;
}

/** The cached pages with the patches applied (untouched pages and rows keep their identity). */
export function patchPages(data: InfiniteData<OfferPage>, patches: ReadonlyMap<number, OfferChange>): InfiniteData<OfferPage> {
  if (patches.size === 0) return data;
  return {
    ...data,
    pages: data.pages.map((page) => {
      if (!page.items.some((o) => patches.has(o.id))) return page;
      return {
        ...page,
        items: page.items.map((offer) => {
          const change = patches.get(offer.id);
          if (!change) return offer;
          return {
            ...offer,
            price_per_hour: change.price_per_hour,
            price_per_gpu_hour: change.price_per_gpu_hour,
            available: change.available,
            stale: change.stale,
            updated_at: change.updated_at,
          };
        }),
      };
    }),
  };
}
