// Search results as server state: pages of GET /api/v1/offers, fetched with the API's cursor as
// the table scrolls, cached per (query, sort). While a new search loads, the previous results
// stay on screen.
import { infiniteQueryOptions, keepPreviousData, useInfiniteQuery } from "@tanstack/react-query";
import { useMemo } from "react";

import { api } from "../api/client";
import { unwrap } from "../api/errors";
import type { Offer } from "../api/types";

/** Rows per request: the API's default maximum page size (GP4U_SEARCH_MAX_LIMIT). */
export const PAGE_SIZE = 1000;

export function offersQuery(q: string, sort: string) {
  return infiniteQueryOptions({
    queryKey: ["offers", q, sort],
    queryFn: ({ pageParam, signal }) =>
      unwrap(
        api.GET("/api/v1/offers", {
          params: { query: { q: q || undefined, sort, limit: PAGE_SIZE, cursor: pageParam ?? undefined } },
          signal,
        }),
      ),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor ?? null,
    staleTime: 30_000,
  });
}

export function useOffers(q: string, sort: string) {
  const query = useInfiniteQuery({ ...offersQuery(q, sort), placeholderData: keepPreviousData });
  const offers = useMemo<Offer[]>(() => query.data?.pages.flatMap((page) => page.items) ?? [], [query.data]);
  return { ...query, offers };
}
