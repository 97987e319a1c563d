// The clusters' server state: your clusters page by page and one cluster, both polled while a
// cluster is live, and starting or stopping one (which refreshes the list, the cluster and the
// wallet, whose hold it changes).
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { api } from "../api/client";
import { ApiError, unwrap } from "../api/errors";
import type { components } from "../api/schema";

export const CLUSTERS_KEY = ["clusters"] as const;

export type Cluster = components["schemas"]["ClusterOut"];
export type ClusterState = Cluster["state"];
export type ClusterMember = Cluster["members"][number];

export const LIVE_STATES: readonly ClusterState[] = ["starting", "running", "ending"];
export const ENDED_STATES: readonly ClusterState[] = ["completed", "failed", "stopped"];
const LIVE_REFRESH_MS = 3_000;
const PAGE = 20;

export type ListFilter = "all" | "active" | "ended";

const FILTER_STATES: Record<ListFilter, ClusterState[] | undefined> = {
  all: undefined,
  active: ["planned", "starting", "running", "ending"],
  ended: ["completed", "failed", "stopped"],
};

export function useClusters(filter: ListFilter) {
  return useInfiniteQuery({
    queryKey: [...CLUSTERS_KEY, "list", filter],
    queryFn: ({ signal, pageParam }) =>
      unwrap(
        api.GET("/api/v1/clusters", {
          params: { query: { state: FILTER_STATES[filter], before: pageParam, limit: PAGE } },
          signal,
        }),
      ),
    initialPageParam: undefined as number | undefined,
    getNextPageParam: (last) => last.next_before ?? undefined,
    refetchInterval: (query) =>
      query.state.data?.pages.some((p) => p.items.some((c) => LIVE_STATES.includes(c.state))) ? LIVE_REFRESH_MS * 2 : false,
  });
}

export function useCluster(id: number) {
  return useQuery({
    queryKey: [...CLUSTERS_KEY, "one", id],
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/clusters/{cluster_id}", { params: { path: { cluster_id: id } }, signal })),
    refetchInterval: (query) => (query.state.data && LIVE_STATES.includes(query.state.data.state) ? LIVE_REFRESH_MS : false),
    retry: (failures, error) => failures < 2 && !(error instanceof ApiError && error.isClientError),
  });
}

export function useClusterAction(id: number, action: "start" | "stop") {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () =>
      unwrap(
        action === "start"
          ? api.POST("/api/v1/clusters/{cluster_id}/start", { params: { path: { cluster_id: id } } })
          : api.POST("/api/v1/clusters/{cluster_id}/stop", { params: { path: { cluster_id: id } } }),
      ),
    onSuccess: (cluster) => {
      client.setQueryData([...CLUSTERS_KEY, "one", id], cluster);
      void client.invalidateQueries({ queryKey: CLUSTERS_KEY });
      void client.invalidateQueries({ queryKey: ["wallet"] });
    },
  });
}

/** The badge style of a state: good, bad, in between, or plain. */
export function stateTone(state: ClusterState | ClusterMember["state"]): string {
  if (state === "running" || state === "completed" || state === "started" || state === "done") return "state state-good";
  if (state === "failed") return "state state-bad";
  if (state === "starting" || state === "ending") return "state state-warn";
  return "state";
}
