// Who is using the UI: the profile from GET /api/v1/me, or null when the server wants a login.
// In local mode (`make run`) the server answers for the local owner without any login.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";

import { api } from "../api/client";
import { ApiError, unwrap } from "../api/errors";
import { onLoginChange } from "../api/login";
import type { Me } from "../api/types";

export const ME_KEY = ["me"] as const;

async function fetchMe(): Promise<Me | null> {
  try {
    return await unwrap(api.GET("/api/v1/me"));
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return null;
    throw error;
  }
}

export function useMe() {
  const client = useQueryClient();
  useEffect(() => onLoginChange(() => void client.invalidateQueries({ queryKey: ME_KEY })), [client]);
  return useQuery({ queryKey: ME_KEY, queryFn: fetchMe, staleTime: 60_000 });
}
