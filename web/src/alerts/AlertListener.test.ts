// Reading a notification out of a stream event: only well-formed `notification` events count.
import { describe, expect, it } from "vitest";

import { parseNotification } from "./AlertListener";

const note = { id: 3, watch_id: 1, kind: "price_below", message: "cheap: $1.5", payload: { query: "gpu=H100" }, read: false, created_at: "2026-11-24T06:00:00Z" };

describe("parseNotification", () => {
  it("reads the notification JSON of a notification event", () => {
    expect(parseNotification({ event: "notification", data: JSON.stringify(note), id: "3" })).toEqual(note);
  });

  it("ignores other events, broken JSON and objects that are not notifications", () => {
    expect(parseNotification({ event: "message", data: JSON.stringify(note), id: "3" })).toBeNull();
    expect(parseNotification({ event: "notification", data: "{", id: "3" })).toBeNull();
    expect(parseNotification({ event: "notification", data: '{"id":"3"}', id: "3" })).toBeNull();
  });
});
