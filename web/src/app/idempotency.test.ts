import { act, renderHook } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import { ApiError } from "../api/errors";
import { newIdempotencyKey, useIdempotencyKey } from "./idempotency";

describe("idempotency keys", () => {
  it("are 32 hex digits, different each time", () => {
    const a = newIdempotencyKey();
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(newIdempotencyKey()).not.toBe(a);
  });

  it("stay for a retry after no answer or a server error, and change once answered", () => {
    const { result } = renderHook(() => useIdempotencyKey());
    const first = result.current.current;
    act(() => result.current.answered(new TypeError("Failed to fetch")));
    expect(result.current.current).toBe(first);
    act(() => result.current.answered(new ApiError(503, "Unavailable", "try later")));
    expect(result.current.current).toBe(first);
    act(() => result.current.answered(new ApiError(409, "BookingConflict", "taken")));
    const second = result.current.current;
    expect(second).not.toBe(first);
    act(() => result.current.answered());
    expect(result.current.current).not.toBe(second);
  });
});
