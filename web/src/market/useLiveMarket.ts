// Live prices while the marketplace is open: a native EventSource on GET /api/v1/offers/stream
// (it reconnects and resumes with Last-Event-ID by itself). Each batch of changes is patched
// into the cached rows of the current search in place (scroll position, selection and the open
// panel stay); changes that would reorder or change the results are counted instead, for the
// user to apply with "refresh". Changed prices flash briefly.
import { useQueryClient, type InfiniteData } from "@tanstack/react-query";
import { useCallback, useEffect, useRef, useState } from "react";

import type { OfferPage } from "../api/types";
import { patchPages, planLiveChanges } from "./liveUpdates";
import type { MarketChanges } from "./types";

const FLASH_MS = 2500;

export interface LiveMarket {
  /** Changes waiting for a refresh (they would move rows or change the results). */
  pending: number;
  /** Too much changed at once to count: the results should be reloaded. */
  reset: boolean;
  /** When the last change arrived (null: none since the page opened). */
  updatedAt: Date | null;
  /** Offers whose price just changed. */
  flashed: ReadonlySet<number>;
  connected: boolean;
  refresh: () => void;
}

const NONE: ReadonlySet<number> = new Set();

export function useLiveMarket(q: string, sort: string): LiveMarket {
  const client = useQueryClient();
  const [pending, setPending] = useState(0);
  const [reset, setReset] = useState(false);
  const [updatedAt, setUpdatedAt] = useState<Date | null>(null);
  const [flashed, setFlashed] = useState<ReadonlySet<number>>(NONE);
  const [connected, setConnected] = useState(false);
  const search = useRef({ q, sort });
  search.current = { q, sort };

  // A new search starts from fresh results: nothing is pending for it.
  useEffect(() => {
    setPending(0);
    setReset(false);
  }, [q, sort]);

  useEffect(() => {
    if (typeof EventSource === "undefined") return undefined;
    const source = new EventSource("/api/v1/offers/stream");
    let flashTimer: number | undefined;
    source.onopen = () => setConnected(true);
    source.onerror = () => setConnected(false);
    source.addEventListener("changes", (event) => {
      const { items } = JSON.parse((event as MessageEvent<string>).data) as MarketChanges;
      const key = ["offers", search.current.q, search.current.sort];
      const data = client.getQueryData<InfiniteData<OfferPage>>(key);
      const loaded = data?.pages.flatMap((page) => page.items) ?? [];
      const plan = planLiveChanges(loaded, items, search.current.q, search.current.sort);
      if (data && plan.patches.size) client.setQueryData(key, patchPages(data, plan.patches));
      // Other searches, the groups and open offers are refetched when next shown, not now.
      void client.invalidateQueries({ queryKey: ["offers"], refetchType: "none", predicate: (query) => !sameKey(query.queryKey, key) });
      void client.invalidateQueries({ queryKey: ["summary"] });
      const changed = new Set(items.map((change) => change.id));
      void client.invalidateQueries({ queryKey: ["offer"], predicate: (query) => changed.has(query.queryKey[1] as number) });
      setPending((n) => n + plan.pending);
      setUpdatedAt(new Date());
      if (plan.repriced.length) {
        setFlashed(new Set(plan.repriced));
        window.clearTimeout(flashTimer);
        flashTimer = window.setTimeout(() => setFlashed(NONE), FLASH_MS);
      }
    });
    source.addEventListener("reset", () => {
      setReset(true);
      setUpdatedAt(new Date());
      void client.invalidateQueries({ queryKey: ["summary"] });
    });
    return () => {
      window.clearTimeout(flashTimer);
      source.close();
    };
  }, [client]);

  const refresh = useCallback(() => {
    setPending(0);
    setReset(false);
    void client.invalidateQueries({ queryKey: ["offers", search.current.q, search.current.sort] });
  }, [client]);

  return { pending, reset, updatedAt, flashed, connected, refresh };
}

function sameKey(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((part, i) => part === b[i]);
}
