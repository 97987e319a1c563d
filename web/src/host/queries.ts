// The hosting pages' server state: query keys and the queries several pages share. Anything that
// changes a machine invalidates HOST_KEY, so the dashboard, the machine and its calendar all refresh.
import { useQuery } from "@tanstack/react-query";

import { api } from "../api/client";
import { unwrap } from "../api/errors";

export const HOST_KEY = ["host"] as const;
export const DASHBOARD_KEY = [...HOST_KEY, "dashboard"] as const;
export const machineKey = (id: number) => [...HOST_KEY, "machine", id] as const;

/** The owner's dashboard; refreshed every 30 s because agents go on and offline by themselves. */
export function useDashboard() {
  return useQuery({
    queryKey: DASHBOARD_KEY,
    queryFn: () => unwrap(api.GET("/api/v1/host/dashboard")),
    refetchInterval: 30_000,
  });
}

export function useMachine(id: number) {
  return useQuery({
    queryKey: machineKey(id),
    queryFn: () => unwrap(api.GET("/api/v1/machines/{machine_id}", { params: { path: { machine_id: id } } })),
    enabled: Number.isSafeInteger(id) && id > 0,
    refetchInterval: 30_000,
  });
}

/** The broker's base URL for the agent command: where this UI is served from (UI and API share one origin). */
export function brokerUrl(): string {
  return window.location.origin;
}
