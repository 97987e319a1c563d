// The wallet's server state: one query key per resource, so a money action can invalidate
// everything it changes at once (balances, payments, transactions, chart, budgets).
import { useInfiniteQuery, useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback } from "react";

import { api } from "../api/client";
import { unwrap } from "../api/errors";
import { asJson } from "./download";
import { toQuery, type TransactionFilter } from "./filters";
import type { TransactionsPage } from "./types";

export const WALLET_KEY = ["wallet"] as const;
const PAGE = 50;

export function useWallet() {
  return useQuery({
    queryKey: [...WALLET_KEY, "summary"],
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/wallet", { signal })),
  });
}

/** Payments while any is pending are polled, so a test-async transfer settles on screen. */
export function usePayments() {
  return useQuery({
    queryKey: [...WALLET_KEY, "payments"],
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/wallet/payments", { params: { query: { limit: 20 } }, signal })),
    refetchInterval: (query) => (query.state.data?.items.some((p) => p.status === "pending") ? 5_000 : false),
  });
}

export function useTransactions(filter: TransactionFilter) {
  return useInfiniteQuery({
    queryKey: [...WALLET_KEY, "transactions", filter],
    queryFn: async ({ signal, pageParam }): Promise<TransactionsPage> =>
      asJson(
        await unwrap(
          api.GET("/api/v1/wallet/transactions", {
            params: { query: { ...toQuery(filter), limit: PAGE, before: pageParam } },
            signal,
          }),
        ),
      ),
    initialPageParam: undefined as number | undefined,
    getNextPageParam: (last: TransactionsPage) => last.next_before ?? undefined,
  });
}

export function useAnalytics(days = 30) {
  return useQuery({
    queryKey: [...WALLET_KEY, "analytics", days],
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/wallet/analytics", { params: { query: { days } }, signal })),
  });
}

export function useBudgets() {
  return useQuery({
    queryKey: [...WALLET_KEY, "budgets"],
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/wallet/budget", { signal })),
  });
}

export function useApiKeys() {
  return useQuery({
    queryKey: ["me", "api-keys"],
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/me/api-keys", { signal })),
    staleTime: 60_000,
  });
}

/** Refetch every wallet view (after money moved or a budget changed) and the costs report. */
export function useRefreshWallet(): () => Promise<void> {
  const client = useQueryClient();
  return useCallback(async () => {
    await Promise.all([
      client.invalidateQueries({ queryKey: WALLET_KEY }),
      client.invalidateQueries({ queryKey: ["costs"] }),
    ]);
  }, [client]);
}
