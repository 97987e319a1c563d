// Server state of the booking pages through TanStack Query: one place for the query keys (so a
// change invalidates exactly what it affects) and the reads the pages and dialogs share.
import { useQuery } from "@tanstack/react-query";

import { api } from "../api/client";
import { ApiError, unwrap } from "../api/errors";
import type { Reservation, Session } from "./types";

export const KEYS = {
  reservations: ["reservations"] as const,
  reservation: (id: number) => ["reservations", id] as const,
  sessions: ["sessions"] as const,
  session: (id: number) => ["sessions", id] as const,
  /** Shared with the wallet pages ("wallet" prefix: invalidating it refreshes their ledger too). */
  wallet: ["wallet"] as const,
  walletSummary: ["wallet", "summary"] as const,
  providers: ["providers"] as const,
  availability: (machineId: number, from: number) => ["availability", machineId, from] as const,
  machineOffer: (machineId: number) => ["machine-offer", machineId] as const,
};

/** Sessions in these states change on their own: their views refresh while open. */
export const LIVE_SESSION_STATES: readonly Session["state"][] = ["provisioning", "starting", "running", "ending"];
export const OPEN_RESERVATION_STATES: readonly Reservation["state"][] = ["pending", "active"];
const LIVE_REFRESH_MS = 3_000;
const OPEN_REFRESH_MS = 15_000;

export function isNotFound(error: unknown): boolean {
  return error instanceof ApiError && error.status === 404;
}

export function useWallet(enabled = true) {
  return useQuery({
    queryKey: KEYS.walletSummary,
    enabled,
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/wallet", { signal })),
    staleTime: 10_000,
  });
}

/** Which (source, provider) pairs can launch here and, if not, why (public provider list). */
export function useProviders(enabled = true) {
  return useQuery({
    queryKey: KEYS.providers,
    enabled,
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/providers", { signal })),
    staleTime: 5 * 60_000,
  });
}

export function useSessions() {
  return useQuery({
    queryKey: KEYS.sessions,
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/sessions", { params: { query: { limit: 200 } }, signal })),
    refetchInterval: (query) =>
      query.state.data?.items.some((s) => LIVE_SESSION_STATES.includes(s.state)) ? LIVE_REFRESH_MS : false,
  });
}

export function useSession(id: number) {
  return useQuery({
    queryKey: KEYS.session(id),
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/sessions/{session_id}", { params: { path: { session_id: id } }, signal })),
    refetchInterval: (query) => (query.state.data && LIVE_SESSION_STATES.includes(query.state.data.state) ? LIVE_REFRESH_MS : false),
  });
}

export function useReservations() {
  return useQuery({
    queryKey: KEYS.reservations,
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/reservations", { params: { query: { limit: 200 } }, signal })),
    refetchInterval: (query) =>
      query.state.data?.items.some((r) => OPEN_RESERVATION_STATES.includes(r.state)) ? OPEN_REFRESH_MS : false,
  });
}

export function useReservation(id: number) {
  return useQuery({
    queryKey: KEYS.reservation(id),
    queryFn: ({ signal }) =>
      unwrap(api.GET("/api/v1/reservations/{reservation_id}", { params: { path: { reservation_id: id } }, signal })),
    refetchInterval: (query) =>
      query.state.data && OPEN_RESERVATION_STATES.includes(query.state.data.state) ? OPEN_REFRESH_MS : false,
  });
}

/** The market offer of a host machine (its GPU and place), when it is on the market. */
export function useMachineOffer(machineId: number | undefined) {
  return useQuery({
    queryKey: KEYS.machineOffer(machineId ?? 0),
    enabled: machineId !== undefined,
    queryFn: async ({ signal }) => {
      const page = await unwrap(
        api.GET("/api/v1/offers", { params: { query: { q: `source=host instance_type="host-${machineId}" available in [true,false]`, limit: 1 } }, signal }),
      );
      return page.items[0] ?? null;
    },
    staleTime: 5 * 60_000,
  });
}
