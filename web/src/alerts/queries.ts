// The alerts' server state: watches, the notification feed and its unread count, all under one
// key so a new notification or a change refreshes every view of them.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback } from "react";

import { api } from "../api/client";
import { unwrap } from "../api/errors";

export const ALERTS_KEY = ["alerts"] as const;
export const FEED_SIZE = 50;

export function useWatches() {
  return useQuery({
    queryKey: [...ALERTS_KEY, "watches"],
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/alerts", { signal })),
  });
}

export function useNotifications() {
  return useQuery({
    queryKey: [...ALERTS_KEY, "notifications"],
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/alerts/notifications", { params: { query: { limit: FEED_SIZE } }, signal })),
  });
}

export function useUnreadCount(enabled = true) {
  return useQuery({
    queryKey: [...ALERTS_KEY, "unread"],
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/alerts/notifications/unread", { signal })),
    enabled,
    select: (data) => data.unread,
  });
}

/** The newest notification's id (0 without any): where the live stream starts. */
export function latestNotificationId(signal?: AbortSignal): Promise<number> {
  return unwrap(api.GET("/api/v1/alerts/notifications", { params: { query: { limit: 1 } }, signal })).then((page) => page.items[0]?.id ?? 0);
}

export function useRefreshAlerts(): () => Promise<void> {
  const client = useQueryClient();
  return useCallback(() => client.invalidateQueries({ queryKey: ALERTS_KEY }), [client]);
}

/** The marketplace showing a watch's query (and, when given, the offer that fired it). */
export function offersLink(query: string, offerId?: number | null): string {
  const params = new URLSearchParams();
  if (query) params.set("q", query);
  if (offerId) params.set("offer", String(offerId));
  const search = params.toString();
  return search ? `/?${search}` : "/";
}

/** A threshold to suggest: 10 % under the cheapest matching price, rounded down to the cent. */
export function suggestThreshold(cheapest: number | null | undefined): string {
  if (cheapest === null || cheapest === undefined || !(cheapest > 0)) return "";
  const cents = Math.max(1, Math.floor(cheapest * 0.9 * 100 + 1e-9));
  return (cents / 100).toFixed(2);
}
