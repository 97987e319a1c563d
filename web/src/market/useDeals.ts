// The market's arbitrage groups as server state: one request for the whole market (not per
// row), cached for a few minutes; they give both the "save N%" badges and the deals strip.
// Asked only once the first offers are on screen, so it never delays them.
import { useQuery } from "@tanstack/react-query";
import { useCallback, useMemo } from "react";

import { api } from "../api/client";
import { unwrap } from "../api/errors";
import type { Offer } from "../api/types";
import { mediansOf, savingVsMedian } from "./deals";

export function useDeals(enabled: boolean) {
  const query = useQuery({
    enabled,
    queryKey: ["arbitrage", "opportunities"],
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/arbitrage/opportunities", { params: { query: { limit: 1000 } }, signal })),
    staleTime: 5 * 60_000,
  });
  const medians = useMemo(() => mediansOf(query.data?.items ?? []), [query.data]);
  const savingOf = useCallback((offer: Offer) => savingVsMedian(offer, medians), [medians]);
  return { ...query, savingOf };
}
