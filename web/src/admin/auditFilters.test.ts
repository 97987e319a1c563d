// The audit log's URL filters: only well-formed values reach the API.
import { describe, expect, it } from "vitest";

import { auditFilters } from "./auditFilters";

describe("auditFilters", () => {
  it("keeps well-formed filters and converts the start time to an instant", () => {
    const f = auditFilters(new URLSearchParams("action=session.launch&provider=vastai&session_id=12&since=2026-11-02T10:00"));
    expect(f.action).toBe("session.launch");
    expect(f.provider).toBe("vastai");
    expect(f.session_id).toBe(12);
    expect(f.since).toBe(new Date("2026-11-02T10:00").toISOString());
  });

  it("drops blank and malformed values", () => {
    expect(auditFilters(new URLSearchParams("action=%20&session_id=abc&since=never"))).toEqual({});
  });
});
