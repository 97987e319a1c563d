// The SSE parser: events, ids, comments, multi-line data and line endings split across chunks.
import { describe, expect, it } from "vitest";

import { createSseParser, type SseEvent } from "./sse";

function parse(chunks: string[], lastEventId?: string) {
  const events: SseEvent[] = [];
  const parser = createSseParser((e) => events.push(e), lastEventId);
  for (const chunk of chunks) parser.push(chunk);
  return { events, parser };
}

describe("createSseParser", () => {
  it("reads the server's notification events and keeps the last id", () => {
    const { events, parser } = parse(['id: 7\nevent: notification\ndata: {"id":7}\n\n', 'id: 8\nevent: notification\ndata: {"id":8}\n\n']);
    expect(events).toEqual([
      { event: "notification", data: '{"id":7}', id: "7" },
      { event: "notification", data: '{"id":8}', id: "8" },
    ]);
    expect(parser.lastEventId).toBe("8");
  });

  it("ignores comments (the keep-alive) and dispatches only on a blank line", () => {
    const { events } = parse([": keep-alive\n\n", "data: half"]);
    expect(events).toEqual([]);
  });

  it("joins data lines, defaults the event name and strips one leading space", () => {
    const { events } = parse(["data:  two spaces\ndata:b\n\n"]);
    expect(events).toEqual([{ event: "message", data: " two spaces\nb", id: "" }]);
  });

  it("handles events and CRLF line endings split anywhere across chunks", () => {
    const text = "id: 3\r\nevent: notification\r\ndata: x\r\n\r\nid: 4\rdata: y\r\r";
    for (let cut = 1; cut < text.length; cut++) {
      const { events } = parse([text.slice(0, cut), text.slice(cut)]);
      expect(events, `cut at ${cut}`).toEqual([
        { event: "notification", data: "x", id: "3" },
        { event: "message", data: "y", id: "4" },
      ]);
    }
  });

  it("starts from a given id, takes retry, and keeps an id sent without data", () => {
    const { events, parser } = parse(["retry: 2500\nid: 12\n\n"], "10");
    expect(events).toEqual([]);
    expect(parser.lastEventId).toBe("12");
    expect(parser.retry).toBe(2500);
    expect(parse([], "10").parser.lastEventId).toBe("10");
  });
});
