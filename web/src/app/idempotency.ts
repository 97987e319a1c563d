// Idempotency keys for actions that move money or book (reservations, clusters, deposits,
// withdrawals, payouts). One key per attempt: kept across retries after a lost answer or a 5xx,
// so a retry never acts twice; renewed once the server has answered (a success, or a 4xx it
// will not change its mind about), so a corrected request is a new attempt and never replays
// the old answer. Random bytes, not crypto.randomUUID: that needs a secure context, and a server
// on a LAN address over plain HTTP is not one.
import { useMemo, useRef } from "react";

import { ApiError } from "../api/errors";

export function newIdempotencyKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export interface IdempotencyKey {
  /** The key for the request about to be sent. */
  readonly current: string;
  /** After the server's answer to it: call from onSuccess and onError. */
  answered(error?: unknown): void;
}

export function useIdempotencyKey(): IdempotencyKey {
  const key = useRef<string>("");
  if (!key.current) key.current = newIdempotencyKey();
  return useMemo(
    () => ({
      get current() {
        return key.current;
      },
      answered(error?: unknown) {
        if (error === undefined || (error instanceof ApiError && error.isClientError)) key.current = newIdempotencyKey();
      },
    }),
    [],
  );
}
